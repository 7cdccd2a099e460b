"""Figures of a training run, written straight to PNG files (no window, no pyplot state).

matplotlib is imported only when a figure is drawn, so ``import dvzero`` stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ._atomic import atomic_write


def _new_figure(figsize: tuple[float, float] = (6.4, 4.8)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path: str | os.PathLike[str]) -> None:
    figure.tight_layout()
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png")


def plot_accuracy(
    path: str | os.PathLike[str],
    train_acc_list: Sequence[float],
    test_acc_list: Sequence[float],
    title: str | None = None,
) -> None:
    """The original post's plot: train and test accuracy per epoch, y from 0 to 1.

    The legend sits lower right, as in the post.
    """
    figure = _new_figure()
    axes = figure.add_subplot()
    epochs = range(len(train_acc_list))
    axes.plot(epochs, train_acc_list, marker="o", label="train acc")
    axes.plot(epochs, test_acc_list, marker="s", label="test acc", linestyle="--")
    axes.set_xlabel("epochs")
    axes.set_ylabel("accuracy")
    axes.set_ylim(0, 1.0)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right")
    if title:
        axes.set_title(title)
    _save(figure, path)


def plot_loss(
    path: str | os.PathLike[str],
    train_loss_list: Sequence[float],
    smoothing_window: int = 100,
    title: str | None = None,
) -> None:
    """Mini-batch loss per step, with a moving average over ``smoothing_window`` steps."""
    import numpy as np

    figure = _new_figure()
    axes = figure.add_subplot()
    losses = np.asarray(train_loss_list, dtype=np.float64)
    steps = np.arange(losses.size)
    axes.plot(steps, losses, linewidth=0.5, alpha=0.4, label="mini-batch loss")
    window = min(smoothing_window, losses.size)
    if window > 1:
        kernel = np.ones(window) / window
        smooth = np.convolve(losses, kernel, mode="valid")
        axes.plot(steps[window - 1 :], smooth, linewidth=1.5, label=f"mean of {window} steps")
    axes.set_xlabel("steps")
    axes.set_ylabel("loss")
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper right")
    if title:
        axes.set_title(title)
    _save(figure, path)
