"""The loss after each update, measured beside the training, a group of steps at a time.

The original post measures the loss again after each update, on the same batch: one more
forward pass a step, a third of the step's matrix products. It changes nothing in the
training, so it need not hold the training up. The trainer copies the parameters after
each update into a group of :data:`GROUP` slots, with the batch's row numbers; a full group
goes to a thread of its own, where the network measures all its losses in one stacked
pass (``stacked_loss``: the same products and sums as ``loss``, so the same figures, bit
for bit), while the training goes on with the next group.

The groups are cut where the step count is a multiple of the group size (and where the
batch size changes): step 0-24, 25-49, ... A group's losses are recorded and announced
when the next group is handed over (or when the run ends): at fixed steps, the steps' own,
so that a run does the same things at the same steps however fast the thread is, and a
run resumed from any checkpoint announces them where the whole run would.
:meth:`StepLosses.settle` records everything measured so far at once, for a checkpoint,
without moving those fixed steps.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._parallel import run_beside, signals_held, wait_for_all
from .functions import labels_from_targets

#: Steps measured together, at most.
GROUP = 25
#: The memory a group may take: its copies of the parameters and its batches as floats
#: (for 784-50-10 and batches of 100 in float32, 12 MB for 25 steps).
GROUP_BYTES = 16 * 2**20


def group_size(iter_per_epoch: int, step_bytes: int = 0) -> int:
    """Steps measured together: :data:`GROUP`, or a quarter of an epoch if that is less
    (each step is then announced well before the evaluation measured after it is due),
    or fewer if ``step_bytes`` a step (its parameters and batch) would take more than
    :data:`GROUP_BYTES`; at least one."""
    return max(1, min(GROUP, iter_per_epoch // 4, GROUP_BYTES // max(step_bytes, 1)))


def can_measure_losses_beside(network: Any) -> bool:
    """Whether ``network`` can measure many losses in one pass (``stacked_loss``)."""
    return callable(getattr(network, "stacked_loss", None))


class StepLosses:
    """The losses after the updates of one :meth:`~dvzero.training.Trainer.run`, measured
    beside it in groups of ``group`` steps of equal batch sizes.

    :meth:`add` takes each step; :meth:`announced_by` says up to which step the losses
    are recorded in the history and may be announced.
    """

    def __init__(self, network: Any, x: Any, t: Any, history: Any, first_step: int,
                 group: int) -> None:
        self.network, self.x, self.t, self.history = network, x, t, history
        self.group = group
        self._first = first_step  # the first step of the group being filled
        self._rows: list[NDArray] = []
        self._measured = 0  # of the group being filled, recorded already (settle)
        self._slots: dict[str, NDArray] | None = None
        self._spare: dict[str, NDArray] | None = None
        #: The group on the thread: its first step and the future of its losses.
        self._flight: tuple[int, Future[NDArray]] | None = None

    def announced_by(self, step: int) -> int:
        """The steps (those before the one returned) whose losses may be announced once
        ``step`` is done: every group but the last one handed over by then. Groups end
        where a step count is a multiple of the group size, so this depends on the step
        alone, not on where the run started."""
        return max(((step + 1) // self.group - 1) * self.group, 0)

    def add(self, step: int, params: dict[str, NDArray], rows: NDArray) -> None:
        """The parameters after the update of ``step`` (copied) and its batch's rows."""
        if self._rows and len(rows) != len(self._rows[-1]):
            self._hand_over()  # a batch of another size (the end of a shuffled epoch)
        if self._slots is None:
            self._slots = {key: np.empty((self.group, *value.shape), value.dtype)
                           for key, value in params.items()}
        slot = len(self._rows)
        for key, value in params.items():
            self._slots[key][slot] = value
        self._rows.append(np.array(rows))  # a sampler may reuse its array
        if (step + 1) % self.group == 0:
            self._hand_over()

    def finish(self) -> None:
        """The run stops here: measure what is left and record everything."""
        if self._rows:
            self._hand_over()
        self._collect()

    def settle(self) -> None:
        """Record every loss measured or due so far (a checkpoint needs them all): wait for
        the group on the thread and measure the group being filled here."""
        self._collect()
        if len(self._rows) > self._measured:
            losses = self._measure(self._slots, self._rows, self._measured)
            self._record(self._first + self._measured, losses)
            self._measured = len(self._rows)

    def abandon(self, keep: bool) -> None:
        """After a failed training: with ``keep``, record every loss (as :meth:`settle`), so
        that the history stays whole; in any case, wait for the group on the thread, which
        may not outlive the run. Errors here are dropped: the training's own is the one to
        report."""
        if keep:
            with contextlib.suppress(BaseException):
                self.settle()
        if self._flight is not None:
            wait_for_all([self._flight[1]])
            self._flight = None

    def _hand_over(self) -> None:
        """Record the group on the thread, then give it the group being filled.

        A Ctrl-C anywhere in here leaves a state that :meth:`settle` completes: the group
        is handed over and forgotten here together, and measuring it again records the
        same losses at the same steps.
        """
        self._collect()
        slots, rows, start = self._slots, self._rows, self._measured
        first, end = self._first + start, self._first + len(rows)
        with signals_held():
            if start < len(rows):
                self._flight = first, run_beside(lambda: self._measure(slots, rows, start))
            # the group's copies stay its own: the spare ones are filled next
            self._slots, self._spare, self._first, self._rows, self._measured = \
                self._spare, slots, end, [], 0

    def _collect(self) -> None:
        """Record the losses of the group on the thread. If measuring them failed, the
        error is raised here and again at each call, and nothing after that group is
        recorded: no loss is ever filed under another step."""
        if self._flight is not None:
            first, future = self._flight
            wait_for_all([future])
            self._record(first, future.result())
            self._flight = None  # after recording: a Ctrl-C before it records them again

    def _record(self, first: int, losses: NDArray) -> None:
        """The losses of steps ``first``, ``first + 1``, ... into the history, in their own
        places: recording them again changes nothing."""
        losses_list = self.history.train_loss_list
        if first > len(losses_list):
            raise RuntimeError(f"the losses from step {first} on cannot be recorded before "
                               f"those of steps {len(losses_list)} to {first - 1}")
        losses_list[first:first + len(losses)] = [float(loss) for loss in losses]

    def _measure(self, slots: dict[str, NDArray], rows: list[NDArray], start: int
                 ) -> NDArray:
        """The losses of steps ``start`` on of a group, in one stacked pass."""
        count, size = len(rows) - start, len(rows[0])
        picked = np.concatenate(rows[start:])
        x = self.x[picked].reshape(count, size, -1)
        labels = labels_from_targets(self.t[picked], self.network.output_size)
        params = {key: value[start:len(rows)] for key, value in slots.items()}
        return self.network.stacked_loss(params, x, labels.reshape(count, size))
