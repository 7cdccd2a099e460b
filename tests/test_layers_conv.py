"""im2col, col2im, Convolution and Pooling: against direct loops, and gradient checks."""

import threading

import numpy as np
import pytest

from dvzero import _parallel, numerical_gradient
from dvzero._parallel import limit_threads
from dvzero.layers import Convolution, Pooling, col2im, im2col
from dvzero.layers import conv as conv_module

from helpers import max_relative_error


def direct_convolution(x, W, b, stride, pad):
    """The convolution by its definition: a loop over every output pixel (independent)."""
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, _, h, w = x.shape
    filters, _, fh, fw = W.shape
    out_h, out_w = (h - fh) // stride + 1, (w - fw) // stride + 1
    out = np.zeros((n, filters, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, :, i * stride:i * stride + fh, j * stride:j * stride + fw]
            out[:, :, i, j] = np.tensordot(patch, W, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


def direct_pooling(x, ph, pw, stride, pad, reduce):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, w = x.shape
    out_h, out_w = (h - ph) // stride + 1, (w - pw) // stride + 1
    out = np.zeros((n, c, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            out[:, :, i, j] = reduce(x[:, :, i * stride:i * stride + ph,
                                       j * stride:j * stride + pw], axis=(2, 3))
    return out


SHAPES = [(3, 1), (3, 2), (2, 1), (5, 2)]  # (filter, stride) pairs
PADS = [0, 1, 2]


@pytest.mark.parametrize(("filter_size", "stride"), SHAPES)
@pytest.mark.parametrize("pad", PADS)
def test_im2col_rows_are_the_patches_and_col2im_is_its_adjoint(rng, filter_size, stride, pad):
    x = rng.normal(size=(2, 3, 7, 6))
    col = im2col(x, filter_size, filter_size, stride, pad)
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out_h = (7 + 2 * pad - filter_size) // stride + 1
    out_w = (6 + 2 * pad - filter_size) // stride + 1
    assert col.shape == (2 * out_h * out_w, 3 * filter_size ** 2)
    row = 0
    for n in range(2):
        for i in range(out_h):
            for j in range(out_w):
                patch = padded[n, :, i * stride:i * stride + filter_size,
                               j * stride:j * stride + filter_size]
                np.testing.assert_array_equal(col[row], patch.ravel())
                row += 1
    # <im2col(x), y> == <x, col2im(y)> for any y: col2im is the transpose of im2col.
    y = rng.normal(size=col.shape)
    assert np.sum(col * y) == pytest.approx(
        np.sum(x * col2im(y, x.shape, filter_size, filter_size, stride, pad)), rel=1e-12)


@pytest.mark.parametrize(("filter_size", "stride"), SHAPES)
@pytest.mark.parametrize("pad", PADS)
def test_convolution_forward_is_the_definition(rng, filter_size, stride, pad):
    x = rng.normal(size=(2, 3, 7, 6))
    W, b = rng.normal(size=(4, 3, filter_size, filter_size)), rng.normal(size=4)
    np.testing.assert_allclose(Convolution(W, b, stride, pad).forward(x),
                               direct_convolution(x, W, b, stride, pad), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("filter_size", "stride"), SHAPES)
@pytest.mark.parametrize("pad", PADS)
def test_convolution_backward_matches_numerical(rng, filter_size, stride, pad):
    x = rng.normal(size=(2, 2, 6, 5))
    W, b = rng.normal(size=(3, 2, filter_size, filter_size)), rng.normal(size=3)
    layer = Convolution(W, b, stride, pad)
    out = layer.forward(x)
    dout = rng.normal(size=out.shape)
    dx = layer.backward(dout)

    def objective(_):
        return float(np.sum(layer.forward(x) * dout))

    for analytic, array in ((dx, x), (layer.dW.copy(), W), (layer.db.copy(), b)):
        assert max_relative_error(analytic, numerical_gradient(objective, array)) < 1e-6


def test_convolution_skips_the_input_gradient_when_asked(rng):
    layer = Convolution(rng.normal(size=(2, 1, 3, 3)), np.zeros(2))
    layer.forward(rng.normal(size=(2, 1, 5, 5)))
    assert layer.backward(np.ones((2, 2, 3, 3)), need_dx=False) is None
    assert layer.dW.shape == (2, 1, 3, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_convolution_and_pooling_keep_the_dtype(rng, dtype):
    x = rng.normal(size=(2, 3, 8, 8)).astype(dtype)
    conv = Convolution(rng.normal(size=(4, 3, 3, 3)).astype(dtype), np.zeros(4, dtype), 1, 1)
    pool = Pooling(2, 2, 2)
    out = pool.forward(conv.forward(x))
    assert out.dtype == dtype
    dx = conv.backward(pool.backward(np.ones_like(out)))
    assert dx.dtype == conv.dW.dtype == conv.db.dtype == dtype


POOLS = [(2, 2, 2, 0), (3, 3, 1, 0), (2, 2, 1, 1), (3, 2, 2, 1), (2, 2, 2, 1)]


@pytest.mark.parametrize(("ph", "pw", "stride", "pad"), POOLS)
@pytest.mark.parametrize("mode", ["max", "average"])
def test_pooling_forward_is_the_definition(rng, ph, pw, stride, pad, mode):
    x = rng.normal(size=(2, 3, 6, 6))
    reduce = np.max if mode == "max" else np.mean
    np.testing.assert_allclose(Pooling(ph, pw, stride, pad, mode=mode).forward(x),
                               direct_pooling(x, ph, pw, stride, pad, reduce), rtol=1e-12)


@pytest.mark.parametrize(("ph", "pw", "stride", "pad"), POOLS)
@pytest.mark.parametrize("mode", ["max", "average"])
def test_pooling_backward_matches_numerical(rng, ph, pw, stride, pad, mode):
    x = rng.normal(size=(2, 2, 6, 6))
    if pad and mode == "max":
        x = np.abs(x) + 0.1  # keep the padding's zeros from ever being a maximum
    layer = Pooling(ph, pw, stride, pad, mode=mode)
    out = layer.forward(x)
    dout = rng.normal(size=out.shape)
    dx = layer.backward(dout)
    numerical = numerical_gradient(lambda _: float(np.sum(layer.forward(x) * dout)), x)
    assert max_relative_error(dx, numerical) < 1e-6


@pytest.mark.parametrize("stride", [2, 1])  # the fast path, and im2col
def test_max_pooling_gives_a_tied_windows_gradient_to_one_maximum(stride):
    x = np.zeros((1, 1, 2, 2))  # after ReLU, whole windows of zeros are common
    layer = Pooling(2, 2, stride)
    layer.forward(x)
    dx = layer.backward(np.full((1, 1, 1, 1), 3.0))
    np.testing.assert_array_equal(dx, [[[[3.0, 0.0], [0.0, 0.0]]]])  # the first, as PyTorch


def test_shapes_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="does not fit"):
        im2col(np.zeros((1, 1, 3, 3)), 5, 5)
    with pytest.raises(ValueError, match="mode"):
        Pooling(2, 2, mode="median")


def test_a_batch_over_the_memory_budget_is_unrolled_in_parts_with_the_same_result(
        rng, monkeypatch):
    x = rng.normal(size=(9, 2, 6, 6))
    W, b = rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    whole = Convolution(W, b, 1, 1)
    out = whole.forward(x)
    dout = rng.normal(size=out.shape)
    dx = whole.backward(dout)
    assert len(whole.parts) == 1 and whole.cols is not None  # kept for backward
    monkeypatch.setattr(Convolution, "max_col_bytes", 2 * 36 * 18 * 8)
    monkeypatch.setattr(Convolution, "part_bytes", 2 * 36 * 18 * 8)  # two images a part
    chunked = Convolution(W, b, 1, 1)
    assert len(chunked._plan(x)[0]) == 5
    np.testing.assert_allclose(chunked.forward(x), out, rtol=1e-12)
    assert chunked.cols is None  # nothing unrolled kept: recomputed in backward
    np.testing.assert_allclose(chunked.backward(dout), dx, rtol=1e-12)
    np.testing.assert_allclose(chunked.dW, whole.dW, rtol=1e-12)
    np.testing.assert_allclose(chunked.db, whole.db, rtol=1e-12)


def test_an_empty_batch_gives_empty_outputs_and_zero_gradients(rng):
    layer = Convolution(rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3), 1, 1)
    out = layer.forward(np.zeros((0, 2, 5, 5)))
    assert out.shape == (0, 3, 5, 5)
    assert layer.backward(out).shape == (0, 2, 5, 5)
    np.testing.assert_array_equal(layer.dW, np.zeros((3, 2, 3, 3)))
    np.testing.assert_array_equal(layer.db, np.zeros(3))


@pytest.fixture
def three_threads(monkeypatch):
    """Batches split in parts on three threads, however small; the threads that unrolled."""
    monkeypatch.setattr(_parallel, "MIN_PART_BYTES", 1)
    seen = set()
    original = conv_module.unroll

    def unroll(*args, **kwargs):
        seen.add(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(conv_module, "unroll", unroll)
    with limit_threads(3, split_batches=True):
        yield seen


@pytest.mark.parametrize(("stride", "pad", "need_dx", "n", "kept", "dtype"),
                         [(1, 1, True, 7, True, np.float64), (1, 0, False, 7, True, np.float64),
                          (2, 1, True, 7, True, np.float64), (1, 2, True, 7, True, np.float64),
                          (1, 1, True, 2, True, np.float64),  # fewer images than threads
                          (1, 1, True, 7, False, np.float64),  # parts unrolled again
                          (2, 1, True, 7, False, np.float32)])
def test_parts_on_several_threads_give_the_result_of_one(rng, three_threads, monkeypatch,
                                                         stride, pad, need_dx, n, kept, dtype):
    x = rng.normal(size=(n, 2, 6, 6)).astype(dtype)
    W, b = rng.normal(size=(4, 2, 3, 3)).astype(dtype), rng.normal(size=4).astype(dtype)
    if not kept:  # two images a part, more parts than threads: each worker reuses its buffer
        monkeypatch.setattr(Convolution, "max_col_bytes", 1)
        side = conv_module.output_size(6, 3, stride, pad)
        monkeypatch.setattr(Convolution, "part_bytes", 2 * side * side * 18 * x.itemsize)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    with limit_threads(1):
        alone = Convolution(W, b, stride, pad)
        out = alone.forward(x)
        dout = rng.normal(size=out.shape).astype(dtype)
        dx = alone.backward(dout, need_dx)
    dWs = []
    for _ in range(2):
        split = Convolution(W, b, stride, pad)
        np.testing.assert_allclose(split.forward(x), out, rtol=rtol, atol=rtol)
        assert len(split.parts) == (min(n, 3) if kept else 4)
        assert (split.cols is not None) == kept
        got = split.backward(dout, need_dx)
        if need_dx:
            assert got.dtype == dtype
            np.testing.assert_allclose(got, dx, rtol=rtol, atol=rtol)
        else:
            assert got is None
        np.testing.assert_allclose(split.dW, alone.dW, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(split.db, alone.db, rtol=rtol, atol=rtol)
        dWs.append(split.dW)
    np.testing.assert_array_equal(dWs[0], dWs[1])  # the same bits every time
    assert len(three_threads) >= 2  # this thread and the pool's really shared the parts


def test_max_pooling_in_parts_is_bit_for_bit_the_pooling_of_one_thread(rng, three_threads):
    x = rng.normal(size=(5, 3, 8, 6)).astype(np.float32)
    x[0, 0, :2, :2] = 1.0  # a tie
    with limit_threads(1):
        alone = Pooling(2, 2, 2)
        out = alone.forward(x)
        dout = rng.normal(size=out.shape).astype(np.float32)
        dx = alone.backward(dout)
    split = Pooling(2, 2, 2)
    np.testing.assert_array_equal(split.forward(x), out)
    np.testing.assert_array_equal(split.backward(dout), dx)
