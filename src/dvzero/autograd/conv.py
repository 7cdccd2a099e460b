"""Convolution and max pooling on the graph, built on the layers' ``im2col`` and ``col2im``.

``conv2d`` unrolls every patch of the images into a row (:class:`Im2col`), multiplies by
the filters laid out as a matrix and reshapes: three steps whose derivatives the graph
already knows, so only the unrolling needs a backward of its own, ``col2im``, which is
``im2col``'s adjoint, and the other way round. ``max_pool2d`` takes the largest entry of
each unrolled window. Layouts as in :mod:`dvzero.layers.conv`: images ``(N, C, H, W)``,
filters ``(FN, C, FH, FW)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._i18n import _
from ..layers.conv import col2im, im2col, output_size
from .core import Function, Variable, as_variable
from .operators import broadcast_to, linear, reshape, transpose


class Im2col(Function):
    """Images ``(N, C, H, W)`` -> every patch as a row ``(N * OH * OW, C * FH * FW)``."""

    def __init__(self, filter_h: int, filter_w: int, stride: int, pad: int) -> None:
        self.window = (filter_h, filter_w, stride, pad)

    def forward(self, x: NDArray) -> NDArray:
        return im2col(x, *self.window)

    def backward(self, gy: Variable) -> Variable:
        return Col2im(self.inputs[0].shape, *self.window)(gy)


class Col2im(Function):
    """Rows of patches -> images, each entry added back where it came from."""

    def __init__(self, shape: tuple[int, ...], filter_h: int, filter_w: int, stride: int,
                 pad: int) -> None:
        self.shape, self.window = shape, (filter_h, filter_w, stride, pad)

    def forward(self, col: NDArray) -> NDArray:
        return col2im(col, self.shape, *self.window)

    def backward(self, gy: Variable) -> Variable:
        return Im2col(*self.window)(gy)


class WindowMax(Function):
    """The largest entry of each row ``(M, K)`` -> ``(M,)``; its gradient goes to that entry
    (the first, if several are equal), as the ``Pooling`` layer's does."""

    def forward(self, col: NDArray) -> NDArray:
        arg_max = np.argmax(col, axis=1)
        self.winner = np.zeros(col.shape, np.bool_)
        self.winner[np.arange(len(col)), arg_max] = True
        return col[np.arange(len(col)), arg_max]

    def backward(self, gy: Variable) -> Variable:
        return broadcast_to(reshape(gy, (-1, 1)), self.winner.shape) * self.winner


def _checked(name: str, x: Variable, what: str, **window: int) -> tuple[int, int, int, int]:
    """``x``'s 4-D shape, and the window's sizes checked (``pad`` >= 0, the rest >= 1).
    ``what``: what ``x`` must be, in the user's language."""
    if x.ndim != 4:
        raise ValueError(_("{name} takes {what}, got shape {shape}")
                         .format(name=name, what=what, shape=x.shape))
    for key, value in window.items():
        least = 0 if key == "pad" else 1
        if int(value) != value or value < least:
            raise ValueError(_("{name}: {key} must be a whole number >= {least}, got {value!r}")
                             .format(name=name, key=key, least=least, value=value))
    return x.shape


def conv2d(x: Any, W: Any, b: Any = None, stride: int = 1, pad: int = 0) -> Variable:  # noqa: N803
    """The convolution of images ``x`` ``(N, C, H, W)`` with filters ``W`` ``(FN, C, FH, FW)``
    plus biases ``b`` ``(FN,)``: ``(N, FN, OH, OW)``, as the ``Convolution`` layer."""
    x, W = as_variable(x), as_variable(W)
    n, channels, height, width = _checked("conv2d", x, _("images (N, C, H, W)"), stride=stride,
                                          pad=pad)
    filters, filter_channels, filter_h, filter_w = _checked("conv2d", W,
                                                            _("filters (FN, C, FH, FW)"))
    if filter_channels != channels:
        raise ValueError(_("conv2d: the images have {channels} channels, the filters "
                           "{filter_channels}")
                         .format(channels=channels, filter_channels=filter_channels))
    if b is not None and np.shape(b.data if isinstance(b, Variable) else b) != (filters,):
        raise ValueError(_("conv2d: b must have shape ({filters},) for {filters} filters, got "
                           "{shape}")
                         .format(filters=filters,
                                 shape=np.shape(b.data if isinstance(b, Variable) else b)))
    out_h = output_size(height, filter_h, stride, pad)
    out_w = output_size(width, filter_w, stride, pad)
    col = Im2col(filter_h, filter_w, stride, pad)(x)  # (N * OH * OW, C * FH * FW)
    y = linear(col, reshape(W, (filters, -1)).T, b)  # (N * OH * OW, FN)
    return transpose(reshape(y, (n, out_h, out_w, filters)), (0, 3, 1, 2))


def max_pool2d(x: Any, kernel_size: int, stride: int | None = None, pad: int = 0) -> Variable:
    """The largest value of each ``kernel_size x kernel_size`` window of each channel of
    ``x`` ``(N, C, H, W)``; windows ``stride`` apart (``kernel_size`` by default)."""
    x = as_variable(x)
    stride = kernel_size if stride is None else stride
    n, channels, height, width = _checked("max_pool2d", x, _("images (N, C, H, W)"),
                                          kernel_size=kernel_size, stride=stride, pad=pad)
    out_h = output_size(height, kernel_size, stride, pad)
    out_w = output_size(width, kernel_size, stride, pad)
    one_channel = reshape(x, (n * channels, 1, height, width))
    col = Im2col(kernel_size, kernel_size, stride, pad)(one_channel)  # a window a row
    return reshape(WindowMax()(col), (n, channels, out_h, out_w))
