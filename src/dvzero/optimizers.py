"""Update rules: given parameters and their gradients, move the parameters.

Every optimizer has the same interface: ``update(params, grads)`` changes the arrays of
``params`` in place (so a network's arrays, and their dtype, are kept); ``lr`` may change
between updates (a learning-rate schedule does); ``state_dict()`` and
``load_state_dict()`` capture, as arrays, what it remembers between steps, so that a
checkpoint continues a run exactly. :func:`make_optimizer` builds one by name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from ._i18n import _


class Optimizer:
    """The shared part: the learning rate and the per-parameter arrays kept between steps.

    A subclass lists the names of its per-parameter arrays in ``slots`` (``("v",)`` for
    momentum, ``("m", "v")`` for Adam) and reads them with :meth:`slot`; they are created
    as zeros, in the parameter's dtype, at the first update.
    """

    slots: tuple[str, ...] = ()

    def __init__(self, lr: float) -> None:
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) \
                or lr <= 0:
            raise ValueError(_("learning rate must be a finite number > 0, got {lr!r}")
                             .format(lr=lr))
        self.lr = float(lr)
        self.state: dict[str, dict[str, NDArray]] = {name: {} for name in self.slots}

    def slot(self, name: str, key: str, like: NDArray) -> NDArray:
        arrays = self.state[name]
        if key not in arrays:
            arrays[key] = np.zeros_like(like)
        return arrays[key]

    def update(self, params: Mapping[str, NDArray], grads: Mapping[str, NDArray]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, NDArray]:
        """The optimizer's own arrays, for a checkpoint: ``{"v/W1": ..., ...}``."""
        return {f"{name}/{key}": array for name, arrays in self.state.items()
                for key, array in arrays.items()}

    def load_state_dict(self, state: Mapping[str, NDArray]) -> None:
        """Restore what :meth:`state_dict` returned."""
        restored: dict[str, dict[str, NDArray]] = {name: {} for name in self.slots}
        for path, array in state.items():
            name, _slash, key = path.partition("/")
            if name not in restored or not key:
                raise ValueError(_("{optimizer} keeps no state {path!r}")
                                 .format(optimizer=type(self).__name__, path=path))
            restored[name][key] = np.array(array)
        self.state = restored

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Stochastic gradient descent, the original post's rule: ``params[key] -= lr * grads[key]``."""

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__(lr)

    def update(self, params: Mapping[str, NDArray], grads: Mapping[str, NDArray]) -> None:
        for key, param in params.items():
            param -= self.lr * grads[key]

    def load_state_dict(self, state: Mapping[str, NDArray]) -> None:
        if state:
            raise ValueError(_("SGD keeps no state, got {keys}").format(keys=sorted(state)))


class Momentum(Optimizer):
    """SGD with momentum: ``v = momentum * v - lr * grad``; ``param += v``.

    The velocity ``v`` remembers past gradients, so steps grow along a consistent slope
    and oscillations across a narrow valley cancel out.
    """

    slots = ("v",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(lr)
        self.momentum = float(momentum)

    def update(self, params: Mapping[str, NDArray], grads: Mapping[str, NDArray]) -> None:
        for key, param in params.items():
            v = self.slot("v", key, param)
            v *= self.momentum
            v -= self.lr * grads[key]
            param += v


class Nesterov(Momentum):
    """Nesterov's accelerated gradient: momentum that looks one step ahead.

    With ``v = momentum * v - lr * grad``, the parameter moves by
    ``momentum * v_new - lr * grad`` (the usual rewriting that needs no second gradient).
    """

    def update(self, params: Mapping[str, NDArray], grads: Mapping[str, NDArray]) -> None:
        for key, param in params.items():
            v = self.slot("v", key, param)
            step = self.lr * grads[key]
            v *= self.momentum
            v -= step
            param += self.momentum * v - step


class AdaGrad(Optimizer):
    """Per-parameter learning rates that shrink with the gradients seen so far.

    ``h += grad ** 2``; ``param -= lr * grad / (sqrt(h) + eps)``."""

    slots = ("h",)

    def __init__(self, lr: float = 0.01, eps: float = 1e-7) -> None:
        super().__init__(lr)
        self.eps = float(eps)

    def update(self, params: Mapping[str, NDArray], grads: Mapping[str, NDArray]) -> None:
        for key, param in params.items():
            h = self.slot("h", key, param)
            grad = grads[key]
            h += grad * grad
            param -= self.lr * grad / (np.sqrt(h) + self.eps)


class RMSprop(Optimizer):
    """AdaGrad with a memory that fades: ``h = decay * h + (1 - decay) * grad ** 2``."""

    slots = ("h",)

    def __init__(self, lr: float = 0.001, decay_rate: float = 0.99, eps: float = 1e-7) -> None:
        super().__init__(lr)
        self.decay_rate, self.eps = float(decay_rate), float(eps)

    def update(self, params: Mapping[str, NDArray], grads: Mapping[str, NDArray]) -> None:
        for key, param in params.items():
            h = self.slot("h", key, param)
            grad = grads[key]
            h *= self.decay_rate
            h += (1 - self.decay_rate) * grad * grad
            param -= self.lr * grad / (np.sqrt(h) + self.eps)


class Adam(Optimizer):
    """Momentum and RMSprop together, with the start-up bias of both averages corrected.

    ``m = beta1 * m + (1 - beta1) * grad``; ``v = beta2 * v + (1 - beta2) * grad ** 2``;
    ``param -= lr * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - beta1 ** t)`` and
    ``v_hat = v / (1 - beta2 ** t)`` at step ``t`` (1, 2, ...).
    """

    slots = ("m", "v")

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.t = 0

    def update(self, params: Mapping[str, NDArray], grads: Mapping[str, NDArray]) -> None:
        self.t += 1
        # The bias corrections folded into one step size and one epsilon.
        step_size = self.lr * math.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        eps = self.eps * math.sqrt(1 - self.beta2 ** self.t)
        for key, param in params.items():
            m, v = self.slot("m", key, param), self.slot("v", key, param)
            grad = grads[key]
            m *= self.beta1
            m += (1 - self.beta1) * grad
            v *= self.beta2
            v += (1 - self.beta2) * (grad * grad)
            param -= step_size * m / (np.sqrt(v) + eps)

    def state_dict(self) -> dict[str, NDArray]:
        return {**super().state_dict(), "t": np.array(self.t, dtype=np.int64)}

    def load_state_dict(self, state: Mapping[str, NDArray]) -> None:
        state = dict(state)
        self.t = int(state.pop("t", 0))
        super().load_state_dict(state)


#: The optimizers by name, and the learning rate each gets unless told otherwise.
OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov,
                                          "adagrad": AdaGrad, "rmsprop": RMSprop, "adam": Adam}
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01,
              "rmsprop": 0.001, "adam": 0.001}


def make_optimizer(name: str, lr: float | None = None) -> Optimizer:
    """The optimizer ``name`` of :data:`OPTIMIZERS`, at :data:`DEFAULT_LR` unless given ``lr``."""
    if name not in OPTIMIZERS:
        raise ValueError(_("unknown optimizer {name!r}; choose from {choices}")
                         .format(name=name, choices=", ".join(OPTIMIZERS)))
    return OPTIMIZERS[name](lr=DEFAULT_LR[name] if lr is None else lr)


# --------------------------------------------------------------------------- schedules

SCHEDULES = ("constant", "step", "cosine")


def scheduled_lr(schedule: str, lr: float, step: int, total_steps: int) -> float:
    """The learning rate at ``step`` (0-based) of ``total_steps`` under ``schedule``.

    * ``constant``: ``lr`` throughout;
    * ``step``: ``lr``, then a tenth of it from half-way, a hundredth from three quarters;
    * ``cosine``: from ``lr`` down to 0 along half a cosine wave,
      ``lr * (1 + cos(pi * step / total_steps)) / 2``.
    """
    if schedule == "constant":
        return lr
    if schedule == "step":
        return lr * 0.1 ** ((step >= total_steps // 2) + (step >= 3 * total_steps // 4))
    if schedule == "cosine":
        return lr * 0.5 * (1.0 + math.cos(math.pi * step / max(total_steps, 1)))
    raise ValueError(_("unknown learning-rate schedule {schedule!r}; choose from {choices}")
                     .format(schedule=schedule, choices=", ".join(SCHEDULES)))
