"""The accuracies a training measures once an epoch: now, or beside the training.

Measured now, the training waits while the network runs over every image. Measured beside
it, the trainer hands a snapshot of the network (its parameters at that step, copied) to
a thread of its own, at the lowest priority, and goes on training on this one: on two
cores the evaluations then cost the training nothing. When the training needs the figures
before that thread is done (a busy machine leaves it little time), it measures the rest
itself. The snapshot gives the accuracies the network had at that step. They are
announced (to ``on_epoch_end``) an epoch later, just before the next evaluation starts: a
fixed number of steps, so that a run does the same things at the same steps however fast
the thread is. The history has them as soon as they are asked for
(:meth:`EpochEvaluations.settle`). At most one evaluation runs beside the training at a
time.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._parallel import run_beside, signals_held, wait_for_all
from ._threads import current_threads

#: One accuracy pair (or triple, with a validation set) as the trainer records it.
Accuracies = dict[str, float]
#: Rows an evaluation beside the training measures at a time (``accuracy``'s own chunk).
CHUNK = 2000


def can_evaluate_beside(network: Any) -> bool:
    """Whether ``network`` can be evaluated beside its training: it offers ``snapshot()``,
    a copy with parameters of its own that the training does not touch."""
    return callable(getattr(network, "snapshot", None))


def beside_the_training(option: bool | None, gradient: str) -> bool:
    """Whether a run measures beside its steps: as ``option`` says, or (``None``) where it
    pays: backprop's fast steps, with a second thread (see
    :func:`~dvzero._threads.current_threads`)."""
    if option is None:
        return gradient == "backprop" and current_threads() > 1
    return option


def evaluation_lag(beside: bool, network: Any, iter_per_epoch: int) -> int:
    """Steps from an evaluation beside the training to its announcement: an epoch less a
    step, just before the next evaluation starts; or 0 to evaluate now (not ``beside``,
    or a network without ``snapshot()``)."""
    return max(iter_per_epoch - 1, 1) if beside and can_evaluate_beside(network) else 0


def measure(network: Any, eval_sets: Sequence[tuple[str, Any, Any]]) -> Accuracies:
    """The accuracy of ``network`` on each ``(name, x, t)`` of ``eval_sets``."""
    return {name: network.accuracy(x, t) for name, x, t in eval_sets}


class _Measured:
    """Accuracies measured already (in place, or recorded before a checkpoint)."""

    def __init__(self, accuracies: Accuracies) -> None:
        self.accuracies = accuracies

    def result(self) -> Accuracies:
        return self.accuracies

    def stop(self) -> None:
        pass


class _Beside:
    """An evaluation of a snapshot in chunks of :data:`CHUNK` rows, which the idle thread
    works through and the trainer joins when it needs the result: a starved idle thread
    (a busy machine) then delays the training by one chunk at most, not by the whole
    evaluation. The accuracy of each set is its chunks' right answers over its rows, as
    ``accuracy`` counts them in place."""

    def __init__(self, network: Any, eval_sets: Sequence[tuple[str, Any, Any]]) -> None:
        self.network = network
        self.sets = {name: (x, t) for name, x, t in eval_sets}
        self.parts = [(name, start, min(start + CHUNK, len(x)))
                      for name, x, _ in eval_sets for start in range(0, len(x), CHUNK)]
        self._lock = threading.Lock()
        self._todo = deque(self.parts)  # not yet taken
        self._left = len(self.parts)
        self._correct = dict.fromkeys(self.sets, 0)
        self._error: BaseException | None = None
        self._done = threading.Event()
        if not self.parts:
            self._done.set()
        self._helper = run_beside(self.work, idle=True)

    def work(self) -> None:
        """Measure chunks, on whichever thread calls it, until none is left to take.

        A Ctrl-C (on the trainer's thread, the only one that gets them) puts its chunk
        back and is raised: the measurement can be finished later. Anything else raised
        between taking a chunk and counting it ends the measurement with that error, so
        that :meth:`result` never waits for a chunk no one will count.
        """
        while True:
            part = None
            try:
                with signals_held(), self._lock:  # taken and known as taken, together
                    if not self._todo or self._error is not None:
                        return
                    part = self._todo.popleft()
                name, start, stop = part
                x, t = self.sets[name]
                correct = round(self.network.accuracy(x[start:stop], t[start:stop])
                                * (stop - start))
                with signals_held(), self._lock:  # counted once, and known as counted
                    self._correct[name] += correct
                    self._left -= 1
                    part = None
                    if self._left == 0:
                        self._done.set()
            except KeyboardInterrupt:
                if part is not None:
                    with self._lock:
                        self._todo.appendleft(part)
                raise
            except BaseException as exc:
                with self._lock:
                    self._error = self._error or exc
                    self._done.set()
                return

    def result(self) -> Accuracies:
        """The accuracies, measuring here the chunks not yet taken; an error raises."""
        self.work()
        self._done.wait()
        if self._error is not None:
            raise self._error
        return {name: (self._correct[name] / float(len(x)) if len(x)
                       else self.network.accuracy(x, t))  # its error for an empty set
                for name, (x, t) in self.sets.items()}

    def stop(self) -> None:
        """No more chunks; wait for the one the idle thread may be measuring. A stopped
        measurement that was not done has no result (:meth:`result` raises)."""
        with self._lock:
            self._todo.clear()
            if self._left:
                self._error = self._error or RuntimeError("the evaluation was stopped")
                self._done.set()
        wait_for_all([self._helper])


@dataclass
class _Evaluation:
    step: int  # measured after this step
    due: int  # announced at this step
    measurement: _Measured | _Beside
    epoch: int | None = None  # its index in the history, once recorded there


class EpochEvaluations:
    """The evaluations of one :meth:`~dvzero.training.Trainer.run`.

    :meth:`start` measures the network after a step: now, or beside the training on a
    snapshot (``lag`` > 0), to be announced ``lag`` steps later. :meth:`due` records
    and hands over those whose time has come; :meth:`settle` records them all.
    """

    def __init__(self, eval_sets: Sequence[tuple[str, Any, Any]], lag: int = 0) -> None:
        self.eval_sets = list(eval_sets)
        self.lag = lag
        self._started: deque[_Evaluation] = deque()  # oldest first; not yet announced

    def start(self, network: Any, step: int, history: Any) -> None:
        """Measure ``network`` as it is after ``step``."""
        self.settle(history)  # one at a time: threads and memory stay bounded
        measurement = _Beside(network.snapshot(), self.eval_sets) if self.lag else \
            _Measured(measure(network, self.eval_sets))
        self._started.append(_Evaluation(step, step + self.lag, measurement))
        if not self.lag:
            self.settle(history)

    def start_missing(self, network: Any, history: Any, step: int, iter_per_epoch: int
                      ) -> None:
        """Measure ``network`` after ``step``, the last step done, if that was an epoch's
        and ``history`` lacks its evaluation (it failed, or was interrupted, after the
        step: the network is still as the step left it)."""
        if step >= 0 and step % iter_per_epoch == 0 and history.epoch_steps[-1:] != [step]:
            self.start(network, step, history)

    def resume(self, history: Any, announced: int) -> None:
        """Queue the evaluations ``history`` holds beyond its first ``announced``: recorded
        before a checkpoint, not yet announced when it was saved. Each is announced at its
        own step + ``lag``, or at once if that step is past."""
        for epoch in range(announced, len(history.epoch_steps)):
            step = history.epoch_steps[epoch]
            accuracies = {"train": history.train_acc_list[epoch],
                          "test": history.test_acc_list[epoch]}
            self._started.append(_Evaluation(step, step + self.lag, _Measured(accuracies),
                                             epoch))

    def settle(self, history: Any, until: float = math.inf) -> None:
        """Record every evaluation started (after steps up to ``until``) into ``history``,
        in order, finishing the one beside the training here if it is still running; a
        failed one raises here."""
        for evaluation in self._started:
            if evaluation.epoch is None and evaluation.step <= until:
                evaluation.epoch = _record(history, evaluation.step,
                                           evaluation.measurement.result())

    def due(self, history: Any, step: int | None = None, before: int | None = None
            ) -> list[tuple[int, int, Accuracies]]:
        """``(epoch, step, accuracies)`` of the evaluations to announce at ``step`` (all of
        them with ``None``), recorded into ``history`` and no longer kept here; only those
        measured after a step ``before`` this one, if given (the steps announced so far)."""
        ready = []
        while self._started and (step is None or self._started[0].due <= step) and (
                before is None or self._started[0].step < before):
            if self._started[0].epoch is None:
                self.settle(history)
            evaluation = self._started.popleft()
            ready.append((evaluation.epoch, evaluation.step, evaluation.measurement.result()))
        return ready

    def abandon(self, history: Any, keep_until: float = math.inf) -> None:
        """After a failed training: finish and record the evaluations started after steps
        up to ``keep_until`` (all of them: the history stays whole; a diverged run's step:
        what was measured before the blow-up); then stop the one beside the training,
        which may not outlive the run. Their errors are dropped: the training's own is
        the one to report."""
        with contextlib.suppress(BaseException):
            self.settle(history, keep_until)
        while self._started:
            self._started.popleft().measurement.stop()


def _record(history: Any, step: int, accuracies: Accuracies) -> int:
    """Append one evaluation to ``history``; returns its epoch (its index there)."""
    history.train_acc_list.append(accuracies["train"])
    history.test_acc_list.append(accuracies["test"])
    if "val" in accuracies:
        history.val_acc_list.append(accuracies["val"])
    history.epoch_steps.append(step)
    return len(history.epoch_steps) - 1
