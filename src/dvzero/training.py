"""The learning loop of the seed, reusable: sample, differentiate, update, record.

Nothing here prints. Progress is reported to callbacks (see :class:`Callback`), which the
command line turns into a progress bar and the seed's per-epoch lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from .errors import TrainingDiverged
from .optimizers import SGD

GRADIENT_METHODS = ("backprop", "numerical")


class Network(Protocol):
    params: dict[str, NDArray]

    def loss(self, x: NDArray, t: NDArray) -> float: ...
    def accuracy(self, x: NDArray, t: NDArray) -> float: ...
    def gradient(self, x: NDArray, t: NDArray) -> dict[str, NDArray]: ...
    def numerical_gradient(self, x: NDArray, t: NDArray) -> dict[str, NDArray]: ...


class Optimizer(Protocol):
    def update(self, params: dict[str, NDArray], grads: dict[str, NDArray]) -> None: ...


@dataclass
class History:
    """What the seed records: the loss of every step, the accuracies of every epoch."""

    train_loss_list: list[float] = field(default_factory=list)
    train_acc_list: list[float] = field(default_factory=list)
    test_acc_list: list[float] = field(default_factory=list)
    #: The step after which each accuracy pair was measured (0, 600, 1200, ... by default).
    epoch_steps: list[int] = field(default_factory=list)


class Callback:
    """Hooks called by :class:`Trainer`; override the ones you need."""

    def on_train_begin(self, trainer: Trainer) -> None:
        """Before the first step."""

    def on_epoch_end(self, epoch: int, step: int, train_acc: float, test_acc: float) -> None:
        """After the accuracies of an epoch were measured (at steps 0, 600, 1200, ...)."""

    def on_step_end(self, step: int, loss: float) -> None:
        """After each update, with the mini-batch loss measured after it."""

    def on_train_end(self, history: History) -> None:
        """After the last step."""


def default_iter_per_epoch(train_size: int, batch_size: int) -> int:
    """Steps per epoch: ``max(train_size / batch_size, 1)`` as the seed, rounded to a whole step."""
    return max(round(train_size / batch_size), 1)


class Trainer:
    """The seed's training loop.

    Each step draws ``batch_size`` training samples at random **with replacement** (the
    seed's ``np.random.choice(train_size, batch_size)``), computes the gradient by
    backpropagation (``gradient="backprop"``) or numerically (``"numerical"``), lets the
    optimizer update the parameters, and records the mini-batch loss after the update.
    Every ``iter_per_epoch`` steps, starting with step 0, it measures the accuracy on the
    full training and test sets.

    ``rng`` is a seed or :class:`numpy.random.Generator` for the mini-batches; ``None``
    uses the global ``np.random`` as the seed does. A NaN or infinite loss stops training
    with :class:`~dvzero.errors.TrainingDiverged`.
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
        self.network = network
        self.x_train, self.t_train = x_train, t_train
        self.x_test, self.t_test = x_test, t_test
        self.step_num = int(step_num)
        self.batch_size = int(batch_size)
        self.optimizer = optimizer if optimizer is not None else SGD(lr=0.1)
        self.gradient = gradient
        self.train_size = x_train.shape[0]
        if iter_per_epoch is None:
            iter_per_epoch = default_iter_per_epoch(self.train_size, self.batch_size)
        if iter_per_epoch < 1:
            raise ValueError(f"iter_per_epoch must be >= 1, got {iter_per_epoch}")
        self.iter_per_epoch = int(iter_per_epoch)
        self.rng = None if rng is None else np.random.default_rng(rng)
        self.callbacks = list(callbacks)
        self.history = History()

    def _batch_mask(self) -> NDArray[np.intp]:
        if self.rng is None:
            return np.random.choice(self.train_size, self.batch_size)
        return self.rng.integers(0, self.train_size, size=self.batch_size)

    def _notify(self, event: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, event)(*args)

    def run(self) -> History:
        """Train for ``step_num`` steps and return the :class:`History`."""
        network, history = self.network, self.history
        compute_gradient = (
            network.gradient if self.gradient == "backprop" else network.numerical_gradient
        )
        self._notify("on_train_begin", self)
        for i in range(self.step_num):
            batch_mask = self._batch_mask()
            x_batch = self.x_train[batch_mask]
            t_batch = self.t_train[batch_mask]

            grad = compute_gradient(x_batch, t_batch)
            self.optimizer.update(network.params, grad)

            loss = network.loss(x_batch, t_batch)
            if not math.isfinite(loss):
                raise TrainingDiverged(i, loss)
            history.train_loss_list.append(loss)

            if i % self.iter_per_epoch == 0:
                train_acc = network.accuracy(self.x_train, self.t_train)
                test_acc = network.accuracy(self.x_test, self.t_test)
                history.train_acc_list.append(train_acc)
                history.test_acc_list.append(test_acc)
                history.epoch_steps.append(i)
                self._notify("on_epoch_end", len(history.epoch_steps) - 1, i, train_acc, test_acc)
            self._notify("on_step_end", i, loss)
        self._notify("on_train_end", history)
        return history


def train(network: Network, x_train: NDArray, t_train: NDArray, x_test: NDArray,
          t_test: NDArray, **options: Any) -> History:
    """Shorthand for ``Trainer(network, x_train, t_train, x_test, t_test, **options).run()``."""
    return Trainer(network, x_train, t_train, x_test, t_test, **options).run()
