"""The learning loop of the original post, for any network: sample, differentiate, update.

Nothing here prints. Progress is reported to callbacks (see :class:`Callback`), which the
command line turns into a progress bar and the original post's per-epoch lines.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._i18n import _
from .._rng import restore_rng, rng_state
from ..errors import TrainingDiverged
from ..optimizers import SCHEDULES, SGD, scheduled_lr
from .beside import Beside
from .divergence import (
    DIVERGENCE_REFERENCE_SIZE,
    DIVERGENCE_WINDOW,
    bad_parameter,
    check_loss,
    check_params,
    is_healthy,
)
from .history import Callback, History
from .sampling import make_sampler

#: How the gradient is computed: by the layers, by the graph of the loss (autograd), by the
#: original post's numerical loop, or its structured form (the two-layer network's).
GRADIENT_METHODS = ("backprop", "autograd", "numerical", "structured")
#: The sets a training may evaluate each epoch; ``test`` or ``val`` is required.
EVAL_SETS = ("train", "test", "val")


class Trainer:
    """The original post's training loop.

    Each step draws ``batch_size`` training samples at random **with replacement** (the
    original post's ``np.random.choice(train_size, batch_size)``), computes the gradient,
    lets the optimizer update the parameters and records the mini-batch loss after the
    update (or, for a network whose ``loss_after_update`` is false, the loss of the forward
    pass that gave the gradient). Every ``iter_per_epoch`` steps, starting with step 0, it
    measures the accuracy on each set of ``evaluate``.

    Parameters
    ----------
    network
        Anything with ``params``, ``loss``, ``accuracy`` and ``gradient`` (or
        ``numerical_gradient``): every dvzero network, the original post's class too.
    x_train, t_train
        The training samples and their labels (one-hot or integers).
    evaluate
        The sets measured each epoch: ``{"test": (x_test, t_test)}``, with ``"val"`` for
        a validation set (alone, it leaves the test set unmeasured); ``"train"`` is the
        training set unless given (a fixed sample of it, say:
        :func:`~dvzero.training.sampling.fixed_sample`).
    step_num, batch_size, optimizer
        The original post's 10,000 steps of 100 samples, and ``SGD(0.1)``.
    gradient
        One of :data:`GRADIENT_METHODS`: ``"backprop"`` by default.
    rng
        A seed or :class:`numpy.random.Generator` for the mini-batches; ``None`` uses the
        global ``np.random``, as the original post does.
    sampling, iter_per_epoch
        ``"replacement"`` or ``"shuffle"`` (see :mod:`dvzero.training.sampling`), and the
        steps between evaluations (by default an epoch of the sampling).
    lr_schedule
        ``"constant"``, ``"step"`` or ``"cosine"``: the learning rate before each update,
        from the optimizer's at the start (:func:`dvzero.optimizers.scheduled_lr`).

    Notes
    -----
    A NaN or infinite loss or parameter, or an exploding loss, stops the training with
    :class:`~dvzero.errors.TrainingDiverged` (:mod:`dvzero.training.divergence`).
    :meth:`request_stop` ends :meth:`run` after the current step; :meth:`state_dict` and
    :meth:`load_state_dict` let a run continue exactly where it stopped.
    """

    def __init__(
        self,
        network: Any,
        x_train: NDArray,
        t_train: NDArray,
        evaluate: Mapping[str, tuple[NDArray, NDArray]],
        *,
        step_num: int = 10000,
        batch_size: int = 100,
        optimizer: Any = None,
        gradient: str = "backprop",
        rng: int | np.random.Generator | None = None,
        sampling: str = "replacement",
        iter_per_epoch: int | None = None,
        lr_schedule: str = "constant",
    ) -> None:
        for name, value, least in (("step_num", step_num, 0), ("batch_size", batch_size, 1)):
            if value < least:
                raise ValueError(_("{name} must be >= {least}, got {value}")
                                 .format(name=name, least=least, value=value))
        for name, value, choices in (("gradient", gradient, GRADIENT_METHODS),
                                     ("lr_schedule", lr_schedule, SCHEDULES)):
            if value not in choices:
                raise ValueError(_("{name} must be one of {choices}, got {value!r}")
                                 .format(name=name, choices=choices, value=value))
        if gradient == "structured" and gradient not in getattr(network, "numerical_methods", ()):
            raise ValueError(_("gradient='structured' needs a network with a structured "
                               "numerical gradient (the two-layer network); {network} has none")
                             .format(network=type(network).__name__))
        self.network = network
        self.x_train, self.t_train = x_train, t_train
        #: The sets measured each epoch: (name, x, t), in the order of EVAL_SETS.
        self.eval_sets = _eval_sets(evaluate, x_train, t_train)
        self.step_num, self.batch_size = int(step_num), int(batch_size)
        self.optimizer = optimizer if optimizer is not None else SGD(lr=0.1)
        self.gradient = gradient
        self.rng = None if rng is None else np.random.default_rng(rng)
        self.sampler = make_sampler(sampling, len(x_train), self.batch_size, self.rng)
        self.iter_per_epoch = int(self.sampler.iter_per_epoch if iter_per_epoch is None
                                  else iter_per_epoch)
        if self.iter_per_epoch < 1:
            raise ValueError(_("iter_per_epoch must be >= 1, got {value}")
                             .format(value=iter_per_epoch))
        self.lr_schedule, self.base_lr = lr_schedule, float(self.optimizer.lr)
        #: The loss recorded each step: measured again after the update (the post's way).
        self.loss_after_update = getattr(network, "loss_after_update", True)
        self.history = History()
        #: The step :meth:`run` starts with (0, or where a restored run stopped).
        self.next_step = 0
        #: The loss before any update, on the first DIVERGENCE_REFERENCE_SIZE training
        #: samples: the reference of the divergence checks.
        self.initial_loss: float | None = None
        #: The steps and evaluations of the history the callbacks have heard of.
        self.steps_announced = self.epochs_announced = 0
        #: True when the last :meth:`run` ended early on :meth:`request_stop`.
        self.stopped = False
        self.callbacks: list[Callback] = []
        self._stop_requested = False
        self._measure: Any = None  # what measures the losses and accuracies, during run()
        self._failure: TrainingDiverged | None = None  # the divergence found, during run()

    def run(self, callbacks: Sequence[Callback] = (), beside: bool = False) -> History:
        """Train from :attr:`next_step` up to ``step_num``, telling ``callbacks``, and return
        the :class:`History`; early, with :attr:`stopped` set, after :meth:`request_stop`.
        ``beside=True`` measures the losses and accuracies on a second thread meanwhile
        (:mod:`dvzero.training.beside`): the same figures, the callbacks an epoch later."""
        if self.x_train is None:
            raise RuntimeError(_("the training data was released: this training is over"))
        self._check_whole()
        self.callbacks, self.stopped, self._failure = list(callbacks), False, None
        if beside:
            self._measure = Beside(self.network, self.x_train, self.t_train, self.eval_sets,
                                   self.batch_size, self.loss_after_update,
                                   lag=max(self.iter_per_epoch - 1, 1))
        else:
            self._measure = InPlace(self.network, self.eval_sets, self.loss_after_update)
        try:
            self._notify("on_train_begin", self)
            self._measure_missing_accuracies()
            self._announce()  # what a checkpoint had recorded and not yet announced
            self._steps()
            self._record(self._measure.settle())
            self._announce()
        except BaseException:
            with contextlib.suppress(BaseException):  # the history stays whole
                self._record(self._measure.settle())
            raise
        finally:
            self._measure.close()
            self._measure = None
        losses = self.history.train_loss_list
        if not self.stopped and losses:
            # A run too short for the windowed check may still end exploding: say so.
            check_loss(len(losses) - 1, losses[-1], losses, self.initial_loss, min_window=1)
        self._notify("on_train_end", self.history)
        return self.history

    def _measure_missing_accuracies(self) -> None:
        """The accuracies after the last step done, if it was an evaluation's and they are
        missing (measuring them in place was interrupted: the network is as it left it)."""
        last, epoch_steps = self.next_step - 1, self.history.epoch_steps
        if last >= 0 and last % self.iter_per_epoch == 0 and epoch_steps[-1:] != [last]:
            self.history.add_accuracies(last, {name: self.network.accuracy(x, t)
                                               for name, x, t in self.eval_sets})

    def _steps(self) -> None:
        """The original post's loop, from :attr:`next_step` on."""
        network, measure = self.network, self._measure
        if self.initial_loss is None:  # on 1,000 samples: one batch may be lucky
            sample = slice(0, DIVERGENCE_REFERENCE_SIZE)
            self.initial_loss = float(network.loss(self.x_train[sample], self.t_train[sample]))
        for i in range(self.next_step, self.step_num):
            batch_mask = self.sampler.batch(i)
            x_batch = self.x_train[batch_mask]
            t_batch = self.t_train[batch_mask]

            if self.lr_schedule != "constant":
                self.optimizer.lr = scheduled_lr(self.lr_schedule, self.base_lr, i, self.step_num)
            grad = self.compute_gradient(x_batch, t_batch)
            self.optimizer.update(network.params, grad)
            measure.loss(i, x_batch, t_batch, batch_mask)
            self.next_step = i + 1

            if i % self.iter_per_epoch == 0:
                self._check_params(i)
                measure.accuracies(i)
            self._record(measure.ready(i))
            self._announce()  # and stop at a divergence
            if self._stop_requested:
                self._stop_requested = False
                self.stopped = self.next_step < self.step_num
                if self.stopped:
                    return

    def compute_gradient(self, x: NDArray, t: NDArray) -> dict[str, NDArray]:
        """The gradient of the loss on ``x``, ``t`` for every parameter, by :attr:`gradient`."""
        if self.gradient == "backprop":
            return self.network.gradient(x, t)
        if self.gradient == "autograd":
            return self.network.gradient(x, t, method="autograd")
        if self.gradient == "numerical":
            return self.network.numerical_gradient(x, t)  # the original post's name
        return self.network.numerical_gradient(x, t, method="structured")

    # ------------------------------------------------------------------ what was measured

    def _record(self, measured: list[tuple[int, float, dict[str, float] | None]]) -> None:
        """Add the measured steps ``(step, loss, accuracies or None)`` to the history, each
        loss checked; at the first that fails, keep the divergence and record no more."""
        losses = self.history.train_loss_list
        for step, loss, accuracies in measured:
            if self._failure is not None:
                return
            if step != len(losses):  # a failed run's measurements: none may be misfiled
                raise RuntimeError(f"step {step} cannot be recorded after {len(losses)} steps")
            losses.append(loss)
            try:
                check_loss(step, loss, losses[-DIVERGENCE_WINDOW:], self.initial_loss)
            except TrainingDiverged as exc:
                self._failure = exc
                return
            if accuracies is not None:
                self.history.add_accuracies(step, accuracies)

    def _announce(self, until: float = math.inf) -> None:
        """Tell the callbacks about the recorded steps they have not heard of (up to step
        ``until``, not included), in order, an evaluation before its step; then raise the
        divergence :meth:`_record` found, if any."""
        history = self.history
        while self.steps_announced < min(until, len(history.train_loss_list)):
            step = self.steps_announced
            if self._failure is not None and self._failure.step == step:
                break  # a loss that failed its check is not announced
            while (self.epochs_announced < len(history.epoch_steps)
                   and history.epoch_steps[self.epochs_announced] <= step):
                epoch = self.epochs_announced
                self.epochs_announced += 1
                self._notify("on_epoch_end", epoch, *history.epoch(epoch))
            self.steps_announced += 1
            self._notify("on_step_end", step, history.train_loss_list[step])
        if self._failure is not None:
            raise self._failure

    def _check_params(self, step: int) -> None:
        """A parameter that is NaN or infinite stops the training; the losses before it are
        checked first, so a run stops where and why it would measuring them in place."""
        if bad_parameter(self.network.params) is None:
            return
        self._record(self._measure.settle())
        self._announce(until=step)
        check_params(step, self.history.train_loss_list[step], self.network.params)

    def _check_whole(self) -> None:
        """Refuse to go on from a run that failed before its last steps were measured."""
        if len(self.history.train_loss_list) != self.next_step:
            raise RuntimeError(_("the run failed before steps {first} to {last} were measured: "
                                 "a training without their losses cannot be saved or continued")
                               .format(first=len(self.history.train_loss_list),
                                       last=self.next_step - 1))

    def _notify(self, event: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, event)(*args)

    def request_stop(self) -> None:
        """Ask :meth:`run` to return after the step in progress (safe from a signal handler)."""
        self._stop_requested = True

    def is_healthy(self) -> bool:
        """True unless a loss failed its check, the recent loss is above the divergence
        limit, or a parameter is not finite; during :meth:`run`, counting all measured."""
        if self._measure is not None:
            self._record(self._measure.settle())
        return (self._failure is None and bad_parameter(self.network.params) is None
                and is_healthy(self.history.train_loss_list, self.initial_loss))

    def release_training_data(self) -> None:
        """Let go of the training and validation images, for the memory they hold;
        :meth:`run` is refused afterwards."""
        self.x_train = self.t_train = None
        self.eval_sets = [entry for entry in self.eval_sets if entry[0] == "test"]

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict[str, Any]:
        """Everything :meth:`run` needs to continue exactly, as plain values and arrays
        (the network's parameters are saved beside it). During :meth:`run`, what is being
        measured is recorded first."""
        if self._measure is not None:
            self._record(self._measure.settle())
        if self._failure is not None:  # nothing to continue from
            raise self._failure
        self._check_whole()
        return {
            "next_step": self.next_step,
            "epochs_announced": self.epochs_announced,
            "steps_announced": self.steps_announced,
            "initial_loss": self.initial_loss,
            "rng": rng_state(self.rng),
            "history": self.history.as_state(),
            "optimizer": self.optimizer.state_dict(),
            "network_state": getattr(self.network, "state_dict", dict)(),
            "sampler_state": self.sampler.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned, so that :meth:`run` continues the run;
        a state whose counts do not fit is refused whole (``ValueError``). States without
        the counts of announcements count everything announced."""
        next_step = int(state["next_step"])
        history = History.from_state(state["history"])
        epochs_announced = int(state.get("epochs_announced", len(history.epoch_steps)))
        steps_announced = int(state.get("steps_announced", next_step))
        for name, value, most in (("next_step", next_step, self.step_num),
                                  ("epochs_announced", epochs_announced, len(history.epoch_steps)),
                                  ("steps_announced", steps_announced, next_step)):
            if not 0 <= value <= most:
                raise ValueError(_("{name} {value} is outside 0..{most}")
                                 .format(name=name, value=value, most=most))
        if len(history.train_loss_list) != next_step:
            raise ValueError(_("the history holds {losses} losses but the state says {steps} "
                               "steps were done")
                             .format(losses=len(history.train_loss_list), steps=next_step))
        restore_rng(self.rng, state["rng"])
        self.optimizer.load_state_dict(state.get("optimizer", {}))
        if state.get("network_state"):
            self.network.load_state_dict(state["network_state"])
        self.sampler.load_state_dict(state.get("sampler_state", {}))
        self.history, self.next_step = history, next_step
        self.epochs_announced, self.steps_announced = epochs_announced, steps_announced
        initial_loss = state.get("initial_loss")
        self.initial_loss = None if initial_loss is None else float(initial_loss)


class InPlace:
    """What :meth:`Trainer.run` measures, measured here and now: each step is ready at
    once. (:class:`~dvzero.training.beside.Beside` takes the same calls, on a thread.)"""

    def __init__(self, network: Any, eval_sets: list, loss_after_update: bool) -> None:
        self.network, self.eval_sets, self.loss_after_update = network, eval_sets, loss_after_update
        self._measured: list[tuple[int, float, dict[str, float] | None]] = []

    def loss(self, step: int, x: NDArray, t: NDArray, rows: NDArray) -> None:
        """The loss of ``step`` on its batch, after the update or from the gradient's pass."""
        loss = self.network.loss(x, t) if self.loss_after_update else self.network.last_loss
        self._measured.append((step, float(loss), None))

    def accuracies(self, step: int) -> None:
        """The accuracies on each evaluation set after ``step``, the last step measured."""
        accuracies = {name: self.network.accuracy(x, t) for name, x, t in self.eval_sets}
        self._measured[-1] = (*self._measured[-1][:2], accuracies)

    def ready(self, step: int | None = None) -> list[tuple[int, float, dict[str, float] | None]]:
        """The steps measured and not handed back: ``(step, loss, accuracies or None)``."""
        measured, self._measured = self._measured, []
        return measured

    settle = ready  # everything is measured at once

    def close(self) -> None:
        pass


def _eval_sets(evaluate: Mapping[str, tuple[NDArray, NDArray]], x_train: NDArray,
               t_train: NDArray) -> list[tuple[str, NDArray, NDArray]]:
    """The training set and ``evaluate`` checked, with the training set as ``"train"``
    unless given: ``(name, x, t)`` in the order of :data:`EVAL_SETS`."""
    if len(x_train) != len(t_train):
        raise ValueError(_("x_train has {x_rows} rows but t_train has {t_rows}")
                         .format(x_rows=len(x_train), t_rows=len(t_train)))
    if len(x_train) == 0:
        raise ValueError(_("the training set is empty"))
    if not isinstance(evaluate, Mapping) or not {"test", "val"} & set(evaluate) or \
            set(evaluate) - set(EVAL_SETS):
        raise ValueError(_("evaluate must map 'test' or 'val', or both (and 'train' if "
                           "given), to (x, t), got {evaluate!r:.80}").format(evaluate=evaluate))
    sets = {"train": (x_train, t_train), **evaluate}
    for name, pair in sets.items():
        if len(pair) != 2 or len(pair[0]) != len(pair[1]):
            raise ValueError(_("evaluate[{name!r}] must be (x, t) with as many rows in each")
                             .format(name=name))
    return [(name, *sets[name]) for name in EVAL_SETS if name in sets]


def train(network: Any, x_train: NDArray, t_train: NDArray, x_test: NDArray,
          t_test: NDArray, callbacks: Sequence[Callback] = (), **options: Any) -> History:
    """Run a :class:`Trainer` that measures the test set each epoch; return its history."""
    return Trainer(network, x_train, t_train, {"test": (x_test, t_test)}, **options).run(callbacks)
