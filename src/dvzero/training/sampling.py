"""Which training samples each step sees: random draws, or epochs.

* :class:`ReplacementSampler`: every batch drawn at random **with replacement**, as the
  original post does with ``np.random.choice(train_size, batch_size)``;
* :class:`ShuffledSampler`: epochs of shuffled mini-batches, every sample once an epoch.

``rng`` is a :class:`numpy.random.Generator`, or ``None`` for the global ``np.random``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._i18n import _

SAMPLINGS = ("replacement", "shuffle")


def default_iter_per_epoch(train_size: int, batch_size: int) -> int:
    """Steps per epoch: ``max(train_size / batch_size, 1)`` as in the original post, rounded.

    The post's value is a float (600.0 for MNIST). Rounded, ``i % iter_per_epoch == 0``
    still holds once an epoch when the batch size does not divide the training set.
    """
    return max(round(train_size / batch_size), 1)


def fixed_sample(x: NDArray, t: NDArray, size: int | None,
                 rng: np.random.Generator | None) -> tuple[NDArray, NDArray]:
    """``size`` rows of ``x`` and ``t`` drawn at random without replacement, in their
    order (all of them for ``None`` or a size as large): the sample a training measures
    its accuracies on."""
    if size is None or size >= len(x):
        return x, t
    draw = np.random.choice if rng is None else rng.choice
    indices = np.sort(draw(len(x), size, replace=False))
    return x[indices], t[indices]


class ReplacementSampler:
    """Each batch: ``batch_size`` indices drawn at random with replacement."""

    name = "replacement"

    def __init__(self, train_size: int, batch_size: int, rng: np.random.Generator | None) -> None:
        self.train_size, self.batch_size, self.rng = train_size, batch_size, rng
        self.iter_per_epoch = default_iter_per_epoch(train_size, batch_size)

    def batch(self, step: int) -> NDArray[np.intp]:
        if self.rng is None:
            return np.random.choice(self.train_size, self.batch_size)
        return self.rng.integers(0, self.train_size, size=self.batch_size)

    def state_dict(self) -> dict[str, Any]:
        return {}  # the generator's state is saved by the trainer

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class ShuffledSampler:
    """Epochs: a new permutation of the training set each epoch, cut into batches in order.

    An epoch is ``ceil(train_size / batch_size)`` steps; its last batch is smaller when
    the batch size does not divide the training set.
    """

    name = "shuffle"

    def __init__(self, train_size: int, batch_size: int, rng: np.random.Generator | None) -> None:
        self.train_size, self.batch_size, self.rng = train_size, batch_size, rng
        self.iter_per_epoch = max(math.ceil(train_size / batch_size), 1)
        self.order: NDArray[np.intp] | None = None

    def batch(self, step: int) -> NDArray[np.intp]:
        position = step % self.iter_per_epoch
        if position == 0 or self.order is None:
            permutation = np.random.permutation if self.rng is None else self.rng.permutation
            self.order = permutation(self.train_size)
        return self.order[position * self.batch_size : (position + 1) * self.batch_size]

    def state_dict(self) -> dict[str, Any]:
        """The current epoch's order (what the generator's state cannot give back)."""
        return {} if self.order is None else {"order": self.order.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        order = state.get("order")
        if order is not None and np.shape(order) != (self.train_size,):
            raise ValueError(_("the saved order has shape {shape}, the training set {size} "
                               "samples").format(shape=np.shape(order), size=self.train_size))
        self.order = None if order is None else np.asarray(order, dtype=np.intp)


def make_sampler(name: str, train_size: int, batch_size: int, rng: np.random.Generator | None):
    """The sampler called ``name`` (see :data:`SAMPLINGS`)."""
    samplers = {sampler.name: sampler for sampler in (ReplacementSampler, ShuffledSampler)}
    if name not in samplers:
        raise ValueError(_("sampling must be one of {choices}, got {name!r}")
                         .format(choices=SAMPLINGS, name=name))
    return samplers[name](train_size, batch_size, rng)
