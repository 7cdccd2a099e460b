"""What a training records (:class:`History`) and whom it tells as it goes (:class:`Callback`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(repr=False)
class History:
    """What the original post records: the loss of every step, the accuracies of every epoch.

    In Jupyter it shows its curves (:meth:`_repr_png_`); its ``repr`` sums it up.
    """

    train_loss_list: list[float] = field(default_factory=list)
    train_acc_list: list[float] = field(default_factory=list)
    #: Accuracy on the test set, once an epoch (empty for a training that leaves it unmeasured).
    test_acc_list: list[float] = field(default_factory=list)
    #: The step after which each accuracy pair was measured (0, 600, 1200, ... by default).
    epoch_steps: list[int] = field(default_factory=list)
    #: Accuracy on the validation set, once an epoch (empty without one).
    val_acc_list: list[float] = field(default_factory=list)

    def __iter__(self) -> Iterator[list[float]]:
        """The original post's three lists, so that a history unpacks into them::

            train_loss_list, train_acc_list, test_acc_list = trainer.run()
        """
        return iter((self.train_loss_list, self.train_acc_list, self.test_acc_list))

    def add_accuracies(self, step: int, accuracies: Mapping[str, float | None]) -> None:
        """Record the accuracies measured after ``step``: ``train``, and ``test`` and
        ``val`` for the sets measured (missing or ``None`` for the others)."""
        self.train_acc_list.append(accuracies["train"])
        for name, values in (("test", self.test_acc_list), ("val", self.val_acc_list)):
            if accuracies.get(name) is not None:
                values.append(accuracies[name])
        self.epoch_steps.append(step)

    def epoch(self, index: int) -> tuple[int, float, float | None]:
        """The step, train accuracy and test accuracy (``None`` if unmeasured) of the
        ``index``-th evaluation: what :meth:`Callback.on_epoch_end` is told."""
        tests = self.test_acc_list
        return self.epoch_steps[index], self.train_acc_list[index], \
            tests[index] if tests else None

    def __repr__(self) -> str:
        parts = [f"{len(self.train_loss_list)} steps"]
        if self.train_loss_list:
            parts[0] += f", last loss {self.train_loss_list[-1]:.4f}"
        if self.train_acc_list:
            last = [f"{name} acc {values[-1]:.4f}" for name, values in
                    (("train", self.train_acc_list), ("test", self.test_acc_list),
                     ("val", self.val_acc_list)) if values]
            parts.append(f"{len(self.train_acc_list)} evaluations, last {', '.join(last)}")
        return f"History({'; '.join(parts)})"

    def _repr_png_(self) -> bytes | None:
        """The loss and accuracy curves as a PNG (Jupyter's picture of a history), drawn
        as :class:`~dvzero.training.LivePlot` draws them; ``None`` for an empty history."""
        from ..plotting import draw_training, png_bytes, training_figure

        if not self.train_loss_list and not self.train_acc_list:
            return None
        figure = training_figure()
        draw_training(figure, self.train_loss_list, self.train_acc_list, self.test_acc_list,
                      self.val_acc_list)
        return png_bytes(figure)

    def as_state(self) -> dict[str, list]:
        """The lists, copied, as plain values for a checkpoint."""
        return {name: list(values) for name, values in vars(self).items()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> History:
        """The history :meth:`as_state` gave (a checkpoint without ``val_acc_list`` has none)."""
        return cls(train_loss_list=[float(v) for v in state["train_loss_list"]],
                   train_acc_list=[float(v) for v in state["train_acc_list"]],
                   test_acc_list=[float(v) for v in state["test_acc_list"]],
                   epoch_steps=[int(v) for v in state["epoch_steps"]],
                   val_acc_list=[float(v) for v in state.get("val_acc_list", [])])


class Callback:
    """Hooks called by :class:`~dvzero.training.Trainer`; override the ones you need.

    A step's hooks come in its order: ``on_epoch_end`` (at an evaluation's step), then
    ``on_step_end``. Measured in place, each hook is called at the step it describes;
    measured beside the training, later (see :mod:`dvzero.training.beside`).
    """

    def on_train_begin(self, trainer: Any) -> None:
        """Before the first step; ``trainer`` is the :class:`~dvzero.training.Trainer`."""

    def on_epoch_end(self, epoch: int, step: int, train_acc: float,
                     test_acc: float | None) -> None:
        """After the accuracies of an epoch were measured (at steps 0, 600, 1200, ...);
        ``test_acc`` is ``None`` when the test set is left unmeasured (a search's trial)."""

    def on_step_end(self, step: int, loss: float) -> None:
        """After each update, with the mini-batch loss measured after it."""

    def on_train_end(self, history: History) -> None:
        """After the last step."""
