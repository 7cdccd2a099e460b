"""``dvzero evaluate``: the test accuracy of a trained network, on the data it was trained
on unless told otherwise."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._i18n import _
from ..data import load_mnist
from ..data.mnist import dataset_fingerprint
from ..errors import UsageError
from ..networks import load_network
from ..runs.files import describe_data, find_model, recorded_data_dir


@dataclass
class Evaluation:
    """What :func:`evaluate` measured, and on what."""

    accuracy: float
    test_size: int
    input_size: int
    params_file: Path
    #: The data evaluated on: a directory, or ``None`` for the shipped MNIST.
    data_dir: str | None
    #: Why that data: ``"given"`` (by the caller), ``"run"`` (the data the run was trained
    #: on, from its summary) or ``"default"`` (a lone file: the shipped MNIST).
    origin: str
    #: Things worth knowing about the result (data changed since training, ...).
    warnings: list[str] = field(default_factory=list)


def check_fits(network: Any, params_file: Path, x_test: Any, t_test: Any,
               data_dir: str | None) -> None:
    """Refuse test data whose pixels per image or labels do not fit ``network``."""
    if x_test.shape[1] != network.input_size:
        raise UsageError(_("{file}: the network takes {inputs} inputs but the test images have "
                           "{pixels} pixels ({data})")
                         .format(file=params_file, inputs=network.input_size,
                                 pixels=x_test.shape[1], data=describe_data(data_dir)))
    if t_test.size and int(t_test.max()) >= network.output_size:
        raise UsageError(_("{file}: the network has {outputs} outputs but the test labels go up "
                           "to {label} ({data})")
                         .format(file=params_file, outputs=network.output_size,
                                 label=int(t_test.max()), data=describe_data(data_dir)))


def evaluate(path: str | os.PathLike[str],
             data_dir: str | os.PathLike[str] | None = None) -> Evaluation:
    """Test accuracy of the network in ``path`` (a run directory or a parameter file).

    The data is ``data_dir`` when given; else, for a run, the data it was trained on (its
    ``summary.json`` says which); else the shipped MNIST. Data that does not fit the
    network (pixels per image, number of classes) is refused with
    :class:`~dvzero.errors.UsageError`.
    """
    source = find_model(path)
    warnings = [source.note] if source.note else []
    fingerprint = None
    if data_dir is not None:
        origin, data_dir = "given", str(data_dir)
    elif source.run_dir is not None:
        origin, data_dir, fingerprint = "run", recorded_data_dir(source), source.data_sha256
    else:
        origin = "default"

    network = load_network(source.params_file)
    _train, (x_test, t_test) = load_mnist(normalize=True, data_dir=data_dir)
    if fingerprint is not None and dataset_fingerprint(data_dir) != fingerprint:
        warnings.append(_("the files of {data} have changed since the run was trained on them")
                        .format(data=describe_data(data_dir)))
    check_fits(network, source.params_file, x_test, t_test, data_dir)
    accuracy = network.accuracy(x_test.astype(network.dtype, copy=False), t_test)
    return Evaluation(accuracy, int(x_test.shape[0]), int(x_test.shape[1]),
                      source.params_file, data_dir, origin, warnings)
