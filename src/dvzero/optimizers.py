"""Update rules: given parameters and their gradients, move the parameters."""

from __future__ import annotations

import math
from collections.abc import Mapping

from numpy.typing import NDArray


class SGD:
    """Stochastic gradient descent, the original post's rule: ``params[key] -= lr * grads[key]``.

    The update is in place, so the network's arrays (and their dtype) are kept.
    """

    def __init__(self, lr: float = 0.01) -> None:
        if not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"learning rate must be a finite number > 0, got {lr!r}")
        self.lr = float(lr)

    def update(self, params: Mapping[str, NDArray], grads: Mapping[str, NDArray]) -> None:
        for key in params:
            params[key] -= self.lr * grads[key]

    def state_dict(self) -> dict[str, NDArray]:
        """The optimizer's own arrays, for a checkpoint (plain SGD has none)."""
        return {}

    def load_state_dict(self, state: Mapping[str, NDArray]) -> None:
        """Restore what :meth:`state_dict` returned."""
        if state:
            raise ValueError(f"SGD keeps no state, got {sorted(state)}")

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr})"
