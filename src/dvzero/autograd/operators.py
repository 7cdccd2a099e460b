"""The Functions behind a Variable's operators and shapes: ``+ - * / ** @``, indexing,
``reshape``, ``transpose``, ``sum``, and the two that undo broadcasting, ``sum_to`` and
``broadcast_to``; ``linear`` (``x @ W + b`` as one step) too.

Each class's ``backward`` is the derivative of its ``forward``, written with these same
functions, so that it can be differentiated again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._i18n import _
from .core import Function, Variable, as_variable

Axis = int | tuple[int, ...] | None


def _pair(x0: Any, x1: Any) -> tuple[Variable, Variable]:
    """Both operands as Variables; a number beside a Variable takes its dtype."""
    if isinstance(x0, Variable):
        return x0, as_variable(x1, like=x0)
    x1 = as_variable(x1)
    return as_variable(x0, like=x1), x1


def _to_shape_of(gx: Variable, x: Variable) -> Variable | None:
    """The gradient for input ``x``: ``gx`` summed back to ``x``'s shape where ``x`` was
    broadcast; ``None`` if ``x`` needs no gradient."""
    if not x.requires_grad:
        return None
    return sum_to(gx, x.shape)


# ---------------------------------------------------------------- arithmetic

class Add(Function):
    def forward(self, x0: NDArray, x1: NDArray) -> NDArray:
        return x0 + x1

    def backward(self, gy: Variable) -> tuple[Variable | None, ...]:
        x0, x1 = self.inputs
        return _to_shape_of(gy, x0), _to_shape_of(gy, x1)


class Sub(Function):
    def forward(self, x0: NDArray, x1: NDArray) -> NDArray:
        return x0 - x1

    def backward(self, gy: Variable) -> tuple[Variable | None, ...]:
        x0, x1 = self.inputs
        gx1 = _to_shape_of(-gy, x1) if x1.requires_grad else None
        return _to_shape_of(gy, x0), gx1


class Mul(Function):
    def forward(self, x0: NDArray, x1: NDArray) -> NDArray:
        return x0 * x1

    def backward(self, gy: Variable) -> tuple[Variable | None, ...]:
        x0, x1 = self.inputs
        return (_to_shape_of(gy * x1, x0) if x0.requires_grad else None,
                _to_shape_of(gy * x0, x1) if x1.requires_grad else None)


class Div(Function):
    def forward(self, x0: NDArray, x1: NDArray) -> NDArray:
        return x0 / x1

    def backward(self, gy: Variable) -> tuple[Variable | None, ...]:
        x0, x1 = self.inputs  # d(x0 / x1) = dx0 / x1 - x0 dx1 / x1^2
        return (_to_shape_of(gy / x1, x0) if x0.requires_grad else None,
                _to_shape_of(-gy * x0 / (x1 * x1), x1) if x1.requires_grad else None)


class Neg(Function):
    def forward(self, x: NDArray) -> NDArray:
        return -x

    def backward(self, gy: Variable) -> Variable:
        return -gy


class Pow(Function):
    """``x ** c`` for a constant exponent ``c``."""

    def __init__(self, c: float) -> None:
        self.c = c

    def forward(self, x: NDArray) -> NDArray:
        return x ** self.c

    def backward(self, gy: Variable) -> Variable | None:
        if self.c == 0:  # a constant: nothing flows back (and 0 * x ** -1 would be nan at 0)
            return None
        (x,) = self.inputs
        return gy * (self.c * x ** (self.c - 1))


def add(x0: Any, x1: Any) -> Variable:
    return Add()(*_pair(x0, x1))


def sub(x0: Any, x1: Any) -> Variable:
    return Sub()(*_pair(x0, x1))


def mul(x0: Any, x1: Any) -> Variable:
    return Mul()(*_pair(x0, x1))


def div(x0: Any, x1: Any) -> Variable:
    return Div()(*_pair(x0, x1))


def neg(x: Any) -> Variable:
    return Neg()(x)


def power(x: Any, c: float) -> Variable:
    """``x ** c``; the exponent is a number, not a Variable."""
    if isinstance(c, Variable) or np.ndim(c) != 0:
        raise TypeError(_("the exponent of ** must be a number, got {type}")
                        .format(type=type(c).__name__))
    return Pow(np.asarray(c).item())(x)  # a Python number: a float32 graph stays float32


# ---------------------------------------------------------------- shapes

class Reshape(Function):
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: NDArray) -> NDArray:
        return x.reshape(self.shape)

    def backward(self, gy: Variable) -> Variable:
        return reshape(gy, self.inputs[0].shape)


class Transpose(Function):
    def __init__(self, axes: tuple[int, ...] | None) -> None:
        self.axes = axes

    def forward(self, x: NDArray) -> NDArray:
        return np.transpose(x, self.axes)

    def backward(self, gy: Variable) -> Variable:
        if self.axes is None:
            return transpose(gy)
        return transpose(gy, tuple(np.argsort(self.axes)))  # the inverse permutation


class Sum(Function):
    def __init__(self, axis: Axis, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: NDArray) -> NDArray:
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy: Variable) -> Variable:
        shape = self.inputs[0].shape  # every input summed into an output gets its gradient
        if not self.keepdims:
            axes = range(len(shape)) if self.axis is None else np.atleast_1d(self.axis)
            summed = {axis % len(shape) for axis in axes}
            gy = reshape(gy, tuple(1 if i in summed else n for i, n in enumerate(shape)))
        return broadcast_to(gy, shape)


class SumTo(Function):
    """Sums an array down to ``shape``: the adjoint of broadcasting to the array's shape."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: NDArray) -> NDArray:
        lead = x.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(self.shape) if n == 1)
        return x.sum(axis=axes, keepdims=True).reshape(self.shape)

    def backward(self, gy: Variable) -> Variable:
        return broadcast_to(gy, self.inputs[0].shape)


class BroadcastTo(Function):
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: NDArray) -> NDArray:
        return np.broadcast_to(x, self.shape).copy()  # a view would be read-only

    def backward(self, gy: Variable) -> Variable:
        return sum_to(gy, self.inputs[0].shape)


class GetItem(Function):
    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x: NDArray) -> NDArray:
        return x[self.index]

    def backward(self, gy: Variable) -> Variable:
        return GetItemGrad(self.index, self.inputs[0].shape)(gy)


class GetItemGrad(Function):
    """The gradient of ``x[index]``: ``gy`` added into zeros of ``x``'s shape at ``index``
    (added, so that an entry picked twice gets both)."""

    def __init__(self, index: Any, shape: tuple[int, ...]) -> None:
        self.index, self.shape = index, shape

    def forward(self, gy: NDArray) -> NDArray:
        gx = np.zeros(self.shape, gy.dtype)
        np.add.at(gx, self.index, gy)
        return gx

    def backward(self, ggx: Variable) -> Variable:
        return get_item(ggx, self.index)


def reshape(x: Any, shape: int | tuple[int, ...]) -> Variable:
    x = as_variable(x)
    shape = tuple(np.atleast_1d(shape).tolist())
    return x if x.shape == shape else Reshape(shape)(x)


def transpose(x: Any, axes: int | tuple[int, ...] | None = None) -> Variable:
    """``x`` with its axes reversed, or permuted as ``axes`` says (negative ones count from
    the end), like ``numpy.transpose``."""
    x = as_variable(x)
    if axes is not None:
        axes = tuple(int(axis) % max(x.ndim, 1) for axis in np.atleast_1d(axes))
    return Transpose(axes)(x)


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """The sum of the entries (over ``axis``, if given), like ``numpy.sum``."""
    return Sum(axis, keepdims)(x)


def sum_to(x: Any, shape: tuple[int, ...]) -> Variable:
    """``x`` summed over the axes along which an array of ``shape`` was broadcast to it."""
    x, shape = as_variable(x), tuple(shape)
    try:
        fits = np.broadcast_shapes(shape, x.shape) == x.shape
    except ValueError:  # the shapes do not broadcast at all
        fits = False
    if not fits:
        raise ValueError(_("sum_to: an array of shape {shape} does not broadcast to {target}")
                         .format(shape=shape, target=x.shape))
    return x if x.shape == shape else SumTo(shape)(x)


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Variable:
    x = as_variable(x)
    return x if x.shape == tuple(shape) else BroadcastTo(tuple(shape))(x)


def get_item(x: Any, index: Any) -> Variable:
    """``x[index]``: slices, integers, integer arrays."""
    return GetItem(index)(x)


# ---------------------------------------------------------------- products

def _swap_last(x: Variable) -> Variable:
    """``x`` with its last two axes swapped (the transpose of each matrix of a stack)."""
    axes = list(range(x.ndim))
    axes[-2:] = axes[:-3:-1]
    return transpose(x, tuple(axes))


class Matmul(Function):
    def forward(self, x: NDArray, W: NDArray) -> NDArray:  # noqa: N803
        return x @ W

    def backward(self, gy: Variable) -> tuple[Variable | None, ...]:
        x, W = self.inputs  # y = x W  =>  dx = dy W^T,  dW = x^T dy
        return (_to_shape_of(matmul(gy, _swap_last(W)), x) if x.requires_grad else None,
                _to_shape_of(matmul(_swap_last(x), gy), W) if W.requires_grad else None)


class Linear(Function):
    """``x @ W + b`` as one step: an ``Affine`` layer's forward, for ``x`` ``(N, D)``."""

    def forward(self, x: NDArray, W: NDArray, b: NDArray | None = None) -> NDArray:  # noqa: N803
        y = x @ W
        return y if b is None else y + b

    def backward(self, gy: Variable) -> tuple[Variable | None, ...]:
        x, W, *b = self.inputs
        grads = (matmul(gy, W.T) if x.requires_grad else None,  # nobody needs the data's
                 matmul(x.T, gy) if W.requires_grad else None)
        return (*grads, *(sum_to(gy, bias.shape) if bias.requires_grad else None for bias in b))


def matmul(x: Any, W: Any) -> Variable:  # noqa: N803
    """The matrix product ``x @ W`` of two arrays of 2 dimensions or more (stacks of
    matrices broadcast, as in NumPy)."""
    x, W = _pair(x, W)
    if x.ndim < 2 or W.ndim < 2:
        raise ValueError(_("matmul takes arrays of 2 or more dimensions, got shapes {x_shape} "
                           "and {w_shape}").format(x_shape=x.shape, w_shape=W.shape))
    return Matmul()(x, W)


def linear(x: Any, W: Any, b: Any = None) -> Variable:  # noqa: N803
    """``x @ W + b`` for ``x`` ``(N, D)``, ``W`` ``(D, M)`` and ``b`` ``(M,)`` (or none)."""
    x, W = _pair(x, W)
    if x.ndim != 2 or W.ndim != 2 or x.shape[1] != W.shape[0]:
        raise ValueError(_("linear takes x (N, D) and W (D, M), got {x_shape} and {w_shape}")
                         .format(x_shape=x.shape, w_shape=W.shape))
    if b is None:
        return Linear()(x, W)
    b = as_variable(b, like=W)
    if b.shape not in ((W.shape[1],), ()):
        raise ValueError(_("linear takes b ({size},) for W {w_shape}, got {b_shape}")
                         .format(size=W.shape[1], w_shape=W.shape, b_shape=b.shape))
    return Linear()(x, W, b)
