"""Numerical differentiation and plain gradient descent (the original post's method).

These are slow on purpose: they evaluate the function twice per input element. They are
the reference that backpropagation is checked against.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._i18n import _

#: Step of the central differences. Small enough for accuracy, large enough that
#: ``f(x + h) - f(x - h)`` does not drown in float64 rounding error.
H = 1e-4


def numerical_diff(f: Callable[[float], float], x: float) -> float:
    """Derivative of a one-variable function at ``x`` by central difference."""
    return (f(x + H) - f(x - H)) / (2 * H)


def numerical_gradient(f: Callable[[NDArray], float], x: NDArray[np.floating]) -> NDArray:
    """Gradient of ``f`` at ``x`` by central differences, one element at a time.

    ``x`` may have any shape. Each element is perturbed **in place** by ±h before ``f(x)``
    is called, so ``f`` may ignore its argument and read the array through another reference
    (the original post's ``loss_W = lambda W: self.loss(x, t)``); it is restored even if
    ``f`` raises. Returns an array of ``x``'s shape and dtype.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(_("numerical_gradient perturbs x in place, so x must be a NumPy "
                          "array, got {type}").format(type=type(x).__name__))
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(_("numerical_gradient needs a float array (x + 1e-4 must be "
                          "representable), got dtype {dtype}").format(dtype=x.dtype))
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        original = x[idx]
        try:
            x[idx] = original + H
            fxh1 = f(x)
            x[idx] = original - H
            fxh2 = f(x)
        finally:
            x[idx] = original
        grad[idx] = (fxh1 - fxh2) / (2 * H)
    return grad


def gradient_descent(f: Callable[[NDArray], float], init_x: ArrayLike, lr: float = 0.01,
                     step_num: int = 100) -> NDArray[np.float64]:
    """Minimise ``f`` from ``init_x`` by ``step_num`` steps of ``x -= lr * grad f(x)``.

    The gradient is :func:`numerical_gradient`'s. Returns the final ``x``, a new float64
    array of ``init_x``'s shape (``init_x`` is left unchanged).
    """
    if step_num < 0:
        raise ValueError(_("step_num must be >= 0, got {step_num}").format(step_num=step_num))
    x = np.array(init_x, dtype=np.float64, copy=True)
    for _step in range(step_num):
        x -= lr * numerical_gradient(f, x)
    return x
