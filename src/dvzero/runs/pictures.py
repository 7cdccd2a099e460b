"""Pictures of a trained network: what it confuses, what it gets wrong, what it looks for.

``dvzero train`` draws them at the end of a run (:func:`draw_test_pictures`), and
``dvzero plot RUN_DIR`` draws them again, with the curves, from the files a run left
(:func:`plot_run`). ``dvzero data`` draws sample digits of each class
(:func:`draw_data_samples`).
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import plotting
from ..errors import UsageError
from .records import check_fits, describe_data, find_model, recorded_data_dir

#: The pictures of a network on its test set, in the order drawn.
TEST_PICTURES = ("confusion.png", "mistakes.png", "weights.png")
#: How many wrong test digits mistakes.png shows at most.
MAX_MISTAKES = 60


def predicted_labels(network: Any, x: NDArray, chunk: int = 1000) -> NDArray:
    """The network's digit for each row (or image) of ``x``, ``chunk`` at a time at most,
    fewer when the network's evaluation memory budget says so (convolutional networks)."""
    from ..networks.layered import eval_batch_size

    chunk = eval_batch_size(network, most=chunk)
    return np.concatenate([np.argmax(network.predict(x[start:start + chunk]), axis=1)
                           for start in range(0, len(x), chunk)])


def confusion_matrix(labels: NDArray, predicted: NDArray, classes: int) -> NDArray:
    """``matrix[true, predicted]``: how often each true class was given each answer."""
    return np.bincount(np.asarray(labels, dtype=np.int64) * classes + predicted,
                       minlength=classes * classes).reshape(classes, classes)


def square_side(size: int) -> int | None:
    """The side of a square image of ``size`` pixels, or ``None`` if there is none."""
    side = int(round(np.sqrt(size)))
    return side if side * side == size else None


def first_layer_images(network: Any) -> tuple[NDArray, str] | None:
    """The first layer's weights as images, and what they are: a picture per hidden unit
    (the first 100), or a convolution's filters (their first channel); ``None`` when the
    inputs are not square images."""
    weights = np.asarray(network.params["W1"], dtype=np.float64)
    if weights.ndim == 4:
        return weights[:, 0], f"the {len(weights)} filters of the first convolution"
    side = square_side(weights.shape[0])
    if side is None:
        return None
    units = weights.shape[1]
    shown = min(units, 100)
    what = f"the input weights of {'the first 100 of ' if units > shown else ''}its " \
           f"{units} hidden units"
    return weights[:, :shown].T.reshape(shown, side, side), what


def starting_filters(network: Any, seed: int) -> NDArray:
    """The first convolution's filters as a run of ``network`` with ``seed`` drew them
    before training: the same class and settings, built from the run's generator."""
    from ..networks import build_network

    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    return build_network(type(network).__name__, network.config(), rng=rng).params["W1"]


def draw_test_pictures(run_dir: str | os.PathLike[str], network: Any, x_test: NDArray,
                       t_test: NDArray, title: str) -> list[str]:
    """Write :data:`TEST_PICTURES` into ``run_dir``; returns the names written (the
    confusion matrix only, when the inputs are not square images)."""
    run_dir = Path(run_dir)
    labels = np.asarray(t_test).reshape(len(t_test), -1)
    labels = labels.argmax(axis=1) if labels.shape[1] > 1 else labels[:, 0].astype(np.int64)
    predicted = predicted_labels(network, x_test)
    plotting.plot_confusion(run_dir / "confusion.png",
                            confusion_matrix(labels, predicted, network.output_size), title)
    side = square_side(x_test[0].size)
    weights = first_layer_images(network)
    if side is None or weights is None:
        return ["confusion.png"]
    wrong = np.flatnonzero(predicted != labels)[:MAX_MISTAKES]
    plotting.plot_mistakes(run_dir / "mistakes.png", x_test[wrong].reshape(-1, side, side),
                           labels[wrong], predicted[wrong], title)
    images, what = weights
    plotting.plot_weights(run_dir / "weights.png", images, title, what)
    return list(TEST_PICTURES)


@dataclass(frozen=True)
class Pictures:
    """What :func:`plot_run` drew: the run directory and the files written there."""

    run_dir: Path
    files: list[str]
    data_dir: str | None


def plot_run(run_dir: str | os.PathLike[str],
             data_dir: str | os.PathLike[str] | None = None) -> Pictures:
    """Draw the pictures of a finished run again, into its directory: the accuracy and
    loss curves (from ``summary.json`` and ``metrics.csv``) and :data:`TEST_PICTURES`
    (the network on the test set of ``data_dir``, by default the data it was trained on)."""
    from ..data import load_mnist
    from ..networks import load_network

    source = find_model(run_dir)
    if source.run_dir is None or not Path(run_dir).is_dir():
        raise UsageError(f"{run_dir}: not a run directory (one that 'dvzero train' wrote, "
                         f"with its summary.json)")
    data_dir = recorded_data_dir(source) if data_dir is None else str(data_dir)
    summary_path, metrics_path = source.run_dir / "summary.json", source.run_dir / "metrics.csv"
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        curves = summary["train_acc_list"], summary["test_acc_list"]
    except (KeyError, TypeError, ValueError):
        raise UsageError(f"{summary_path}: not a dvzero run summary (no accuracy lists)") \
            from None
    losses = _losses(metrics_path)
    network = load_network(source.params_file)
    config = summary.get("config", {})
    title = f"{type(network).__name__}, {config.get('optimizer', '')} lr {config.get('lr', '')}"
    plotting.plot_accuracy(source.run_dir / "accuracy.png", *curves, title=title,
                           val_acc_list=summary.get("val_acc_list") or None)
    plotting.plot_loss(source.run_dir / "loss.png", losses, title=title)
    _, (x_test, t_test) = load_mnist(normalize=True, data_dir=data_dir)
    check_fits(network, source.params_file, x_test, t_test, data_dir)
    files = ["accuracy.png", "loss.png"]
    if np.ndim(network.params["W1"]) == 4 and isinstance(config.get("seed"), int):
        plotting.plot_filters(source.run_dir / "filters.png",
                              starting_filters(network, config["seed"]),
                              network.params["W1"], title=title)
        files.append("filters.png")
    files += draw_test_pictures(source.run_dir, network, x_test.astype(network.dtype), t_test,
                                title)
    return Pictures(source.run_dir, files, data_dir)


def _losses(path: Path) -> list[float]:
    """The ``loss`` column of a run's ``metrics.csv``."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return [float(row["loss"]) for row in csv.DictReader(handle) if row.get("loss")]
    except FileNotFoundError:
        raise UsageError(f"{path}: missing; the run directory is incomplete") from None
    except (KeyError, ValueError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: not a dvzero metrics file ({exc})") from None


def draw_data_samples(path: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None,
                      per_class: int = 10, seed: int = 0) -> dict[int, int]:
    """Write a grid of ``per_class`` training digits of each class, with each class's
    count, to ``path``; returns the counts."""
    from ..data import load_mnist

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
    plotting.plot_digit_samples(path, images, shown, counts,
                                f"{describe_data(data_dir)}: {len(labels):,} training images, "
                                f"{per_class} of each class", per_class)
    return counts
