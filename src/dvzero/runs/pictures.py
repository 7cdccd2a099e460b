"""Pictures of a trained network: what it confuses, what it gets wrong, what it looks for.

``dvzero train`` draws them at the end of a run (:func:`draw_test_pictures`);
``dvzero plot`` draws them again (:mod:`dvzero.apps.plot`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import plotting
from .config import is_number

#: The pictures of a network on its test set (a trial's: its validation set), in the order drawn.
TEST_PICTURES = ("confusion.png", "mistakes.png", "weights.png")
#: Every picture a run directory may hold.
PICTURES = ("accuracy.png", "loss.png", "filters.png", *TEST_PICTURES)
#: How many wrong test digits mistakes.png shows at most.
MAX_MISTAKES = 60


def predicted_labels(network: Any, x: NDArray, chunk: int = 1000) -> NDArray:
    """The network's digit for each row (or image) of ``x``, ``chunk`` at a time at most,
    fewer when the network's evaluation memory budget says so (convolutional networks)."""
    chunk = network.eval_batch_size(most=chunk)
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
    return network.fresh(np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
                         ).params["W1"]


def draw_curves(run_dir: Path, summary: Mapping[str, Any], losses: list[float],
                title: str) -> list[str]:
    """Write the accuracy and loss curves into ``run_dir``; returns the names written.

    ``summary`` is what a run's ``summary.json`` holds: the accuracy lists of its epochs
    and, with its steps and ``iter_per_epoch``, the final accuracies, drawn where the run
    ended (a summary without them draws the epochs alone). A run that did not measure the
    test set (a search's trial) has train and validation accuracies only.
    """
    config = summary["config"] if isinstance(summary.get("config"), dict) else {}
    steps, per_epoch = config.get("steps"), config.get("iter_per_epoch")
    final = {name: summary[f"{name}_acc"] for name in ("train", "test", "val")
             if is_number(summary.get(f"{name}_acc"))}
    ended = steps / per_epoch if is_number(steps) and is_number(per_epoch) and \
        per_epoch > 0 else None  # the epochs trained: 16.67 for 10,000 steps of 600
    if ended is None or "train" not in final or not {"test", "val"} & final.keys():
        final, ended = None, None  # an older or partial summary: the epochs alone
    plotting.plot_accuracy(run_dir / "accuracy.png", summary["train_acc_list"],
                           summary["test_acc_list"], title=title,
                           val_acc_list=summary.get("val_acc_list") or None,
                           final=final, final_epoch=ended)
    plotting.plot_loss(run_dir / "loss.png", losses, title=title)
    return ["accuracy.png", "loss.png"]


def draw_filters(run_dir: Path, network: Any, seed: int, title: str) -> list[str]:
    """Write a convolutional network's first filters before and after training into
    ``run_dir`` (nothing for a network of rows); returns the names written."""
    if not network.takes_images:
        return []
    plotting.plot_filters(run_dir / "filters.png", starting_filters(network, seed),
                          network.params["W1"], title=title)
    return ["filters.png"]


def draw_test_pictures(run_dir: str | os.PathLike[str], network: Any, x_test: NDArray,
                       t_test: NDArray, title: str, held_out: str = "test") -> list[str]:
    """Write :data:`TEST_PICTURES` into ``run_dir``; returns the names written (the
    confusion matrix only, when the inputs are not square images). ``x_test`` and
    ``t_test`` are the test set, or for ``held_out="validation"`` the validation set of a
    run that leaves its test set unmeasured (a search's trial): the pictures of the
    network's answers say so in their title."""
    run_dir = Path(run_dir)
    labels = np.asarray(t_test).reshape(len(t_test), -1)
    labels = labels.argmax(axis=1) if labels.shape[1] > 1 else labels[:, 0].astype(np.int64)
    predicted = predicted_labels(network, x_test)
    plotting.plot_confusion(run_dir / "confusion.png",
                            confusion_matrix(labels, predicted, network.output_size), title,
                            held_out)
    side = square_side(x_test[0].size)
    weights = first_layer_images(network)
    if side is None or weights is None:
        return ["confusion.png"]
    wrong = np.flatnonzero(predicted != labels)[:MAX_MISTAKES]
    plotting.plot_mistakes(run_dir / "mistakes.png", x_test[wrong].reshape(-1, side, side),
                           labels[wrong], predicted[wrong], title, held_out)
    images, what = weights
    plotting.plot_weights(run_dir / "weights.png", images, title, what)
    return list(TEST_PICTURES)
