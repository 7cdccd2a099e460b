"""Convolution and pooling, built on ``im2col``: images unrolled into a matrix.

A convolution slides ``FN`` filters of shape ``(C, FH, FW)`` over a batch of images
``(N, C, H, W)``. ``im2col`` lays every patch a filter sees out as one row, so that the
whole convolution is a single matrix product — the operation a BLAS library does fastest.
``col2im`` adds such rows back into images: the backward pass of ``im2col``.

Layouts follow the book "Deep Learning from Scratch", so learners' code carries over:
images ``(N, C, H, W)``, filters ``(FN, C, FH, FW)``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from .._i18n import _
from .._parallel import run_parts, split_batch, threads_for


def output_size(size: int, filter_size: int, stride: int, pad: int) -> int:
    """Positions a filter takes along one side: ``(size + 2 pad - filter) // stride + 1``."""
    out = (size + 2 * pad - filter_size) // stride + 1
    if out < 1:
        raise ValueError(_("a filter of {filter_size} with pad {pad} does not fit an input of "
                           "{size}").format(filter_size=filter_size, pad=pad, size=size))
    return out


class Buffers:
    """Big arrays kept from one call to the next, by name.

    A fresh array of tens of megabytes costs more than filling it: the system hands out
    zeroed memory page by page. Layers that unroll images keep their buffers here.
    """

    def __init__(self) -> None:
        self.arrays: dict[str, NDArray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> tuple[NDArray, bool]:
        """An array of ``shape`` and ``dtype`` (contents undefined); and whether it is new."""
        array = self.arrays.get(name)
        if array is not None and array.shape == shape and array.dtype == dtype:
            return array, False
        self.arrays[name] = array = np.empty(shape, dtype)
        return array, True


def unroll(x: NDArray, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0,
           buffers: Buffers | None = None) -> NDArray:
    """Every patch of ``x`` ``(N, C, H, W)`` as a column: ``(C * FH * FW, N * OH * OW)``.

    Row ``(c, i, j)`` holds, for every output position of every image, the pixel at offset
    ``(i, j)`` of channel ``c`` of its patch: one strided slice of all the images at once.
    So the loop runs over the ``FH * FW`` offsets only, and each copy moves whole image rows.
    """
    n, c, h, w = x.shape
    out_h = output_size(h, filter_h, stride, pad)
    out_w = output_size(w, filter_w, stride, pad)
    buffers = buffers or Buffers()
    if pad:
        padded, new = buffers.get("padded", (n, c, h + 2 * pad, w + 2 * pad), x.dtype)
        if new:
            padded.fill(0)  # the border; only the inside is ever written again
        padded[:, :, pad:pad + h, pad:pad + w] = x
        x = padded
    col, _ = buffers.get("col", (c, filter_h, filter_w, n, out_h, out_w), x.dtype)
    for i in range(filter_h):
        for j in range(filter_w):
            col[:, i, j] = x[:, :, i:i + stride * out_h:stride,
                             j:j + stride * out_w:stride].transpose(1, 0, 2, 3)
    return col.reshape(c * filter_h * filter_w, n * out_h * out_w)


def roll_back(col: NDArray, input_shape: tuple[int, ...], filter_h: int, filter_w: int,
              stride: int = 1, pad: int = 0, buffers: Buffers | None = None) -> NDArray:
    """The adjoint of :func:`unroll`: add each column's values back where they came from."""
    n, c, h, w = input_shape
    out_h = output_size(h, filter_h, stride, pad)
    out_w = output_size(w, filter_w, stride, pad)
    col = col.reshape(c, filter_h, filter_w, n, out_h, out_w)
    img, _ = (buffers or Buffers()).get(
        "img", (n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1), col.dtype)
    img.fill(0)
    for i in range(filter_h):
        for j in range(filter_w):
            img[:, :, i:i + stride * out_h:stride,
                j:j + stride * out_w:stride] += col[:, i, j].transpose(1, 0, 2, 3)
    return img[:, :, pad:h + pad, pad:w + pad].copy()  # the buffer is used again


def to_images(rows: NDArray, n: int, h: int, w: int, bias: NDArray | None = None, *,
              out: NDArray) -> NDArray:
    """Rows ``(C, N * H * W)``, a matrix product's layout, as images ``(N, C, H, W)`` in
    ``out``, plus ``bias[c]`` on channel ``c`` if given."""
    source = rows.reshape(len(rows), n, h, w).transpose(1, 0, 2, 3)
    if bias is None:
        out[...] = source
    else:
        np.add(source, bias[:, None, None], out=out)
    return out


def to_rows(images: NDArray, buffers: Buffers) -> NDArray:
    """Images ``(N, C, H, W)`` as rows ``(C, N * H * W)`` in a kept buffer: the inverse of
    :func:`to_images`."""
    n, c, h, w = images.shape
    rows, _ = buffers.get("rows", (c, n, h, w), images.dtype)
    rows[...] = images.transpose(1, 0, 2, 3)
    return rows.reshape(c, n * h * w)


def im2col(input_data: NDArray, filter_h: int, filter_w: int, stride: int = 1,
           pad: int = 0) -> NDArray:
    """Every patch of ``input_data`` ``(N, C, H, W)`` as a row: ``(N * OH * OW, C * FH * FW)``.

    The book's layout: rows run over images, then output rows, then output columns; each
    row holds a patch channel by channel. It is :func:`unroll`, transposed (a view).
    """
    return unroll(input_data, filter_h, filter_w, stride, pad).T


def col2im(col: NDArray, input_shape: tuple[int, ...], filter_h: int, filter_w: int,
           stride: int = 1, pad: int = 0) -> NDArray:
    """The adjoint of :func:`im2col`: add each row's values back where the patch came from."""
    return roll_back(col.T, input_shape, filter_h, filter_w, stride, pad)


class Convolution:
    """Convolution layer: ``FN`` filters ``W`` ``(FN, C, FH, FW)`` plus biases ``b`` ``(FN,)``.

    ``x``: ``(N, C, H, W)`` -> ``out``: ``(N, FN, OH, OW)``. Forward is one matrix product,
    ``W_col @ unroll(x) + b`` with ``W_col = W.reshape(FN, -1)``; backward is the matrix
    products of an ``Affine`` layer, then :func:`roll_back`.

    The batch is cut in parts, one per thread (:mod:`dvzero._parallel`): each thread
    unrolls and multiplies its own images, in buffers of its own. Memory stays bounded: when
    the unrolled batch would pass :attr:`max_col_bytes`, the parts are made smaller and
    unrolled again in backward instead of being kept.
    """

    #: The most memory the unrolled images of a batch may keep from forward to backward.
    max_col_bytes = 64 * 2**20
    #: The most memory a part of the batch takes unrolled when nothing is kept (and in
    #: backward's dx): small enough that the matrix product reads what the unrolling just
    #: wrote from the cache, not from memory.
    part_bytes = 2 * 2**20

    def __init__(self, W: NDArray, b: NDArray, stride: int = 1, pad: int = 0) -> None:
        self.W, self.b, self.stride, self.pad = W, b, int(stride), int(pad)
        self.x: NDArray | None = None
        self.cols: list[NDArray] | None = None  # each part's unrolled images, if kept
        self.dW: NDArray | None = None
        self.db: NDArray | None = None
        self.buffers: list[Buffers] = []  # each thread's own, for forward
        self.back_buffers: list[Buffers] = []  # and for backward

    def _plan(self, x: NDArray) -> tuple[list[slice], int, bool]:
        """The parts of the batch (one a thread if their unrolled images are kept, else of
        :attr:`part_bytes` each), the threads that run them, and whether they are kept."""
        _, channels, filter_h, filter_w = self.W.shape
        out_h, out_w = self._out_size(x)
        per_sample = max(1, out_h * out_w * channels * filter_h * filter_w * x.itemsize)
        n = len(x)
        threads = threads_for(n, n * per_sample)
        keep = n * per_sample <= self.max_col_bytes
        size = max(1, math.ceil(n / threads) if keep else self.part_bytes // per_sample)
        while len(self.buffers) < threads:
            self.buffers.append(Buffers())
            self.back_buffers.append(Buffers())
        return [slice(i, i + size) for i in range(0, n, size)], threads, keep

    def _out_size(self, x: NDArray) -> tuple[int, int]:
        _, _, filter_h, filter_w = self.W.shape
        return (output_size(x.shape[2], filter_h, self.stride, self.pad),
                output_size(x.shape[3], filter_w, self.stride, self.pad))

    def _unroll(self, x: NDArray, buffers: Buffers) -> NDArray:
        return unroll(x, self.W.shape[2], self.W.shape[3], self.stride, self.pad, buffers)

    def forward(self, x: NDArray, train_flg: bool = False) -> NDArray:
        filters = self.W.shape[0]
        out_h, out_w = self._out_size(x)
        parts, threads, keep = self._plan(x)
        self.x, self.parts, self.threads = x, parts, threads
        self.cols = [None] * len(parts) if keep else None
        out = np.empty((len(x), filters, out_h, out_w), x.dtype)

        def convolve(k: int, worker: int) -> None:  # images parts[k], on thread `worker`
            images = x[parts[k]]
            col = self._unroll(images, self.buffers[worker])
            rows, _ = self.buffers[worker].get("out", (filters, col.shape[1]), col.dtype)
            np.matmul(self.W.reshape(filters, -1), col, out=rows)  # (FN, n * OH * OW)
            to_images(rows, len(images), out_h, out_w, self.b, out=out[parts[k]])
            if keep:
                self.cols[k] = col

        run_parts(convolve, len(parts), threads)
        return out

    def backward(self, dout: NDArray, need_dx: bool = True) -> NDArray | None:
        filters = self.W.shape[0]
        # out = W_col col + b  =>  dW_col = dout col^T,  db = sum,  dcol = W_col^T dout
        dW, db = [None] * len(self.parts), [None] * len(self.parts)
        dx = np.empty(self.x.shape, dout.dtype) if need_dx else None
        by_convolution = self.stride == 1 and self.W.shape[2] == self.W.shape[3] > self.pad

        def back(k: int, worker: int) -> None:  # images parts[k], on thread `worker`
            part, buffers = self.parts[k], self.back_buffers[worker]
            col = self.cols[k] if self.cols else self._unroll(self.x[part], self.buffers[worker])
            rows = to_rows(dout[part], buffers)  # (FN, n * OH * OW), as col
            dW[k] = (col @ rows.T).T  # this order runs faster than rows @ col.T
            db[k] = rows.sum(axis=1)
            if need_dx and by_convolution:
                self._dx_by_convolution(dout[part], buffers, dx[part])
            elif need_dx:
                dcol, _ = buffers.get("dcol", col.shape, col.dtype)
                np.matmul(self.W.reshape(filters, -1).T, rows, out=dcol)
                dx[part] = roll_back(dcol, self.x[part].shape, *self.W.shape[2:],
                                     self.stride, self.pad, buffers)

        run_parts(back, len(self.parts), self.threads)
        # Summed in order, so that a run gives the same result every time.
        self.dW = sum(dW[1:], dW[0]).reshape(self.W.shape) if dW else np.zeros_like(self.W)
        self.db = sum(db[1:], db[0]) if db else np.zeros_like(self.b)
        return dx  # None for the first layer: nobody needs the images' gradient

    def _dx_by_convolution(self, dout: NDArray, buffers: Buffers, dx: NDArray) -> None:
        """dx (into ``dx``) as the convolution of ``dout`` with the filters turned by 180
        degrees, for stride 1 and a square filter wider than the padding.

        Each input pixel then receives from the outputs whose patches cover it, weighted by
        the filter entry facing it: a convolution of ``dout`` (padded by ``FH - 1 - pad``)
        with the flipped filters, channels swapped. It needs one matrix product and no
        ``roll_back``, whose scattered additions cost more.
        """
        filters, channels, filter_h, filter_w = self.W.shape
        flipped = self.W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(channels, -1)
        step = max(1, self.part_bytes // (dout[0].size * filter_h * filter_w * dout.itemsize))
        for start in range(0, len(dout), step):
            part = slice(start, start + step)
            col = unroll(dout[part], filter_h, filter_w, 1, filter_h - 1 - self.pad, buffers)
            to_images(flipped @ col, len(dout[part]), *dx.shape[2:], out=dx[part])


class Pooling:
    """Max pooling (or average pooling, ``mode="average"``) over ``pool_h x pool_w`` windows.

    ``x``: ``(N, C, H, W)`` -> ``(N, C, OH, OW)``; each channel is pooled on its own.
    Non-overlapping windows that tile the image (``stride`` equal to the window, no padding)
    take a fast path: one strided view of the image per position in the window; other
    shapes go through ``im2col``. A window's gradient goes to its maximum (the first, if
    several are equal), as in PyTorch.
    """

    def __init__(self, pool_h: int, pool_w: int, stride: int = 1, pad: int = 0,
                 mode: str = "max") -> None:
        if mode not in ("max", "average"):
            raise ValueError(_("mode must be 'max' or 'average', got {mode!r}").format(mode=mode))
        self.pool_h, self.pool_w = int(pool_h), int(pool_w)
        self.stride, self.pad, self.mode = int(stride), int(pad), mode
        self.x_shape: tuple[int, ...] | None = None
        self.arg_max: NDArray | None = None
        self.tiled = False

    def forward(self, x: NDArray, train_flg: bool = False) -> NDArray:
        self.x_shape = x.shape
        n, c, h, w = x.shape
        self.tiled = (self.pad == 0 and self.stride == self.pool_h == self.pool_w
                      and h % self.pool_h == 0 and w % self.pool_w == 0)
        if self.tiled and self.mode == "max" and self.pool_h == self.pool_w == 2:
            return self._max_2x2(x)
        if self.tiled:  # each view holds one position of every window
            views = [x[:, :, i::self.pool_h, j::self.pool_w]
                     for i in range(self.pool_h) for j in range(self.pool_w)]
            out = views[0].copy()
            combine = np.maximum if self.mode == "max" else np.add
            for view in views[1:]:
                combine(out, view, out=out)
            if self.mode == "average":
                out /= len(views)
            self.x, self.out = x, out
            return out
        out_h = output_size(h, self.pool_h, self.stride, self.pad)
        out_w = output_size(w, self.pool_w, self.stride, self.pad)
        # (N * C * OH * OW, PH * PW): every window, one channel at a time, as a row
        col = im2col(x.reshape(n * c, 1, h, w), self.pool_h, self.pool_w, self.stride, self.pad)
        if self.mode == "average":
            out = col.mean(axis=1)
        else:
            self.arg_max = np.argmax(col, axis=1)
            out = col[np.arange(col.shape[0]), self.arg_max]
        return out.reshape(n, c, out_h, out_w)

    def _max_2x2(self, x: NDArray) -> NDArray:
        """The usual 2x2 case in two halving steps: columns in pairs, then rows in pairs;
        each thread halves its own images (:func:`~dvzero._parallel.split_batch`)."""
        n, c, h, w = x.shape
        self.left_won = np.empty((n, c, h, w // 2), np.bool_)
        self.top_won = np.empty((n, c, h // 2, w // 2), np.bool_)
        out = np.empty((n, c, h // 2, w // 2), x.dtype)

        def halve(start: int, stop: int) -> None:
            left, right = x[start:stop, :, :, 0::2], x[start:stop, :, :, 1::2]
            np.greater_equal(left, right, out=self.left_won[start:stop])
            pairs = np.maximum(left, right)
            top, bottom = pairs[:, :, 0::2], pairs[:, :, 1::2]
            np.greater_equal(top, bottom, out=self.top_won[start:stop])
            np.maximum(top, bottom, out=out[start:stop])

        split_batch(halve, n, x.nbytes)
        return out

    def _max_2x2_backward(self, dout: NDArray) -> NDArray:
        """Each window's gradient to the winner of each halving step, undone in turn."""
        n, c, h, w = self.x_shape
        dx = np.empty(self.x_shape, dtype=dout.dtype)

        def spread(start: int, stop: int) -> None:
            grad, top_won = dout[start:stop], self.top_won[start:stop]
            pairs = np.empty((stop - start, c, h, w // 2), dtype=dout.dtype)
            np.multiply(grad, top_won, out=pairs[:, :, 0::2])
            np.subtract(grad, pairs[:, :, 0::2], out=pairs[:, :, 1::2])  # the other row
            np.multiply(pairs, self.left_won[start:stop], out=dx[start:stop, ..., 0::2])
            np.subtract(pairs, dx[start:stop, ..., 0::2], out=dx[start:stop, ..., 1::2])  # column

        split_batch(spread, n, dx.nbytes)
        return dx

    def backward(self, dout: NDArray) -> NDArray:
        n, c, h, w = self.x_shape
        window = self.pool_h * self.pool_w
        if self.tiled and self.mode == "max" and self.pool_h == self.pool_w == 2:
            return self._max_2x2_backward(dout)
        if self.tiled:
            dx = np.empty(self.x_shape, dtype=dout.dtype)
            taken = np.zeros(self.out.shape, np.bool_)  # windows whose maximum has its gradient
            for i in range(self.pool_h):
                for j in range(self.pool_w):
                    target = dx[:, :, i::self.pool_h, j::self.pool_w]
                    if self.mode == "average":
                        np.divide(dout, window, out=target)
                        continue
                    hit = self.x[:, :, i::self.pool_h, j::self.pool_w] == self.out
                    hit &= ~taken
                    taken |= hit
                    np.multiply(dout, hit, out=target)
            return dx
        dout = dout.reshape(-1)
        if self.mode == "average":
            dcol = np.repeat((dout / window)[:, None], window, axis=1)
        else:
            dcol = np.zeros((dout.size, window), dtype=dout.dtype)
            dcol[np.arange(dout.size), self.arg_max] = dout
        dx = col2im(dcol, (n * c, 1, h, w), self.pool_h, self.pool_w, self.stride, self.pad)
        return dx.reshape(n, c, h, w)
