"""The functions of the graph, imported as ``F``: ``from dvzero.autograd import functions as F``.

Each takes Variables (or arrays and numbers, which need no gradient) and gives a Variable.
Where :mod:`dvzero.functions` has a function of the same name, this one computes the same
values, on the graph: ``F.sigmoid``, ``F.softmax``, ``F.mean_squared_error``, the
cross-entropy's floor. A float32 graph stays float32: Python numbers and 0-d arrays take the
graph's dtype (other arrays follow NumPy's rules: a float64 array makes float64).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import functions as arrays
from .._i18n import _
from .conv import conv2d, max_pool2d
from .core import Function, Variable, as_variable
from .operators import (
    broadcast_to,
    get_item,
    linear,
    matmul,
    reshape,
    sum,  # noqa: A004
    sum_to,
    transpose,
)

# ---------------------------------------------------------------- element by element


class Exp(Function):
    def forward(self, x: NDArray) -> NDArray:
        return np.exp(x)

    def backward(self, gy: Variable) -> Variable:
        return gy * self.output()  # (e^x)' = e^x


class Log(Function):
    def forward(self, x: NDArray) -> NDArray:
        return np.log(x)

    def backward(self, gy: Variable) -> Variable:
        return gy / self.inputs[0]


class Sin(Function):
    def forward(self, x: NDArray) -> NDArray:
        return np.sin(x)

    def backward(self, gy: Variable) -> Variable:
        return gy * cos(self.inputs[0])


class Cos(Function):
    def forward(self, x: NDArray) -> NDArray:
        return np.cos(x)

    def backward(self, gy: Variable) -> Variable:
        return -(gy * sin(self.inputs[0]))


class Tanh(Function):
    def forward(self, x: NDArray) -> NDArray:
        return np.tanh(x)

    def backward(self, gy: Variable) -> Variable:
        y = self.output()
        return gy * (1 - y * y)


class Sigmoid(Function):
    def forward(self, x: NDArray) -> NDArray:
        return arrays.sigmoid(x)

    def backward(self, gy: Variable) -> Variable:
        y = self.output()
        return gy * y * (1 - y)


class Relu(Function):
    def forward(self, x: NDArray) -> NDArray:
        self.mask = x > 0
        return arrays.relu(x)

    def backward(self, gy: Variable) -> Variable:
        return gy * self.mask  # 1 where the input was positive, else 0


def exp(x: Any) -> Variable:
    return Exp()(x)


def log(x: Any) -> Variable:
    """The natural logarithm."""
    return Log()(x)


def sin(x: Any) -> Variable:
    return Sin()(x)


def cos(x: Any) -> Variable:
    return Cos()(x)


def tanh(x: Any) -> Variable:
    return Tanh()(x)


def sigmoid(x: Any) -> Variable:
    """``1 / (1 + exp(-x))``, as :func:`dvzero.functions.sigmoid`."""
    return Sigmoid()(x)


def relu(x: Any) -> Variable:
    """``max(0, x)``, as :func:`dvzero.functions.relu`."""
    return Relu()(x)


# ---------------------------------------------------------------- probabilities and losses


class Softmax(Function):
    def forward(self, x: NDArray) -> NDArray:
        return arrays.softmax(x)

    def backward(self, gy: Variable) -> Variable:
        y = self.output()  # dx_i = y_i (dy_i - sum_j y_j dy_j)
        gx = y * gy
        return gx - y * sum(gx, axis=-1, keepdims=True)


class SoftmaxCrossEntropy(Function):
    """Softmax and the cross-entropy error as one step, like the ``SoftmaxWithLoss`` layer:
    their derivative together is ``(softmax(x) - one_hot(t)) / N``."""

    def forward(self, x: NDArray, t: NDArray) -> NDArray:
        y = arrays.softmax(x)
        self.labels = arrays.labels_from_targets(t, x.shape[1])
        return np.asarray(arrays.cross_entropy_from_labels(y, self.labels), x.dtype)

    def backward(self, gy: Variable) -> tuple[Variable, None]:
        x = self.inputs[0]
        one_hot = np.zeros(x.shape, x.dtype)
        one_hot[np.arange(len(x)), self.labels] = 1
        return (softmax(x) - one_hot) * (gy / len(x)), None


def softmax(x: Any) -> Variable:
    """Softmax over the last axis, as :func:`dvzero.functions.softmax`."""
    return Softmax()(x)


def softmax_cross_entropy(x: Any, t: Any) -> Variable:
    """The cross-entropy error of ``softmax(x)`` for logits ``x`` ``(N, C)``, averaged over
    the batch; ``t`` is integer labels ``(N,)`` or one-hot ``(N, C)``. The same value as
    :func:`dvzero.functions.cross_entropy_error` of the softmax, floor included."""
    x, t = as_variable(x), as_variable(t)
    if x.ndim != 2 or t.shape not in ((len(x),), x.shape):
        raise ValueError(_("softmax_cross_entropy takes logits (N, C) and labels (N,) or "
                           "one-hot (N, C), got {x_shape} and {t_shape}")
                         .format(x_shape=x.shape, t_shape=t.shape))
    return SoftmaxCrossEntropy()(x, t)


def mean_squared_error(y: Any, t: Any) -> Variable:
    """Half the sum of squared errors, ``0.5 * sum((y - t) ** 2)``, as
    :func:`dvzero.functions.mean_squared_error` (not divided by the batch size)."""
    y, t = as_variable(y), as_variable(t)
    if y.shape != t.shape:
        raise ValueError(_("mean_squared_error: y has shape {y_shape}, t has shape {t_shape}")
                         .format(y_shape=y.shape, t_shape=t.shape))
    diff = y - t
    return 0.5 * sum(diff * diff)


# ---------------------------------------------------------------- training helpers


def dropout(x: Any, dropout_ratio: float = 0.5, train_flg: bool = True,
            rng: int | np.random.Generator | None = None) -> Variable:
    """Inverted dropout, as the ``Dropout`` layer: while training each input is dropped
    with probability ``dropout_ratio`` and the rest scaled by ``1 / (1 - dropout_ratio)``;
    otherwise ``x`` passes unchanged. The mask is drawn from ``rng`` (a seed or a
    generator) as the layer draws it, so the same generator state gives the same mask."""
    x = as_variable(x)
    if not 0 <= dropout_ratio < 1:
        raise ValueError(_("dropout_ratio must be in [0, 1), got {ratio!r}")
                         .format(ratio=dropout_ratio))
    if not train_flg:
        return x
    keep = np.random.default_rng(rng).random(x.shape, dtype=np.float32) >= dropout_ratio
    scale = 1.0 / (1.0 - dropout_ratio)
    return x * (keep * (x.dtype.type(scale) if x.dtype.kind == "f" else scale))


def batch_norm(x: Any, gamma: Any, beta: Any, running_mean: NDArray, running_var: NDArray,
               momentum: float = 0.9, eps: float = 1e-5, train_flg: bool = True) -> Variable:
    """Batch normalisation of ``x`` ``(N, D)``, as the ``BatchNormalization`` layer.

    While training: each feature normalised by the batch's mean and variance, then
    ``gamma * xn + beta``; ``running_mean`` and ``running_var`` (float arrays ``(D,)``) move
    towards the batch's, in place. Otherwise those running averages normalise.
    """
    x = as_variable(x)
    if x.ndim != 2:
        raise ValueError(_("batch_norm takes x (N, D), got shape {shape}").format(shape=x.shape))
    for name, value in (("gamma", gamma), ("beta", beta), ("running_mean", running_mean),
                        ("running_var", running_var)):
        if np.shape(value) != x.shape[1:]:
            raise ValueError(_("batch_norm: {name} must have shape {expected} for x {x_shape}, "
                               "got {shape}")
                             .format(name=name, expected=x.shape[1:], x_shape=x.shape,
                                     shape=np.shape(value)))
    if not train_flg:
        inv_std = 1.0 / np.sqrt(running_var + eps)
        return (x - running_mean) * (gamma * inv_std) + beta
    mean = sum(x, axis=0) / len(x)
    xc = x - mean
    var = sum(xc * xc, axis=0) / len(x)
    xn = xc * (var + eps) ** -0.5
    running_mean *= momentum
    running_mean += (1 - momentum) * mean.data
    running_var *= momentum
    running_var += (1 - momentum) * var.data
    return gamma * xn + beta


__all__ = ["batch_norm", "broadcast_to", "conv2d", "cos", "dropout", "exp", "get_item", "linear",
           "log", "matmul", "max_pool2d", "mean_squared_error", "relu", "reshape", "sigmoid", "sin",
           "softmax", "softmax_cross_entropy", "sum", "sum_to", "tanh", "transpose"]
