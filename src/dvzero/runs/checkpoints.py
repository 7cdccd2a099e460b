"""When a run saves its checkpoint: at the start, every epoch, every minute of a slow run
(and when stopped, which :class:`~dvzero.runs.run.Run` does itself)."""

from __future__ import annotations

import time
from collections.abc import Callable

from ..training import Callback, Trainer

#: A checkpoint is also saved this often (seconds) during slow runs.
CHECKPOINT_EVERY_SECONDS = 60.0


def checkpoint_callback(save: Callable[[], None], every_seconds: float = CHECKPOINT_EVERY_SECONDS):
    """A callback that calls ``save()`` at the start of a new run, every epoch, and after a
    step when ``every_seconds`` have passed since the last save. Only a healthy state is
    saved (see :meth:`~dvzero.training.Trainer.is_healthy`), so that after a divergence the
    checkpoint left is one worth continuing from."""

    class Checkpoints(Callback):
        def on_train_begin(self, trainer: Trainer) -> None:
            self.trainer = trainer
            if trainer.next_step == 0:
                save()  # the starting point: a diverging first epoch can restart from it
            self.last = time.monotonic()

        def save_if_healthy(self) -> None:
            if self.trainer.is_healthy():
                save()
            self.last = time.monotonic()

        def on_epoch_end(self, epoch: int, step: int, train_acc: float, test_acc: float) -> None:
            self.save_if_healthy()

        def on_step_end(self, step: int, loss: float) -> None:
            if time.monotonic() - self.last >= every_seconds:
                self.save_if_healthy()

    return Checkpoints()
