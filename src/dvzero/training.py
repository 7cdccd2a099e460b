"""The learning loop of the original post, for any network: sample, differentiate, update.

Nothing here prints. Progress is reported to callbacks (see :class:`Callback`), which the
command line turns into a progress bar and the original post's per-epoch lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from .divergence import (  # noqa: F401  (the constants are re-exported)
    DIVERGENCE_FACTOR,
    DIVERGENCE_REFERENCE_SIZE,
    DIVERGENCE_WINDOW,
    check_loss,
    check_params,
    is_healthy,
    recent_mean,
)
from .errors import TrainingDiverged
from .evaluation import (
    EpochEvaluations,
    beside_the_training,
    can_evaluate_beside,
    evaluation_lag,
)
from .history import Callback, History  # noqa: F401  (re-exported)
from .optimizers import SCHEDULES, SGD, scheduled_lr
from .sampling import SAMPLINGS, fixed_sample, make_sampler
from .sampling import default_iter_per_epoch as default_iter_per_epoch  # re-exported
from .step_losses import StepLosses, can_measure_losses_beside, group_size
from .trainer_state import restore_trainer, trainer_state

GRADIENT_METHODS = ("backprop", "numerical")
#: The ways of computing numerical gradients (see DeepVisionZeroNet.numerical_gradient).
NUMERICAL_METHODS = ("naive", "structured")
#: When the loss of a step is measured: after the update, on the same batch (the original
#: post's, one more forward pass), or in the forward pass that gave the gradient (free).
LOSS_RECORDINGS = ("after_update", "forward")


class Network(Protocol):
    params: dict[str, NDArray]

    def loss(self, x: NDArray, t: NDArray) -> float: ...
    def accuracy(self, x: NDArray, t: NDArray) -> float: ...
    def gradient(self, x: NDArray, t: NDArray) -> dict[str, NDArray]: ...
    def numerical_gradient(self, x: NDArray, t: NDArray) -> dict[str, NDArray]: ...


class Optimizer(Protocol):
    def update(self, params: dict[str, NDArray], grads: dict[str, NDArray]) -> None: ...
    def state_dict(self) -> dict[str, NDArray]: ...
    def load_state_dict(self, state: dict[str, NDArray]) -> None: ...


class Trainer:
    """The original post's training loop.

    Each step draws ``batch_size`` training samples at random **with replacement** (the
    original post's ``np.random.choice(train_size, batch_size)``), computes the gradient by
    backpropagation (``gradient="backprop"``) or numerically (``"numerical"``: the
    original post's loop, or with ``numerical="structured"`` the same differences from
    cached activations, for the two-layer network), lets the
    optimizer update the parameters, and records the mini-batch loss after the update.
    Every ``iter_per_epoch`` steps, starting with step 0, it measures the accuracy on the
    full training and test sets.

    ``rng`` is a seed or :class:`numpy.random.Generator` for the mini-batches; ``None``
    uses the global ``np.random`` as the original post does.

    Beyond the original post: any network with ``params``, ``loss``, ``accuracy`` and
    ``gradient`` and any optimizer (see :mod:`dvzero.optimizers`) train here.
    ``lr_schedule`` (``"constant"``, ``"step"``, ``"cosine"``) sets the optimizer's learning
    rate before each update from ``base_lr`` (the optimizer's own by default);
    ``sampling="shuffle"`` trains in epochs of shuffled mini-batches (see
    :mod:`dvzero.sampling`); ``x_val``, ``t_val`` add a validation accuracy to each
    evaluation; ``eval_sample`` evaluates on that many samples of each set (or, as a dict
    such as ``{"train": 10000}``, of the sets it names), drawn once,
    instead of the full sets; ``record_loss="forward"`` records the loss of the forward pass
    that gave the gradient (the network's ``last_loss``) instead of measuring it again
    after the update.

    ``measure_beside=True`` measures on threads of their own, beside the training: the
    accuracies, from a snapshot of the network (``snapshot()``, see
    :mod:`dvzero.evaluation`), announced to ``on_epoch_end`` an epoch later; and the
    loss after each update, a group of steps at a time (``stacked_loss()``, see
    :mod:`dvzero.step_losses`), announced to ``on_step_end`` when the next group is
    handed over. The figures are the same, bit for bit. The default, ``None``, does so
    for backprop runs with a second thread (``dvzero train``'s two-layer runs), for the
    networks that can. The history is complete whenever :meth:`run` returns and in every
    :meth:`state_dict`.

    Training stops with :class:`~dvzero.errors.TrainingDiverged` when the loss is NaN or
    infinite, when a parameter is (checked every epoch), or when the loss explodes (see
    :mod:`dvzero.divergence`): a healthy run only ever goes below its starting loss on
    average; a learning rate far too large (try 1e6) sends it up to the loss of confident
    mistakes.

    :meth:`request_stop` (a signal handler may call it) ends :meth:`run` after the current
    step; :meth:`state_dict` and :meth:`load_state_dict` capture and restore everything the
    loop needs to continue exactly where it stopped.
    """

    def __init__(
        self,
        network: Network,
        x_train: NDArray,
        t_train: NDArray,
        x_test: NDArray,
        t_test: NDArray,
        *,
        step_num: int = 10000,
        batch_size: int = 100,
        optimizer: Optimizer | None = None,
        gradient: str = "backprop",
        iter_per_epoch: int | None = None,
        rng: int | np.random.Generator | None = None,
        callbacks: Sequence[Callback] = (),
        lr_schedule: str = "constant",
        base_lr: float | None = None,
        sampling: str = "replacement",
        x_val: NDArray | None = None,
        t_val: NDArray | None = None,
        eval_sample: int | dict[str, int] | None = None,
        record_loss: str = "after_update",
        numerical: str = "naive",
        measure_beside: bool | None = None,
    ) -> None:
        if len(x_train) != len(t_train):
            raise ValueError(f"x_train has {len(x_train)} rows but t_train has {len(t_train)}")
        if len(x_test) != len(t_test):
            raise ValueError(f"x_test has {len(x_test)} rows but t_test has {len(t_test)}")
        if len(x_train) == 0:
            raise ValueError("the training set is empty")
        if step_num < 0:
            raise ValueError(f"step_num must be >= 0, got {step_num}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if gradient not in GRADIENT_METHODS:
            raise ValueError(f"gradient must be one of {GRADIENT_METHODS}, got {gradient!r}")
        for name, value, choices in (("numerical", numerical, NUMERICAL_METHODS),
                                     ("lr_schedule", lr_schedule, SCHEDULES),
                                     ("sampling", sampling, SAMPLINGS),
                                     ("record_loss", record_loss, LOSS_RECORDINGS)):
            if value not in choices:
                raise ValueError(f"{name} must be one of {choices}, got {value!r}")
        if (x_val is None) != (t_val is None) or (x_val is not None and len(x_val) != len(t_val)):
            raise ValueError("x_val and t_val must be given together, with as many rows")
        samples = eval_sample if isinstance(eval_sample, dict) else \
            dict.fromkeys(("train", "test", "val"), eval_sample)
        if any(size is not None and size < 1 for size in samples.values()):
            raise ValueError(f"eval_sample must be >= 1, got {eval_sample}")
        self.network = network
        self.x_train, self.t_train = x_train, t_train
        self.x_test, self.t_test = x_test, t_test
        self.x_val, self.t_val = x_val, t_val
        self.step_num = int(step_num)
        self.batch_size = int(batch_size)
        self.optimizer = optimizer if optimizer is not None else SGD(lr=0.1)
        self.gradient = gradient
        self.numerical = numerical
        self.train_size = x_train.shape[0]
        self.rng = None if rng is None else np.random.default_rng(rng)
        self.sampler = make_sampler(sampling, self.train_size, self.batch_size, self.rng)
        if iter_per_epoch is None:
            iter_per_epoch = self.sampler.iter_per_epoch
        if iter_per_epoch < 1:
            raise ValueError(f"iter_per_epoch must be >= 1, got {iter_per_epoch}")
        self.iter_per_epoch = int(iter_per_epoch)
        self.lr_schedule = lr_schedule
        self.base_lr = float(self.optimizer.lr if base_lr is None else base_lr)
        self.record_loss = record_loss
        if measure_beside and not can_evaluate_beside(network):
            raise ValueError(f"measure_beside=True needs a network with snapshot(), a "
                             f"copy to measure while it trains; {type(network).__name__} "
                             f"has none")
        self.measure_beside = measure_beside
        #: The sets measured each epoch: (name, x, t), full or a fixed sample of each.
        self.eval_sets = [(name, *fixed_sample(x, t, samples.get(name), self.rng))
                          for name, x, t in (("train", x_train, t_train),
                                             ("test", x_test, t_test),
                                             ("val", x_val, t_val)) if x is not None]
        self.callbacks = list(callbacks)
        self.history = History()
        #: The step :meth:`run` starts with (0, or where a restored run stopped).
        self.next_step = 0
        #: The loss before any update, on the first DIVERGENCE_REFERENCE_SIZE training
        #: samples: the reference of the divergence checks.
        self.initial_loss: float | None = None
        #: True when the last :meth:`run` ended early on :meth:`request_stop`.
        self.stopped = False
        self._stop_requested = False
        self._evaluations: EpochEvaluations | None = None
        #: The evaluations and the steps of the history announced to the callbacks so far.
        self.epochs_announced = self.steps_announced = 0
        self._losses: StepLosses | None = None

    def _notify(self, event: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, event)(*args)

    def release_training_data(self) -> None:
        """Let go of the training and validation images (their last accuracies measured):
        a finished run draws its pictures from the test set alone, and the memory the
        training set held (47 MB for MNIST's bytes) is better left free for them.
        :meth:`run` is refused afterwards."""
        self.x_train = self.t_train = self.x_val = self.t_val = None
        self.eval_sets = [entry for entry in self.eval_sets if entry[0] == "test"]

    def request_stop(self) -> None:
        """Ask :meth:`run` to return after the step in progress (safe from a signal handler)."""
        self._stop_requested = True

    def run(self) -> History:
        """Train from :attr:`next_step` up to ``step_num`` and return the :class:`History`.

        Returns early, with :attr:`stopped` set, if :meth:`request_stop` was called.
        """
        if self.x_train is None:
            raise RuntimeError("the training data was released: this training is over")
        beside = beside_the_training(self.measure_beside, self.gradient)
        self._evaluations = EpochEvaluations(
            self.eval_sets, lag=evaluation_lag(beside, self.network, self.iter_per_epoch))
        self._evaluations.resume(self.history, self.epochs_announced)
        if beside and self.record_loss == "after_update" and \
                can_measure_losses_beside(self.network):
            step_bytes = sum(value.nbytes for value in self.network.params.values()) + \
                self.batch_size * self.x_train[:1].nbytes  # parameters, a batch as floats
            self._losses = StepLosses(self.network, self.x_train, self.t_train, self.history,
                                      self.next_step, group_size(self.iter_per_epoch,
                                                                 step_bytes))
        self.stopped = False
        try:
            self._notify("on_train_begin", self)
            self._announce_steps(self._announced_by(self.next_step - 1))  # a checkpoint's
            self._evaluations.start_missing(self.network, self.history, self.next_step - 1,
                                            self.iter_per_epoch)
            self._announce(self._evaluations.due(self.history, self.next_step - 1,
                                                 before=self.steps_announced))
            self._steps()
            if self._losses is not None:
                self._losses.finish()
            self._announce_steps(len(self.history.train_loss_list))
            self._announce(self._evaluations.due(self.history))
        except BaseException as exc:
            # keep the history whole; after a blow-up, what was measured before it
            diverged = isinstance(exc, TrainingDiverged)
            try:
                self._evaluations.abandon(self.history,
                                          exc.step - 1 if diverged else math.inf)
            finally:
                if self._losses is not None:
                    self._losses.abandon(keep=not diverged)
            if diverged:  # what was measured beside the training after the blow-up goes
                self.history.truncate(exc.step)
            raise
        finally:
            self._evaluations = self._losses = None
        history = self.history
        if not self.stopped and history.train_loss_list:
            # A run too short for the windowed check may still end exploding: say so.
            check_loss(self.next_step - 1, history.train_loss_list[-1],
                       history.train_loss_list, self.initial_loss, min_window=1)
        self._notify("on_train_end", history)
        return history

    def _steps(self) -> None:
        """The steps of :meth:`run`, until ``step_num`` or a requested stop."""
        network, history, evaluations = self.network, self.history, self._evaluations
        losses = self._losses
        compute_gradient = network.gradient if self.gradient == "backprop" else (
            network.numerical_gradient if self.numerical == "naive"
            else partial(network.numerical_gradient, method=self.numerical))
        for i in range(self.next_step, self.step_num):
            batch_mask = self.sampler.batch(i)
            x_batch = self.x_train[batch_mask]
            t_batch = self.t_train[batch_mask]
            if self.initial_loss is None:
                # On up to 1,000 samples: one small batch may be lucky and set the bar low.
                sample = slice(0, DIVERGENCE_REFERENCE_SIZE)
                self.initial_loss = network.loss(self.x_train[sample], self.t_train[sample])
            if self.lr_schedule != "constant":
                self.optimizer.lr = scheduled_lr(self.lr_schedule, self.base_lr, i,
                                                 self.step_num)

            if self.record_loss == "forward":
                network.last_loss = None  # set by networks whose gradient keeps its loss
            grad = compute_gradient(x_batch, t_batch)
            if self.record_loss == "forward":
                loss = network.last_loss
                if loss is None:  # this network does not keep it: measured before the update
                    loss = network.loss(x_batch, t_batch)
                loss = float(loss)
            self.optimizer.update(network.params, grad)
            if losses is not None:  # measured beside, checked when announced
                losses.add(i, network.params, batch_mask)
                loss = math.nan
            else:
                if self.record_loss == "after_update":
                    loss = network.loss(x_batch, t_batch)
                history.train_loss_list.append(loss)
                self._check_losses(i, i + 1)

            # step i is complete: a checkpoint now resumes at i + 1 (an evaluation that
            # fails at i is measured first then: see EpochEvaluations.start_missing)
            self.next_step = i + 1
            if i % self.iter_per_epoch == 0:
                self._check_params(i, loss)
                evaluations.start(network, i, history)
            if losses is None:
                self._announce(evaluations.due(history, i))
                self._announce_steps(i + 1, checked=True)
            else:  # an epoch after the steps before it
                self._announce_steps(self._announced_by(i))
                self._announce(evaluations.due(history, i, before=self.steps_announced))
            if self._stop_requested:
                self._stop_requested = False
                self.stopped = self.next_step < self.step_num
                if self.stopped:
                    return

    def _announced_by(self, step: int) -> int:
        """The steps announced once ``step`` is done: all of them, or with the losses
        measured beside the training, those of the groups recorded by then."""
        if self._losses is None:
            return step + 1
        return min(self._losses.announced_by(step), len(self.history.train_loss_list))

    def _announce(self, evaluations: list[tuple[int, int, dict[str, float]]]) -> None:
        """Tell the callbacks about these evaluations: ``(epoch, step, accuracies)``."""
        for epoch, step, accuracies in evaluations:
            self.epochs_announced = epoch + 1
            self._notify("on_epoch_end", epoch, step, accuracies["train"], accuracies["test"])

    def _announce_steps(self, until: int, checked: bool = False) -> None:
        """Tell the callbacks about the steps up to ``until`` (not included) not yet
        announced, first checking their losses unless that was done (``checked``)."""
        for step in range(self.steps_announced, until):
            if not checked:
                self._check_losses(step, step + 1)
            self.steps_announced = step + 1
            self._notify("on_step_end", step, self.history.train_loss_list[step])

    def _check_losses(self, start: int, until: int) -> None:
        """The divergence checks of the losses of steps ``start`` to ``until``."""
        losses = self.history.train_loss_list
        for step in range(start, until):
            check_loss(step, losses[step], losses[max(step + 1 - DIVERGENCE_WINDOW, 0):
                                                  step + 1], self.initial_loss)

    def _check_params(self, step: int, loss: float) -> None:
        """The parameters' check at an evaluation. If it fails while the losses are
        measured beside the training, the losses up to here come first (checked, and the
        steps before this one announced): the run stops at the step it would stop at
        measuring them in place, for the same reason, after the same step callbacks
        (evaluations beside the training are announced an epoch late, so fewer may be)."""
        try:
            check_params(step, loss, self.network.params)
        except TrainingDiverged:
            if self._losses is None:
                raise
            self._losses.settle()
            self._announce_steps(step)  # the healthy steps before it, as in place
            self._check_losses(step, step + 1)
            check_params(step, self.history.train_loss_list[step], self.network.params)

    def recent_loss(self) -> tuple[float, int]:
        """Mean loss over the last :data:`DIVERGENCE_WINDOW` steps (or fewer): ``(mean, n)``."""
        return recent_mean(self.history.train_loss_list)

    def is_healthy(self) -> bool:
        """True unless the recent loss is non-finite or above the divergence limit (see
        :func:`dvzero.divergence.is_healthy`), or a parameter is not finite. During
        :meth:`run`, the losses measured beside the training count too, announced or not,
        and each must pass its check."""
        try:
            if self._losses is not None:
                self._losses.settle()
                self._check_losses(self.steps_announced, len(self.history.train_loss_list))
            check_params(self.next_step - 1, math.nan, self.network.params)
        except TrainingDiverged:
            return False
        return is_healthy(self.history.train_loss_list, self.initial_loss)

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict[str, Any]:
        """Everything :meth:`run` needs to continue exactly: step, RNG, history, optimizer
        (see :func:`dvzero.trainer_state.trainer_state`).

        Called during :meth:`run`, it first records what is being measured beside the
        training, so that the history it holds is complete.
        """
        if self._evaluations is not None:
            self._evaluations.settle(self.history)
        if self._losses is not None:
            self._losses.settle()
        return trainer_state(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned, so that :meth:`run` continues the run;
        a state that does not fit is refused whole (``ValueError``)."""
        restore_trainer(self, state)


def train(network: Network, x_train: NDArray, t_train: NDArray, x_test: NDArray,
          t_test: NDArray, **options: Any) -> History:
    """Shorthand for ``Trainer(network, x_train, t_train, x_test, t_test, **options).run()``."""
    return Trainer(network, x_train, t_train, x_test, t_test, **options).run()
