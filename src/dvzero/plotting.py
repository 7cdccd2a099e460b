"""Figures of a training run, written straight to PNG files (no window, no pyplot state);
the ``draw_*`` functions draw into axes or a figure given, for a notebook to show.

matplotlib is imported only when a figure is drawn, so ``import dvzero`` stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from ._atomic import atomic_write


def _new_figure(figsize: tuple[float, float] = (6.4, 4.8)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, dpi=100)
    FigureCanvasAgg(figure)
    return figure


def save_png(figure, path: str | os.PathLike[str], tight_layout: bool = True,
             **options) -> None:
    """Write ``figure`` to ``path`` as a PNG file, atomically."""
    if tight_layout:
        figure.tight_layout()
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", **options)


def draw_accuracy(axes, train_acc_list: Sequence[float], test_acc_list: Sequence[float],
                  val_acc_list: Sequence[float] | None = None,
                  final: Mapping[str, float] | None = None,
                  final_epoch: float | None = None) -> None:
    """Draw the accuracies per epoch into matplotlib ``axes`` (see :func:`plot_accuracy`);
    a training that left the test set unmeasured (a search's trial) has train and val."""
    curves = [("train", train_acc_list, "o", "-")]
    if test_acc_list or not val_acc_list:
        curves.append(("test", test_acc_list, "s", "--"))
    if val_acc_list:
        curves.append(("val", val_acc_list, "^", ":"))
    for name, values, marker, linestyle in curves:
        epochs, label = list(range(len(values))), f"{name} acc"
        if final is not None and final_epoch is not None and name in final:
            epochs, values = epochs + [final_epoch], [*values, final[name]]
            label += f" (final {final[name]:.4f})"
        axes.plot(epochs, values, marker=marker, label=label, linestyle=linestyle)
    axes.set(xlabel="epochs", ylabel="accuracy", ylim=(0, 1.0))
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right")


def draw_loss(axes, train_loss_list: Sequence[float], smoothing_window: int = 100) -> None:
    """Draw the mini-batch loss per step into matplotlib ``axes``, with a moving average
    over ``smoothing_window`` steps (see :func:`plot_loss`)."""
    import numpy as np

    losses = np.asarray(train_loss_list, dtype=np.float64)
    steps = np.arange(losses.size)
    axes.plot(steps, losses, linewidth=0.5, alpha=0.4, label="mini-batch loss")
    window = min(smoothing_window, losses.size)
    if window > 1:
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        axes.plot(steps[window - 1 :], smooth, linewidth=1.5, label=f"mean of {window} steps")
    axes.set(xlabel="steps", ylabel="loss", ylim=(0, None))
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper right")


def draw_training(figure, train_loss_list: Sequence[float], train_acc_list: Sequence[float],
                  test_acc_list: Sequence[float], val_acc_list: Sequence[float] | None = None,
                  smoothing_window: int = 100) -> None:
    """Draw a training into ``figure``, cleared first: the loss per step (left) and the
    accuracies per epoch (right), as :func:`plot_loss` and :func:`plot_accuracy` do."""
    figure.clear()
    loss, accuracy = figure.subplots(1, 2)
    draw_loss(loss, train_loss_list, smoothing_window)
    draw_accuracy(accuracy, train_acc_list, test_acc_list, val_acc_list)
    figure.tight_layout()


def training_figure():
    """An empty figure for :func:`draw_training`, wide enough for its two panels."""
    return _new_figure((10.0, 4.0))


def png_bytes(figure) -> bytes:
    """``figure`` as the bytes of a PNG file."""
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def plot_accuracy(path: str | os.PathLike[str], train_acc_list: Sequence[float],
                  test_acc_list: Sequence[float], title: str | None = None,
                  val_acc_list: Sequence[float] | None = None,
                  final: Mapping[str, float] | None = None, final_epoch: float | None = None):
    """The original post's plot: train and test accuracy per epoch, y from 0 to 1, the
    legend lower right; returns the figure.

    The accuracies of each epoch are measured as it begins, so without more a run of one
    epoch would be a single point. ``final`` (``{"train": ..., "test": ...}``, and
    ``"val"`` with a validation set: the accuracies after the last step) at ``final_epoch``
    (the epochs trained, e.g. 16.67 for 10,000 steps of 600 an epoch) carries each line on
    to where the run ended.
    """
    figure = _new_figure()
    draw_accuracy(figure.add_subplot(), train_acc_list, test_acc_list, val_acc_list, final,
                  final_epoch)
    if title:
        figure.axes[0].set_title(title)
    save_png(figure, path)
    return figure


def plot_loss(path: str | os.PathLike[str], train_loss_list: Sequence[float],
              smoothing_window: int = 100, title: str | None = None) -> None:
    """Mini-batch loss per step, with a moving average over ``smoothing_window`` steps."""
    figure = _new_figure()
    draw_loss(figure.add_subplot(), train_loss_list, smoothing_window)
    if title:
        figure.axes[0].set_title(title)
    save_png(figure, path)


# --------------------------------------------------------------------------- experiments


def _smooth(values: Sequence[float], window: int = 50):
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    window = max(1, min(window, values.size))
    return np.convolve(values, np.ones(window) / window, mode="valid"), window


def plot_loss_curves(path: str | os.PathLike[str], series: Sequence, title: str) -> None:
    """Each series' mini-batch loss, smoothed over 50 steps, on a log scale."""
    figure = _new_figure((7.0, 4.5))
    axes = figure.add_subplot()
    for one in series:
        smooth, window = _smooth(one.losses)
        axes.plot(range(window - 1, window - 1 + smooth.size), smooth, label=one.label)
    axes.set(yscale="log", xlabel="steps", ylabel=f"loss (mean of {window} steps)", title=title)
    axes.grid(True, alpha=0.3, which="both")
    axes.legend(loc="upper right")
    save_png(figure, path)


def plot_accuracy_curves(path: str | os.PathLike[str], series: Sequence, title: str,
                         x_label: str = "epochs") -> None:
    """Each series' test accuracy at its evaluation steps."""
    figure = _new_figure((7.0, 4.5))
    axes = figure.add_subplot()
    for one in series:
        axes.plot(one.epoch_steps, one.test_acc, marker=".", label=f"{one.label} (test)")
    axes.set(xlabel=x_label, ylabel="accuracy", ylim=(0, 1), title=title)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right")
    save_png(figure, path)


def plot_init(path: str | os.PathLike[str], series: Sequence, activations: dict) -> None:
    """Loss curves (top) and, per scale, histograms of each hidden layer's activations."""
    figure = _new_figure((9.0, 8.0))
    grid = figure.add_gridspec(1 + len(activations), 4, height_ratios=[1.6] + [1] * 3)
    axes = figure.add_subplot(grid[0, :])
    for one in series:
        smooth, window = _smooth(one.losses)
        axes.plot(range(window - 1, window - 1 + smooth.size), smooth, label=one.label)
    axes.set(xlabel="steps", ylabel="loss", title="Initial weights: 784-100x4-10 ReLU, SGD lr "
             "0.01\nbelow: the non-zero activations of hidden layers 1-4 before training")
    axes.legend(loc="upper right")
    axes.grid(True, alpha=0.3)
    for row, (label, layers) in enumerate(activations.items(), start=1):
        for column, values in enumerate(layers):
            ax = figure.add_subplot(grid[row, column])
            positive = values[values > 0]  # ReLU's zeros would dwarf the rest
            ax.hist(positive, bins=30, range=(0, max(float(values.max()), 1e-6)))
            ax.set_yticks([])
            ax.tick_params(labelsize=7)
            ax.set_title(f"{label}, layer {column + 1}", fontsize=8)
    save_png(figure, path)


def plot_overfitting(path: str | os.PathLike[str], series: Sequence) -> None:
    """One panel per series: train and test accuracy per epoch."""
    figure = _new_figure((10.0, 3.8))
    for i, one in enumerate(series, start=1):
        axes = figure.add_subplot(1, len(series), i)
        epochs = range(len(one.train_acc))
        axes.plot(epochs, one.train_acc, label="train acc")
        axes.plot(epochs, one.test_acc, label="test acc", linestyle="--")
        axes.set(xlabel="epochs", ylim=(0, 1.02), title=one.label)
        axes.grid(True, alpha=0.3)
        axes.legend(loc="lower right", fontsize=8)
    figure.suptitle("300 training images, 784-100x6-10 ReLU, SGD lr 0.01")
    save_png(figure, path)


def plot_search_settings(path: str | os.PathLike[str], trials: Sequence[Mapping],
                         searched: Mapping[str, str]) -> None:
    """A panel per searched setting: each finished trial's validation accuracy against its
    value. ``trials``: ``{"settings": {...}, "val_acc": ...}``; ``searched``: each setting's
    scale, ``"log"``, ``"linear"`` or ``"choice"``."""
    figure = _new_figure((3.6 * max(len(searched), 1), 3.4))
    for index, (name, scale) in enumerate(searched.items(), start=1):
        axes = figure.add_subplot(1, max(len(searched), 1), index)
        values = [trial["settings"].get(name) for trial in trials]
        if scale == "choice":
            labels = sorted({_label(value) for value in values})
            values = [labels.index(_label(value)) for value in values]
            axes.set_xticks(range(len(labels)), labels, rotation=30, fontsize=8)
        axes.scatter(values, [trial["val_acc"] for trial in trials], s=18)
        axes.set(xscale="log" if scale == "log" else "linear", xlabel=name, ylim=(0, 1),
                 ylabel="validation accuracy" if index == 1 else None)
        axes.grid(True, alpha=0.3)
    save_png(figure, path)


def _label(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def plot_search_curves(path: str | os.PathLike[str], best: Sequence[Mapping]) -> None:
    """The validation accuracy of the best trials, epoch by epoch. ``best``: ``{"trial": N,
    "epoch_steps": [...], "val_acc_list": [...]}``, best first."""
    figure = _new_figure((6.4, 4.2))
    axes = figure.add_subplot(1, 1, 1)
    for rank, trial in enumerate(best, start=1):
        axes.plot(trial["epoch_steps"], trial["val_acc_list"], marker=".",
                  label=f"#{rank}: trial {trial['trial']}")
    axes.set(xlabel="steps", ylabel="validation accuracy", ylim=(0, 1),
             title=f"the best {len(best)} trials")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right", fontsize=8)
    save_png(figure, path)


def plot_filters(path: str | os.PathLike[str], before, after, title: str | None = None) -> None:
    """A convolution's filters ``(FN, C, FH, FW)`` as small images: before training, after
    it, and the change (after minus before, mid-grey for none).

    Each filter's first channel is shown on its own grey scale, so that its pattern is
    visible whatever its size, as the book's Figure 7-24 shows SimpleConvNet's.
    """
    import numpy as np

    before = np.asarray(before, dtype=np.float64)
    after = np.asarray(after, dtype=np.float64)
    count = before.shape[0]
    columns = min(count, 16)
    rows = -(-count // columns)
    blocks = (("before training", before), ("after training", after), ("change", after - before))
    figure = _new_figure((columns * 0.6 + 0.4, len(blocks) * rows * 0.6 + 0.9))
    grid = figure.add_gridspec(len(blocks) * rows, columns, hspace=0.15, wspace=0.1)
    for block, (label, filters) in enumerate(blocks):
        for i in range(count):
            axes = figure.add_subplot(grid[block * rows + i // columns, i % columns])
            scale = {}
            if label == "change":  # on a scale centred on zero: grey where nothing changed
                largest = float(np.abs(filters[i, 0]).max()) or 1.0
                scale = {"vmin": -largest, "vmax": largest}
            axes.imshow(filters[i, 0], cmap="gray", interpolation="nearest", **scale)
            axes.set(xticks=[], yticks=[])
            if i == 0:
                axes.set_ylabel(label, fontsize=7, rotation=0, ha="right", va="center")
    figure.suptitle(f"first-layer filters{': ' + title if title else ''}", fontsize=9)
    save_png(figure, path, tight_layout=False, bbox_inches="tight")


def plot_prediction(path: str | os.PathLike[str], image, probabilities, title: str) -> None:
    """The 28x28 input a network saw, beside its ten probabilities as bars."""
    import numpy as np

    figure = _new_figure((6.4, 2.8))
    picture, bars = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    picture.imshow(np.asarray(image, dtype=np.float64), cmap="gray", vmin=0, vmax=1,
                   interpolation="nearest")
    picture.set_title("the network's input (28x28)", fontsize=8)
    picture.set(xticks=[], yticks=[])
    best = int(np.argmax(probabilities))
    colours = ["tab:blue" if digit == best else "tab:gray" for digit in range(10)]
    bars.barh(range(10), probabilities, color=colours)
    bars.set(yticks=range(10), xlim=(0, 1))
    bars.invert_yaxis()
    bars.set_xlabel("probability", fontsize=8)
    bars.set_title(f"prediction: {best}", fontsize=8)
    figure.suptitle(title, fontsize=9, parse_math=False)  # "$" in a file name is text
    save_png(figure, path)


def plot_confusion(path: str | os.PathLike[str], matrix, title: str,
                   held_out: str = "test") -> None:
    """A confusion matrix: row = the true digit, column = the network's, counts written in;
    ``held_out`` names the images counted ("validation" for a search's trial)."""
    import numpy as np

    matrix = np.asarray(matrix)
    figure = _new_figure((6.0, 5.4))
    axes = figure.add_subplot()
    # off the diagonal is where to look: a log-like scale keeps the few mistakes visible
    axes.imshow(np.log1p(matrix), cmap="Blues")
    for (true, guess), count in np.ndenumerate(matrix):
        if count:
            dark = np.log1p(count) > np.log1p(matrix.max()) / 2  # the colour scale is log
            axes.text(guess, true, str(count), ha="center", va="center", fontsize=6,
                      color="white" if dark else "black", in_layout=False)  # inside the axes
    axes.set(xticks=range(matrix.shape[1]), yticks=range(matrix.shape[0]),
             xlabel="predicted digit", ylabel="true digit")
    right = int(np.trace(matrix))
    axes.set_title(f"{title}\n{right} of {int(matrix.sum())} {held_out} images right; "
                   f"{int(matrix.sum()) - right} wrong", fontsize=8)
    save_png(figure, path)


def _image_grid(path, images, labels, title: str, columns: int, own_scale: bool = False) -> None:
    """Small images of one shape in a grid, each with a label under it.

    The grid is one picture (a mosaic with white gaps) in one set of axes, not a set of
    axes per image, which would be many times slower and larger.
    """
    import numpy as np

    tiles = [np.asarray(image, dtype=np.float64) for image in images]
    count, (height, width) = len(tiles), tiles[0].shape
    rows = max(1, -(-count // columns))
    gap_x = max(1, width // 7)
    gap_y = gap_x + (round(height * 0.45) if any(labels) else 0)  # room for the labels
    mosaic = np.full((rows * (height + gap_y), columns * (width + gap_x)), np.nan)
    figure = _new_figure((columns * 0.75 + 0.2, rows * 0.85 + 0.6))
    axes = figure.add_axes((0.02, 0.02, 0.96, 1 - 0.7 / figure.get_figheight()))  # title room
    for i, (tile, label) in enumerate(zip(tiles, labels, strict=True)):
        if own_scale:
            low, high = np.nanmin(tile), np.nanmax(tile)
            tile = (tile - low) / (high - low) if high > low else np.zeros_like(tile)
        top, left = (i // columns) * (height + gap_y), (i % columns) * (width + gap_x)
        mosaic[top:top + height, left:left + width] = np.clip(tile, 0, 1)
        if label:
            axes.text(left + (width - 1) / 2, top + height + gap_x / 2, label, fontsize=6,
                      ha="center", va="top")
    from matplotlib import colormaps

    # coloured here, as bytes: matplotlib would first resample the floats to the picture's
    # size in arrays ten times as large
    colours = colormaps["gray"].with_extremes(bad="white")
    axes.imshow(colours(mosaic, bytes=True), interpolation="nearest")
    axes.set_axis_off()
    figure.suptitle(title, fontsize=9)
    save_png(figure, path, tight_layout=False)


def plot_mistakes(path: str | os.PathLike[str], images, true, predicted, title: str,
                  held_out: str = "test") -> None:
    """The test digits (or the ``held_out`` set's) the network got wrong (images
    ``(N, 28, 28)``), each labelled ``true → predicted``."""
    labels = [f"{t} → {p}" for t, p in zip(true, predicted, strict=True)]
    if not labels:
        images, labels = [[[0.0]]], ["none wrong"]
    title = f"{title}\n{held_out} digits it gets wrong: true → predicted"
    _image_grid(path, images, labels, title, columns=10)


def plot_weights(path: str | os.PathLike[str], images, title: str, what: str) -> None:
    """First-layer weights as images, each on its own grey scale: one 28x28 picture per
    hidden unit, or a convolution's filters."""
    _image_grid(path, images, [""] * len(images), f"{title}\n{what}",
                columns=min(10, len(images)), own_scale=True)


def plot_digit_samples(path: str | os.PathLike[str], images, labels, counts, title: str,
                       per_class: int) -> None:
    """Sample digits, ``per_class`` of each class in a row (``images`` in class order),
    each row captioned with its class's count in the data."""
    captions = [f"{label}: {counts[label]:,}" if i % per_class == 0 else ""
                for i, label in enumerate(labels)]
    _image_grid(path, images, captions, title, columns=per_class)
