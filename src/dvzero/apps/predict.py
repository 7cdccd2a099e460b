"""A trained network's guess for pictures of handwritten digits.

``dvzero predict`` is :func:`load_predictor` then :func:`predict_files`: each picture is
made MNIST-like by :func:`dvzero.apps.images.read_digit`, and the network gives the ten
probabilities. Any network that takes 28x28 inputs and has ten outputs will do.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._i18n import _
from ..errors import UsageError
from .images import ImageError, read_digit


@dataclass(frozen=True)
class Prediction:
    """One picture's result: the digit, its ten probabilities and the 28x28 input seen."""

    file: str
    digit: int
    probabilities: list[float]
    image: NDArray = field(repr=False)

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "digit": self.digit, "probabilities": self.probabilities}


@dataclass(frozen=True)
class Predictor:
    """A network rebuilt from a run directory or a parameter file, ready to predict."""

    network: Any
    params_file: Path

    @property
    def name(self) -> str:
        return self.network.name

    def probabilities(self, images: NDArray) -> NDArray:
        """The ten class probabilities ``(N, 10)`` for MNIST-like images ``(N, 28, 28)``
        (every dvzero network's ``predict`` ends in softmax)."""
        rows = np.asarray(images).reshape(len(images), -1).astype(self.network.dtype)
        return np.asarray(self.network.predict(rows), dtype=np.float64)


def load_predictor(path: str | os.PathLike[str]) -> Predictor:
    """The network in ``path`` (a run directory or a parameter file); refuses one that
    does not take 28x28 pictures or does not have ten outputs."""
    from ..networks import load_network
    from ..runs import find_model

    source = find_model(path)
    network = load_network(source.params_file)
    if network.input_size != 28 * 28 or network.output_size != 10:
        raise UsageError(_("{file}: the network takes {inputs} inputs and has {outputs} "
                           "outputs; predicting digits needs 784 (28x28 pixels) and 10")
                         .format(file=source.params_file, inputs=network.input_size,
                                 outputs=network.output_size))
    return Predictor(network, source.params_file)


def predict_files(predictor: Predictor, paths: Iterable[str | os.PathLike[str]]
                  ) -> tuple[list[Prediction], list[str]]:
    """Predictions for the pictures that could be read, and one message per picture that
    could not (not an image, damaged, too large, blank), in the order given."""
    predictions, errors = [], []
    readable: list[tuple[str, NDArray]] = []
    for path in paths:
        try:
            readable.append((str(path), read_digit(path)))
        except ImageError as exc:
            errors.append(str(exc))
        except OSError as exc:
            errors.append(_("{path}: {message}").format(path=path, message=exc.strerror or exc))
    if readable:
        images = np.stack([image for _path, image in readable])
        for (name, image), row in zip(readable, predictor.probabilities(images), strict=True):
            predictions.append(Prediction(name, int(np.argmax(row)),
                                          [round(float(p), 6) for p in row], image))
    return predictions, errors


def bar_chart(probabilities: Iterable[float], width: int = 30) -> list[str]:
    """One line per digit: the digit, a bar of ``width`` blocks at most, the probability."""
    return [f"  {digit} {'█' * round(p * width):<{width}} {p:.3f}"
            for digit, p in enumerate(probabilities)]


def shown_names(predictions: Iterable[Prediction], directory: str | os.PathLike[str],
                inputs: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """The files :func:`show_predictions` writes: ``NAME-input.png`` in ``directory`` for
    each prediction, numbered (``NAME-input-2.png``) where two pictures share a name or the
    name is one of ``inputs``."""
    taken = {Path(path).resolve() for path in inputs}
    directory, names = Path(directory).resolve(), []  # compared with the inputs' full paths
    for prediction in predictions:
        stem = Path(prediction.file).stem
        target, number = directory / f"{stem}-input.png", 2
        while target in taken:
            target, number = directory / f"{stem}-input-{number}.png", number + 1
        taken.add(target)
        names.append(target)
    return names


def show_predictions(predictor: Predictor, predictions: Iterable[Prediction],
                     directory: str | os.PathLike[str],
                     inputs: Iterable[str | os.PathLike[str]] = ()) -> tuple[list[Path], list[str]]:
    """Write, for each prediction, the input the network saw beside its probabilities
    (named by :func:`shown_names`, never one of ``inputs``): the paths written, and one
    message per picture that could not be written."""
    from ..plotting import plot_prediction

    predictions = list(predictions)
    written, errors = [], []
    for prediction, target in zip(predictions, shown_names(predictions, directory, inputs),
                                  strict=True):
        # a file name may hold bytes that are not UTF-8: shown with replacement marks
        name = os.fsencode(Path(prediction.file).name).decode("utf-8", "replace")
        try:
            plot_prediction(target, prediction.image, prediction.probabilities,
                            title=f"{name}: {predictor.name}")
            written.append(target)
        except OSError as exc:
            errors.append(_("could not write the picture of {file} in {directory}: {reason}")
                          .format(file=prediction.file, directory=directory,
                                  reason=exc.strerror or exc))
    return written, errors
