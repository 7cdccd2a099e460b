"""Measuring beside the training (``Trainer.run(beside=True)``; ``dvzero train`` chooses it
for a network that says it pays, ``measured_beside``, with two threads): the loss after each
update and the accuracies, on a second thread at the lowest priority.

They change nothing in the training, so they need not hold it up. The parameters after each
update are copied into a group of slots, with the batch's rows; a full group goes to the
thread, which measures its losses in one stacked pass (``stacked_loss``: the same products
and sums as ``loss``, the same figures bit for bit). Once an epoch a snapshot of the network
(its arrays copied) is measured in chunks of :data:`CHUNK` rows, whenever the thread has no
group to measure.

Each step comes back to the trainer (its loss checked, its callbacks made) ``lag`` steps
after it, in order: an epoch less a step, so that an evaluation is done before the next
one starts. These are fixed steps: what the thread has not done by then (a busy machine
leaves it little time) the trainer waits for, or measures itself if the thread has not
begun it. ``state_dict`` records everything measured or still being measured
(:meth:`Beside.settle`), so a checkpoint is complete.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from .._i18n import _
from .._parallel import beside, wait_for_all
from ..functions import labels_from_targets

#: Steps whose losses are measured together, at most.
GROUP = 25
#: The memory a group's copies may take: its parameters and its batches as floats.
GROUP_BYTES = 16 * 2**20
#: Rows of an evaluation measured at a time.
CHUNK = 2000


class Beside:
    """The losses and accuracies of one :meth:`~dvzero.training.Trainer.run`, measured on
    the thread of :func:`dvzero._parallel.beside` and handed back ``lag`` steps later; the
    calls of :class:`~dvzero.training.trainer.InPlace`."""

    def __init__(self, network: Any, x: Any, t: Any, eval_sets: list, batch_size: int,
                 loss_after_update: bool, lag: int) -> None:
        needs = ["snapshot", *(["stacked_loss"] if loss_after_update else [])]
        if not all(callable(getattr(network, name, None)) for name in needs):
            raise ValueError(_("measuring beside the training needs a network with {needs}; "
                               "{network} has not")
                             .format(needs=_(" and ").join(needs),
                                     network=type(network).__name__))
        self.network, self.x, self.t, self.eval_sets = network, x, t, eval_sets
        self.loss_after_update, self.lag = loss_after_update, lag
        step_bytes = sum(value.nbytes for value in network.params.values()) + \
            batch_size * x[:1].nbytes
        #: Steps measured together: at most GROUP, half the lag (the thread then has time
        #: to begin a group before it is due), and GROUP_BYTES of copies.
        self.group = max(1, min(GROUP, lag // 2, GROUP_BYTES // step_bytes))
        self._steps: list[int] = []  # the group being filled: its steps,
        self._rows: list[NDArray] = []  # their batches' rows,
        self._slots: dict[str, NDArray] | None = None  # and their parameters
        self._spare: list[dict[str, NDArray]] = []  # slots free to be filled again
        self._groups: deque[_Group] = deque()  # handed over, in order
        self._losses: deque[tuple[int, float]] = deque()  # measured, not handed back
        self._evaluations: dict[int, _Evaluation] = {}  # by step
        self._chunks: deque = deque()  # (evaluation, name, start, stop) not yet started
        self._last: Future | None = None  # the work handed to the thread last

    def loss(self, step: int, x: NDArray, t: NDArray, rows: NDArray) -> None:
        """The loss of ``step`` after its update, on its batch (``rows`` of the training
        set), or that of the gradient's forward pass."""
        if not self.loss_after_update:
            self._losses.append((step, float(self.network.last_loss)))
            return
        if self._rows and (len(self._rows) == self.group or len(rows) != len(self._rows[-1])):
            self._hand_over()  # a full group (or a batch of another size), before this step
        if self._slots is None:
            self._slots = self._spare.pop() if self._spare else {
                key: np.empty((self.group, *value.shape), value.dtype)
                for key, value in self.network.params.items()}
        for key, value in self.network.params.items():
            self._slots[key][len(self._steps)] = value
        self._steps.append(step)
        self._rows.append(np.array(rows))  # a sampler may reuse its array

    def accuracies(self, step: int) -> None:
        """The accuracies of the network as it is after ``step``, measured on a snapshot."""
        evaluation = _Evaluation(self.network.snapshot(), self.eval_sets)
        self._evaluations[step] = evaluation
        self._chunks.extend((evaluation, name, start, min(start + CHUNK, len(x)))
                            for name, x, _ in self.eval_sets for start in range(0, len(x), CHUNK))

    def ready(self, step: int) -> Iterator[tuple[int, float, dict[str, float] | None]]:
        """The steps up to ``step - lag`` not yet handed back, measured (waiting for the
        thread if it is not done): ``(step, loss, accuracies or None)``, in order. The
        thread, if idle, is given the next chunk of an evaluation."""
        if self._chunks and (self._last is None or self._last.done()):
            self._start_chunk()
        return self._take(step - self.lag)

    def settle(self) -> Iterator[tuple[int, float, dict[str, float] | None]]:
        """Every step handed in and not yet handed back, measured."""
        return self._take(math.inf)

    def close(self) -> None:
        """Start nothing more, and wait for the thread: nothing of this run outlives it."""
        self._chunks.clear()
        for group in self._groups:
            group.future.cancel()
        wait_for_all([beside(lambda: None)])  # the thread works in turn: then nothing is left

    def _hand_over(self) -> None:
        """Give the thread the group being filled, once the group before it is measured:
        one group at a time waits for the thread, so memory stays bounded."""
        self._collect(math.inf)
        steps, rows, slots = self._steps, self._rows, self._slots
        self._last = beside(lambda: self._stacked_losses(slots, rows))
        self._groups.append(_Group(steps, rows, slots, self._last))
        self._steps, self._rows, self._slots = [], [], None

    def _stacked_losses(self, slots: dict[str, NDArray], rows: list[NDArray]) -> NDArray:
        """The losses of a group, in one stacked pass (on the thread)."""
        count, picked = len(rows), np.concatenate(rows)
        x = self.x[picked].reshape(count, len(rows[0]), -1)
        labels = labels_from_targets(self.t[picked], self.network.output_size)
        params = {key: value[:count] for key, value in slots.items()}
        return self.network.stacked_loss(params, x, labels.reshape(count, -1))

    def _start_chunk(self) -> None:
        evaluation, name, start, stop = self._chunks.popleft()
        self._last = beside(lambda: evaluation.count(name, start, stop))
        evaluation.futures.append(self._last)

    def _collect(self, until: float) -> None:
        """Take the losses of the groups measured, and of those with steps up to ``until``:
        waiting for the thread, or measuring here a group it has not begun."""
        while self._groups and (self._groups[0].future.done() or self._groups[0].steps[0] <= until):
            group = self._groups[0]
            if group.future.cancel():  # the thread has not begun it: here, then
                losses = self._stacked_losses(group.slots, group.rows)
            else:
                losses = group.future.result()  # its error is raised here, at each call
            self._groups.popleft()
            self._losses.extend(zip(group.steps, map(float, losses), strict=True))
            self._spare.append(group.slots)

    def _take(self, until: float) -> Iterator[tuple[int, float, dict[str, float] | None]]:
        """The steps up to ``until``, measured, in order, each taken as it is handed back
        (an error on the way leaves the rest to take)."""
        if self._steps and self._steps[0] <= until:
            self._hand_over()  # a step due is in the group being filled
        self._collect(until)
        while self._losses and self._losses[0][0] <= until:
            step, loss = self._losses[0]
            evaluation = self._evaluations.get(step)
            accuracies = None if evaluation is None else self._accuracies(evaluation)
            self._losses.popleft()
            self._evaluations.pop(step, None)
            yield step, loss, accuracies

    def _accuracies(self, evaluation: _Evaluation) -> dict[str, float]:
        """An evaluation's accuracies: the chunks the thread has not begun (it is late: a
        busy machine) counted here, on a copy of the snapshot, then the rest waited for."""
        copy = None
        while self._chunks and self._chunks[0][0] is evaluation:
            _, name, start, stop = self._chunks[0]
            copy = copy or evaluation.network.snapshot()
            evaluation.count(name, start, stop, copy)
            self._chunks.popleft()
        return evaluation.result()


class _Group(NamedTuple):
    """Steps whose losses are measured together: their batches' rows, their parameters'
    copies (the slots) and the future of the losses."""

    steps: list[int]
    rows: list[NDArray]
    slots: dict[str, NDArray]
    future: Future


class _Evaluation:
    """The accuracies of a snapshot, counted chunk by chunk."""

    def __init__(self, network: Any, eval_sets: list) -> None:
        self.network = network
        self.sets = {name: (x, t) for name, x, t in eval_sets}
        self.correct: dict[tuple[str, int], int] = {}  # by chunk: (set, first row)
        self.futures: list[Future] = []

    def count(self, name: str, start: int, stop: int, network: Any = None) -> None:
        """Count the right answers of rows ``start`` to ``stop`` of set ``name``, with the
        snapshot or, off the thread, a copy of it (its layers keep what they saw)."""
        x, t = self.sets[name]
        accuracy = (network or self.network).accuracy(x[start:stop], t[start:stop])
        self.correct[name, start] = round(accuracy * (stop - start))

    def result(self) -> dict[str, float]:
        """The accuracies, as ``accuracy`` measures them in place (waiting for the
        chunks); a chunk's error is raised here."""
        wait_for_all(self.futures)
        for future in self.futures:
            future.result()
        correct = {name: sum(n for (chunk, _), n in self.correct.items() if chunk == name)
                   for name in self.sets}
        return {name: (correct[name] / float(len(x)) if len(x)
                       else self.network.accuracy(x, t))  # its error for an empty set
                for name, (x, t) in self.sets.items()}
