"""The progress of ``dvzero train`` and ``dvzero experiment``: a tqdm bar on stderr (a
widget under the cell in Jupyter), the original post's epoch lines on stdout, and the
projected time of a numerical-gradient run.

The library reports through :class:`~dvzero.training.Callback`; this turns the reports
into text.
"""

from __future__ import annotations

import sys
import time

from .._format import duration
from .._i18n import _


def progress(steps: int, hide: bool, label: str | None = None, lines: bool = True,
              numerical: str | None = None):
    """A callback reporting a training of ``steps`` steps: a bar (hidden if ``hide``; one
    with a ``label`` is cleared when done), the epoch lines if ``lines``, and for a
    ``numerical`` gradient the time projected after the first step."""
    from ..training import Callback

    tqdm = bar_class()

    class Progress(Callback):
        def on_train_begin(self, trainer) -> None:
            self.trainer, self.step_start = trainer, time.perf_counter()
            self.bar = tqdm(total=steps, initial=trainer.steps_announced, unit=_("step"),
                            desc=label, leave=label is None, dynamic_ncols=True, disable=hide,
                            file=sys.stderr)

        def on_epoch_end(self, epoch: int, step: int, train_acc: float, test_acc: float) -> None:
            # The original post's line, as its code prints it, in both languages (compared
            # with the post's output, and read by scripts); then val.
            val = self.trainer.history.val_acc_list
            names, values = ("train acc, test acc", f"{train_acc}, {test_acc}") if not val \
                else ("train acc, test acc, val acc", f"{train_acc}, {test_acc}, {val[epoch]}")
            if test_acc is None:  # a search's trial, resumed: it never measures the test set
                names, values = "train acc, val acc", f"{train_acc}, {val[epoch]}"
            if lines:
                self.bar.write(f"{step}  {names} | {values}", file=sys.stdout)

        def on_step_end(self, step: int, loss: float) -> None:
            if step == 0 and numerical and steps > 1:
                first = time.perf_counter() - self.step_start
                structured = "structured" in self.trainer.network.numerical_methods
                projection = (_("numerical gradient ({method}): the first step took {first}; "
                                "{steps} steps will take about {total} (faster: "
                                "--gradient backprop)")
                              if numerical == "structured" or not structured else
                              _("numerical gradient ({method}): the first step took {first}; "
                                "{steps} steps will take about {total} (faster: --numerical "
                                "structured computes the same differences ~100x faster)"))
                self.bar.write(projection.format(method=numerical, first=duration(first),
                                                 steps=steps, total=duration(first * steps)),
                               file=sys.stdout)
            self.bar.update(1)
            if step % 50 == 0 or step == steps - 1:
                self.bar.set_postfix({_("loss"): f"{loss:.4f}"}, refresh=False)

        def on_train_end(self, history) -> None:
            self.bar.close()

    return Progress()


def bar_class() -> type:
    """tqdm's bar for where the program runs (:mod:`tqdm.auto`): the usual one in a
    terminal, a notebook widget in Jupyter; there, without ipywidgets (which the widget
    needs, and dvzero does not), the usual one, as text under the cell."""
    from tqdm.auto import tqdm

    notebook = sys.modules.get("tqdm.notebook")  # imported by tqdm.auto in Jupyter only
    if notebook is not None and issubclass(tqdm, notebook.tqdm):
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            from tqdm.std import tqdm
    return tqdm
