"""``dvzero plot`` and ``dvzero data``: the pictures of a finished run drawn again from its
files (:func:`plot_run`), and sample digits of each class of a dataset
(:func:`draw_data_samples`)."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import plotting
from .._i18n import _
from ..data import load_mnist
from ..errors import UsageError
from ..networks import load_network
from ..runs.config import is_number
from ..runs.data import validation_rows
from ..runs.files import SHIPPED_DATA, find_model, read_summary, recorded_data_dir
from ..runs.pictures import draw_curves, draw_filters, draw_test_pictures
from .evaluate import check_fits


@dataclass(frozen=True)
class Pictures:
    """What :func:`plot_run` drew: the run directory and the files written there."""

    run_dir: Path
    files: list[str]
    data_dir: str | None


def plot_run(run_dir: str | os.PathLike[str],
             data_dir: str | os.PathLike[str] | None = None) -> Pictures:
    """Draw the pictures of a finished run again, into its directory: the accuracy and
    loss curves (from ``summary.json`` and ``metrics.csv``), a convolutional network's
    filters, and :data:`~dvzero.runs.pictures.TEST_PICTURES` (the network on the test set
    of ``data_dir``, by default the data it was trained on; for a run that left the test
    set unmeasured, a search's trial, on the validation set it split from the training
    images)."""
    source = find_model(run_dir)
    if source.run_dir is None or not Path(run_dir).is_dir():
        raise UsageError(_("{path}: not a run directory (one that 'dvzero train' wrote, with "
                           "its summary.json)").format(path=run_dir))
    data_dir = recorded_data_dir(source) if data_dir is None else str(data_dir)
    summary = read_summary(source.run_dir)
    if summary is None or not all(isinstance(summary.get(name), list)
                                  for name in ("train_acc_list", "test_acc_list")):
        raise UsageError(_("{path}: not a dvzero run summary (no accuracy lists)")
                         .format(path=source.run_dir / "summary.json"))
    losses = _losses(source.run_dir / "metrics.csv")
    network = load_network(source.params_file)
    config = summary.get("config", {})
    title = f"{network.name}, {config.get('optimizer', '')} lr {config.get('lr', '')}"
    files = draw_curves(source.run_dir, summary, losses, title)
    held_out, (x_held, t_held) = _held_out(source.run_dir, config,
                                           load_mnist(normalize=True, data_dir=data_dir))
    check_fits(network, source.params_file, x_held, t_held, data_dir)
    if isinstance(config.get("seed"), int):
        files += draw_filters(source.run_dir, network, config["seed"], title)
    files += draw_test_pictures(source.run_dir, network, x_held.astype(network.dtype), t_held,
                                title, held_out)
    return Pictures(source.run_dir, files, data_dir)


def _held_out(run_dir: Path, config: dict, data: tuple) -> tuple[str, tuple]:
    """The labelled images to draw the network's answers on, and their name: the test set
    of ``data`` (``load_mnist``'s pair of pairs), or for a run that left the test set
    unmeasured, the validation set, split from the training images as the run split them."""
    (x_train, t_train), test = data
    if config.get("measure_test", True):
        return "test", test
    split, seed = config.get("val_split"), config.get("seed")
    if not (is_number(split) and 0 < split < 1 and isinstance(seed, int) and len(x_train) > 1):
        raise UsageError(_("{path}: the run left its test set unmeasured, but its validation "
                           "set cannot be split again (val_split {split!r}, seed {seed!r}, "
                           "{count} training images)")
                         .format(path=run_dir / "summary.json", split=split, seed=seed,
                                 count=len(x_train)))
    rows, _kept = validation_rows(len(x_train), split, seed)
    return "validation", (x_train[rows], t_train[rows])


def _losses(path: Path) -> list[float]:
    """The ``loss`` column of a run's ``metrics.csv``."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return [float(row["loss"]) for row in csv.DictReader(handle) if row.get("loss")]
    except FileNotFoundError:
        raise UsageError(_("{path}: missing; the run directory is incomplete")
                         .format(path=path)) from None
    except (KeyError, ValueError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(_("{path}: not a dvzero metrics file ({reason})")
                         .format(path=path, reason=exc)) from None


def draw_data_samples(path: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None,
                      per_class: int = 10, seed: int = 0) -> dict[int, int]:
    """Write a grid of ``per_class`` training digits of each class, with each class's
    count, to ``path``; returns the counts."""
    (x_train, t_train), _ = load_mnist(normalize=True, data_dir=data_dir, flatten=False)
    labels = np.asarray(t_train, dtype=np.int64)
    classes = int(labels.max()) + 1
    counts = {label: int(n) for label, n in enumerate(np.bincount(labels, minlength=classes))}
    rng = np.random.default_rng(seed)
    chosen, shown = [], []
    for label in range(classes):
        where = np.flatnonzero(labels == label)
        picked = rng.choice(where, min(per_class, len(where)), replace=False) if len(where) \
            else np.array([], dtype=np.int64)
        chosen += list(picked) + [-1] * (per_class - len(picked))
        shown += [label] * per_class
    blank = np.zeros(x_train.shape[2:])
    images = [x_train[i, 0] if i >= 0 else blank for i in chosen]
    data = SHIPPED_DATA if data_dir is None else str(data_dir)  # a picture's title: English
    plotting.plot_digit_samples(path, images, shown, counts,
                                f"{data}: {len(labels):,} training images, "
                                f"{per_class} of each class", per_class)
    return counts
