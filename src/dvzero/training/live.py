""":class:`LivePlot`: the loss and accuracy curves redrawn in a notebook's cell while a
training runs, as a :class:`~dvzero.training.Callback`.

Nothing here prints, and IPython is no dependency: the notebook's display is used only
when the program already runs in a Jupyter kernel.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from .._i18n import _
from .history import Callback, History


class LivePlot(Callback):
    """Redraws the mini-batch loss per step (with its moving average) beside the train and
    test accuracies per epoch: every ``every`` steps, as each epoch's accuracies arrive, and
    once more at the end if steps came after the last redraw::

        history = trainer.run(callbacks=[LivePlot(every=50)])

    Where the figure goes: after each redraw ``display(figure)`` is called with the
    matplotlib figure (also kept in :attr:`figure`). Without ``display``, in a Jupyter
    kernel, the figure is shown as a picture under the cell and replaced in place at each
    redraw (one picture, not one per redraw); elsewhere (a script, a terminal) it is only
    drawn. With ``path`` it is also written to that PNG file at each redraw, anywhere.

    Parameters
    ----------
    every
        Steps between redraws (a whole number >= 1).
    smoothing_window
        The steps the loss's moving average spans, as in :func:`dvzero.plotting.plot_loss`.
    path
        A PNG file written at each redraw, or ``None``.
    display
        Called with the figure after each redraw, instead of the notebook's display.
    """

    def __init__(self, every: int = 100, smoothing_window: int = 100,
                 path: str | os.PathLike[str] | None = None,
                 display: Callable[[Any], Any] | None = None) -> None:
        for name, value in (("every", every), ("smoothing_window", smoothing_window)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(_("{name} must be a whole number >= 1, got {value!r}")
                                 .format(name=name, value=value))
        self.every, self.smoothing_window, self.path = every, smoothing_window, path
        self.display = display
        #: The figure drawn into (``None`` until the first redraw).
        self.figure: Any = None
        #: The curves as drawn: the losses announced so far, the accuracies of each epoch.
        self.curves = History()
        #: How many times the figure was drawn.
        self.redraws = 0
        self._show: Callable[[Any], Any] | None = None
        self._trainer: Any = None
        self._new_epoch = self._undrawn = False

    def on_train_begin(self, trainer: Any) -> None:
        """Start from what the trainer's history already announced (a resumed run's
        earlier steps), and find where to show the figure."""
        history, self._trainer = trainer.history, trainer
        steps, epochs = trainer.steps_announced, trainer.epochs_announced
        self.curves = History(train_loss_list=history.train_loss_list[:steps],
                              train_acc_list=history.train_acc_list[:epochs],
                              test_acc_list=history.test_acc_list[:epochs],
                              epoch_steps=history.epoch_steps[:epochs],
                              val_acc_list=history.val_acc_list[:epochs])
        self._show = self.display if self.display is not None else notebook_display()
        self._new_epoch = self._undrawn = False

    def on_epoch_end(self, epoch: int, step: int, train_acc: float, test_acc: float) -> None:
        accuracies = {"train": train_acc, "test": test_acc}
        val = self._trainer.history.val_acc_list
        if len(val) > epoch:
            accuracies["val"] = val[epoch]
        self.curves.add_accuracies(step, accuracies)
        self._new_epoch = True  # drawn with its step's loss, in on_step_end

    def on_step_end(self, step: int, loss: float) -> None:
        self.curves.train_loss_list.append(loss)
        if self._new_epoch or (step + 1) % self.every == 0:
            self.redraw()
        else:
            self._undrawn = True

    def on_train_end(self, history: History) -> None:
        if self._undrawn:
            self.redraw()

    def redraw(self) -> None:
        """Draw the curves into :attr:`figure`, write it to ``path`` if given and show it."""
        from ..plotting import draw_training, save_png, training_figure

        if self.figure is None:
            self.figure = training_figure()
        curves = self.curves
        draw_training(self.figure, curves.train_loss_list, curves.train_acc_list,
                      curves.test_acc_list, curves.val_acc_list, self.smoothing_window)
        if self.path is not None:
            save_png(self.figure, self.path, tight_layout=False)  # draw_training laid it out
        if self._show is not None:
            self._show(self.figure)
        self.redraws += 1
        self._new_epoch = self._undrawn = False


def notebook_display() -> Callable[[Any], None] | None:
    """In a Jupyter kernel, a function that shows a figure as a PNG under the running cell,
    the first time, and replaces that picture afterwards; elsewhere ``None``.

    IPython is not imported here: a program that has not imported it is not running in it.
    A terminal IPython has no kernel, and gets ``None`` too (it would print the picture's
    repr).
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    from IPython.display import Image, display

    from ..plotting import png_bytes

    handle = None

    def show(figure: Any) -> None:
        nonlocal handle
        picture = Image(data=png_bytes(figure), format="png")
        if handle is None:
            handle = display(picture, display_id=True)
        else:
            handle.update(picture)

    return show
