"""The accuracies a training measures once an epoch: now, or beside the training.

Measured now, the training waits while the network runs over every image. Measured beside
it, the trainer hands a snapshot of the network (its parameters at that step, copied) to
a thread of its own, at the lowest priority, and goes on training on this one: on two
cores the evaluations then cost the training nothing. The snapshot gives the accuracies
the network had at that step. They are announced (to ``on_epoch_end``) an epoch later,
just before the next evaluation starts: a fixed number of steps, so that a run does the
same things at the same steps however fast the thread is. The history has them as soon
as they are asked for (:meth:`EpochEvaluations.settle`). At most one evaluation runs
beside the training at a time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from ._parallel import run_beside, wait_for_all
from ._threads import current_threads

#: One accuracy pair (or triple, with a validation set) as the trainer records it.
Accuracies = dict[str, float]


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


@dataclass
class _Evaluation:
    step: int  # measured after this step
    due: int  # announced at this step
    result: Future[Accuracies]
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
        if self.lag:
            snapshot, eval_sets = network.snapshot(), self.eval_sets
            result = run_beside(lambda: measure(snapshot, eval_sets), idle=True)
        else:
            result = Future()
            result.set_result(measure(network, self.eval_sets))
        self._started.append(_Evaluation(step, step + self.lag, result))
        if not self.lag:
            self.settle(history)

    def resume(self, history: Any, announced: int) -> None:
        """Queue the evaluations ``history`` holds beyond its first ``announced``: recorded
        before a checkpoint, not yet announced when it was saved. Each is announced at its
        own step + ``lag``, or at once if that step is past."""
        for epoch in range(announced, len(history.epoch_steps)):
            result: Future[Accuracies] = Future()
            result.set_result({"train": history.train_acc_list[epoch],
                               "test": history.test_acc_list[epoch]})
            step = history.epoch_steps[epoch]
            self._started.append(_Evaluation(step, step + self.lag, result, epoch))

    def settle(self, history: Any) -> None:
        """Record every evaluation started into ``history``, in order, waiting for the
        one beside the training if it is still running; a failed one raises here."""
        for evaluation in self._started:
            if evaluation.epoch is None:
                wait_for_all([evaluation.result])
                evaluation.epoch = _record(history, evaluation.step, evaluation.result.result())

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
            ready.append((evaluation.epoch, evaluation.step, evaluation.result.result()))
        return ready

    def abandon(self, history: Any) -> None:
        """After a failed training: wait for the evaluation beside it (none may outlive
        the run) and record those that worked; their errors are dropped, the training's
        own is the one to report."""
        while self._started:
            evaluation = self._started.popleft()
            wait_for_all([evaluation.result])
            if evaluation.epoch is None and evaluation.result.exception() is None:
                _record(history, evaluation.step, evaluation.result.result())


def _record(history: Any, step: int, accuracies: Accuracies) -> int:
    """Append one evaluation to ``history``; returns its epoch (its index there)."""
    history.train_acc_list.append(accuracies["train"])
    history.test_acc_list.append(accuracies["test"])
    if "val" in accuracies:
        history.val_acc_list.append(accuracies["val"])
    history.epoch_steps.append(step)
    return len(history.epoch_steps) - 1
