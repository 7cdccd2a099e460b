"""dvzero.autograd: every Function's backward against central differences, on random shapes
(broadcasting included); values against independent computations and the layers; dtypes;
error messages."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import (
    array_shapes,
    arrays,
    mutually_broadcastable_shapes,
    valid_tuple_axes,
)

from dvzero import functions as array_functions
from dvzero.autograd import Function, Variable
from dvzero.autograd import functions as F
from dvzero.autograd.conv import Col2im, Im2col
from dvzero.autograd.operators import GetItemGrad
from dvzero.layers import BatchNormalization, Convolution, Dropout, Pooling

# ---------------------------------------------------------------- the check


class WeightedSum(Function):
    """``L = sum(y * R)``, so ``dL/dy = R``: one scalar loss that checks every entry of ``y``.
    Its backward is written here, independent of the operators under test."""

    def __init__(self, weight: np.ndarray) -> None:
        self.weight = weight

    def forward(self, y):
        return np.sum(y * self.weight)

    def backward(self, gy):
        return Variable(gy.data * self.weight, requires_grad=False)


def numerical_gradient(loss, x, h=1e-6):
    """Central differences of ``loss()`` with respect to ``x``, perturbed in place."""
    grad = np.empty_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + h
        up = loss()
        x[i] = saved - h
        down = loss()
        x[i] = saved
        grad[i] = (up - down) / (2 * h)
    return grad


def check_gradients(f, *inputs, seed=0, rtol=1e-6, atol=1e-6):
    """Check the gradients backward gives for ``L = sum(f(*inputs) * R)`` against central
    differences; ``f`` maps Variables to a Variable. Returns ``f``'s output."""
    inputs = [np.array(x, dtype=np.float64) for x in inputs]
    variables = [Variable(x.copy()) for x in inputs]
    y = f(*variables)
    weight = np.random.default_rng(seed).standard_normal(y.shape)
    WeightedSum(weight)(y).backward()

    def loss():
        return np.sum(f(*(Variable(x) for x in inputs)).data * weight)

    for k, (x, v) in enumerate(zip(inputs, variables, strict=True)):
        assert v.grad is not None, f"input {k} got no gradient"
        assert v.grad.shape == x.shape, f"input {k}: gradient {v.grad.shape}, input {x.shape}"
        assert v.grad.dtype == np.float64
        np.testing.assert_allclose(v.grad.data, numerical_gradient(loss, x), rtol=rtol,
                                   atol=atol, err_msg=f"gradient of input {k}")
    return y


def test_check_gradients_catches_a_wrong_backward():
    class WrongSquare(Function):
        def forward(self, x):
            return x * x

        def backward(self, gy):
            return gy * self.inputs[0]  # should be 2 x gy

    with pytest.raises(AssertionError, match="gradient of input 0"):
        check_gradients(lambda x: WrongSquare()(x), np.array([1.0, -2.0]))


# ---------------------------------------------------------------- strategies


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


ANY = floats(-2, 2)
POSITIVE = floats(0.5, 3)
AWAY_FROM_ZERO = floats(0.5, 2) | floats(-2, -0.5)
shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
seeds = st.integers(0, 2**32 - 1)


def float_arrays(shape, elements=ANY):
    return arrays(np.float64, shape, elements=elements)


@st.composite
def broadcast_pairs(draw, right=ANY):
    """Two arrays of mutually broadcastable shapes (0 to 3 dimensions)."""
    shape0, shape1 = draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=3,
                                                        max_side=3)).input_shapes
    return draw(float_arrays(shape0)), draw(float_arrays(shape1, right))


@st.composite
def reducible_shapes(draw):
    """``(big, small)``: ``small`` broadcasts to ``big`` (leading axes dropped, some 1s)."""
    big = draw(shapes)
    lead = draw(st.integers(0, len(big)))
    return big, tuple(1 if draw(st.booleans()) else n for n in big[lead:])


@st.composite
def shaped_axes(draw):
    """An array and a valid ``axis`` for it: None, an int (maybe negative) or a tuple."""
    x = draw(float_arrays(shapes))
    if x.ndim == 0:
        return x, None
    axis = draw(st.none() | st.integers(-x.ndim, x.ndim - 1) | valid_tuple_axes(x.ndim))
    return x, axis


# ---------------------------------------------------------------- operators

BINARY = [operator.add, operator.sub, operator.mul, operator.truediv]


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.__name__)
@settings(max_examples=40, deadline=None)
@given(pair=broadcast_pairs(right=AWAY_FROM_ZERO))
def test_arithmetic_broadcasts(op, pair):
    """Each input's gradient is summed back to that input's own shape."""
    y = check_gradients(op, *pair)
    np.testing.assert_allclose(y.data, op(*pair))


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.__name__)
@settings(max_examples=10, deadline=None)
@given(pair=broadcast_pairs(right=AWAY_FROM_ZERO))
def test_arithmetic_with_a_constant(op, pair):
    """An array or a number on either side is a constant: the Variable alone gets a gradient."""
    a, b = pair
    check_gradients(lambda x: op(x, b), a)
    check_gradients(lambda x: op(a, x), b)
    check_gradients(lambda x: op(x, 1.5), b)
    check_gradients(lambda x: op(-0.75, x), b)


@settings(max_examples=20, deadline=None)
@given(x=float_arrays(shapes))
def test_negation(x):
    y = check_gradients(operator.neg, x)
    np.testing.assert_array_equal(y.data, -x)


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1, -2.5, 0])
@settings(max_examples=10, deadline=None)
@given(x=float_arrays(shapes, POSITIVE))
def test_power(exponent, x):
    y = check_gradients(lambda v: v ** exponent, x)
    np.testing.assert_allclose(y.data, x ** exponent)


@settings(max_examples=15, deadline=None)
@given(x=float_arrays(shapes, POSITIVE))
def test_a_variable_used_twice_adds_its_gradients(x):
    check_gradients(lambda v: v * v - v / (v + 3) + F.sin(v) * v, x)


# ---------------------------------------------------------------- indexing

INDICES = [
    np.s_[1:3],
    np.s_[::2, 1:],
    np.s_[..., 0],
    np.s_[-1],
    np.s_[1, 2, 0],
    np.s_[[0, 0, 3, 1]],
    np.s_[np.array([[2, 2], [0, 2]])],
    np.s_[:, [1, 1, 0, 1]],
    np.s_[np.array([0, 0, 3]), np.array([2, 2, 0])],
    np.s_[1:, [0, 0], 1],
    np.s_[np.array([True, False, True, True])],
]


@pytest.mark.parametrize("index", INDICES, ids=[f"index{i}" for i in range(len(INDICES))])
@settings(max_examples=5, deadline=None)
@given(x=float_arrays((4, 3, 2)))
def test_indexing(index, x):
    y = check_gradients(lambda v: v[index], x)
    np.testing.assert_array_equal(y.data, x[index])


def test_repeated_indices_add_their_gradients():
    x = Variable(np.arange(5.0))
    F.sum(F.get_item(x, np.array([0, 3, 0, 0, 1]))).backward()
    np.testing.assert_array_equal(x.grad.data, [3, 1, 0, 1, 0])


@pytest.mark.parametrize("index", [np.s_[[0, 0, 3, 1]], np.s_[1:, [0, 0], 1], np.s_[::2]],
                         ids=["repeated", "mixed", "slice"])
def test_get_item_grad_backward(index):
    """The gradient of indexing is itself a Function (for second derivatives)."""
    gy = np.random.default_rng(1).standard_normal(np.empty((4, 3, 2))[index].shape)
    check_gradients(lambda g: GetItemGrad(index, (4, 3, 2))(g), gy)


# ---------------------------------------------------------------- shapes


@settings(max_examples=20, deadline=None)
@given(x=float_arrays(shapes))
def test_transposed_property(x):
    y = check_gradients(lambda v: v.T, x)
    np.testing.assert_array_equal(y.data, x.T)


@st.composite
def permuted(draw):
    x = draw(float_arrays(shapes))
    return x, tuple(draw(st.permutations(range(x.ndim))))


@settings(max_examples=25, deadline=None)
@given(case=permuted())
def test_transpose(case):
    x, axes = case
    y = check_gradients(lambda v: v.transpose(axes), x)
    np.testing.assert_array_equal(y.data, x.transpose(axes))
    check_gradients(lambda v: F.transpose(v, axes), x)
    if len(axes) > 1:  # one axis: test_transpose_of_a_vector_with_one_axis
        check_gradients(lambda v: v.transpose(*axes), x)


@pytest.mark.parametrize("axes", [(-1, 0), (0, -1, 1), (-1, -3, -2)], ids=str)
def test_transpose_with_negative_axes(axes):
    """NumPy takes negative axes; the gradient must undo the same permutation."""
    x = np.random.default_rng(2).standard_normal((2, 3, 4)[-len(axes):])
    y = check_gradients(lambda v: v.transpose(axes), x)
    np.testing.assert_array_equal(y.data, x.transpose(axes))


def test_transpose_of_a_vector_with_one_axis():
    """``v.transpose(0)`` of a 1-D array, as ``ndarray.transpose(0)``."""
    y = check_gradients(lambda v: v.transpose(0), np.array([1.0, 2.0, 3.0]))
    assert y.shape == (3,)


@st.composite
def reshapes(draw):
    x = draw(float_arrays(shapes))
    factors = [d for d in range(1, x.size + 1) if x.size % d == 0]
    first = draw(st.sampled_from(factors))
    new = draw(st.sampled_from([(first, -1), (x.size,), (-1,), (1, x.size, 1), (-1, first)]))
    return x, new


@settings(max_examples=25, deadline=None)
@given(case=reshapes())
def test_reshape(case):
    x, shape = case
    y = check_gradients(lambda v: v.reshape(shape), x)
    np.testing.assert_array_equal(y.data, x.reshape(shape))
    check_gradients(lambda v: v.reshape(*shape), x)
    check_gradients(lambda v: F.reshape(v, shape), x)


@pytest.mark.parametrize("keepdims", [False, True])
@settings(max_examples=25, deadline=None)
@given(case=shaped_axes())
def test_sum(keepdims, case):
    x, axis = case
    y = check_gradients(lambda v: v.sum(axis, keepdims), x)
    np.testing.assert_allclose(y.data, x.sum(axis=axis, keepdims=keepdims))
    check_gradients(lambda v: F.sum(v, axis=axis, keepdims=keepdims), x)


@settings(max_examples=25, deadline=None)
@given(case=reducible_shapes(), seed=seeds)
def test_sum_to_and_broadcast_to(case, seed):
    big, small = case
    rng = np.random.default_rng(seed)
    x_big, x_small = rng.standard_normal(big), rng.standard_normal(small)
    y = check_gradients(lambda v: F.sum_to(v, small), x_big)
    summed = x_big.sum(axis=tuple(range(len(big) - len(small))))
    ones = tuple(i for i, n in enumerate(small) if n == 1)
    np.testing.assert_allclose(y.data, summed.sum(axis=ones, keepdims=True), rtol=1e-12)
    y = check_gradients(lambda v: F.broadcast_to(v, big), x_small)
    np.testing.assert_array_equal(y.data, np.broadcast_to(x_small, big))


# ---------------------------------------------------------------- products


@st.composite
def matmul_operands(draw):
    """``x (..., n, k)`` and ``W (..., k, m)``, the batch axes (0 to 2) broadcasting."""
    batch0, batch1 = draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=2,
                                                        max_side=3)).input_shapes
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    return draw(float_arrays(batch0 + (n, k))), draw(float_arrays(batch1 + (k, m)))


@settings(max_examples=30, deadline=None)
@given(pair=matmul_operands())
def test_matmul(pair):
    x, w = pair
    y = check_gradients(operator.matmul, x, w)
    np.testing.assert_allclose(y.data, x @ w)
    check_gradients(F.matmul, x, w)
    check_gradients(lambda v: x @ v, w)  # an array on the left: Variable.__rmatmul__
    check_gradients(lambda v: F.matmul(v, w), x)


@pytest.mark.parametrize("with_bias", [True, False])
@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 4), d=st.integers(1, 4), m=st.integers(1, 4), seed=seeds)
def test_linear(with_bias, n, d, m, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((n, d)), rng.standard_normal((d, m)), rng.standard_normal(m)
    if with_bias:
        y = check_gradients(F.linear, x, w, b)
        np.testing.assert_allclose(y.data, x @ w + b)
        check_gradients(lambda v: F.linear(x, v, b), w)  # data without a gradient
    else:
        y = check_gradients(F.linear, x, w)
        np.testing.assert_allclose(y.data, x @ w)


# ---------------------------------------------------------------- element by element

ELEMENTWISE = [
    (F.exp, ANY, np.exp),
    (F.log, POSITIVE, np.log),
    (F.sin, floats(-4, 4), np.sin),
    (F.cos, floats(-4, 4), np.cos),
    (F.tanh, floats(-3, 3), np.tanh),
    (F.sigmoid, floats(-5, 5), array_functions.sigmoid),
    (F.relu, floats(0.01, 2) | floats(-2, -0.01), array_functions.relu),
]


@pytest.mark.parametrize(("f", "elements", "reference"), ELEMENTWISE,
                         ids=[f.__name__ for f, _, _ in ELEMENTWISE])
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_elementwise(f, elements, reference, data):
    x = data.draw(float_arrays(array_shapes(min_dims=0, max_dims=3, max_side=4), elements))
    y = check_gradients(f, x)
    np.testing.assert_allclose(y.data, reference(x), rtol=1e-15)


# ---------------------------------------------------------------- probabilities and losses


@settings(max_examples=25, deadline=None)
@given(x=float_arrays(array_shapes(min_dims=1, max_dims=3, max_side=4), floats(-5, 5)))
def test_softmax(x):
    y = check_gradients(F.softmax, x)
    np.testing.assert_allclose(y.data, array_functions.softmax(x), rtol=1e-15)


@st.composite
def logits_and_labels(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    labels = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    return draw(float_arrays((n, c), floats(-4, 4))), labels


@pytest.mark.parametrize("one_hot", [False, True], ids=["labels", "one-hot"])
@settings(max_examples=25, deadline=None)
@given(case=logits_and_labels())
def test_softmax_cross_entropy(one_hot, case):
    x, labels = case
    t = np.eye(x.shape[1])[labels] if one_hot else labels
    y = check_gradients(lambda v: F.softmax_cross_entropy(v, t), x)
    assert y.shape == ()
    expected = array_functions.cross_entropy_error(array_functions.softmax(x), t)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)


@pytest.mark.parametrize("t", [np.array([1]), np.array([[0.0, 1.0]])], ids=["labels", "one-hot"])
def test_softmax_cross_entropy_floor(t):
    """A probability below the floor costs what the floor costs, as in cross_entropy_error."""
    x = np.array([[1000.0, 0.0]])
    loss = F.softmax_cross_entropy(Variable(x), t)
    expected = array_functions.cross_entropy_error(array_functions.softmax(x), t)
    assert np.isfinite(loss.data)
    np.testing.assert_allclose(loss.data, expected, rtol=1e-12)
    np.testing.assert_allclose(loss.data, -np.log(array_functions.CROSS_ENTROPY_FLOOR))


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_mean_squared_error(data):
    shape = data.draw(shapes)
    y, t = data.draw(float_arrays(shape)), data.draw(float_arrays(shape))
    loss = check_gradients(F.mean_squared_error, y, t)
    np.testing.assert_allclose(loss.data, 0.5 * np.sum((y - t) ** 2), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(loss.data, array_functions.mean_squared_error(y, t), rtol=1e-12,
                               atol=1e-300)
    check_gradients(lambda v: F.mean_squared_error(v, t), y)  # the target a plain array


# ---------------------------------------------------------------- dropout and batch norm


@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.5, 0.9])
@settings(max_examples=10, deadline=None)
@given(x=float_arrays(array_shapes(min_dims=1, max_dims=3, max_side=4)), seed=seeds)
def test_dropout(ratio, x, seed):
    """The same generator state, the same mask: in every evaluation, and as the layer's."""
    y = check_gradients(lambda v: F.dropout(v, ratio, rng=np.random.default_rng(seed)), x)
    layer = Dropout(ratio, np.random.default_rng(seed))
    np.testing.assert_array_equal(y.data, layer.forward(x, train_flg=True))
    predicted = check_gradients(lambda v: F.dropout(v, ratio, train_flg=False), x)
    np.testing.assert_array_equal(predicted.data, x)


def test_dropout_draws_a_new_mask_each_call():
    rng = np.random.default_rng(0)
    x = Variable(np.ones(200))
    assert not np.array_equal(F.dropout(x, 0.5, rng=rng).data, F.dropout(x, 0.5, rng=rng).data)


def batch_norm_inputs(seed, n, d):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, d)) * rng.uniform(0.5, 2, d) + rng.standard_normal(d),
            rng.uniform(0.5, 2, d), rng.standard_normal(d),
            rng.standard_normal(d), rng.uniform(0.5, 2, d))


@settings(max_examples=20, deadline=None)
@given(seed=seeds, n=st.integers(3, 6), d=st.integers(1, 4))
def test_batch_norm_training(seed, n, d):
    x, gamma, beta, running_mean, running_var = batch_norm_inputs(seed, n, d)

    def f(xv, gv, bv):  # fresh running averages each evaluation: they change in place
        return F.batch_norm(xv, gv, bv, running_mean.copy(), running_var.copy(), momentum=0.8)

    y = check_gradients(f, x, gamma, beta)
    xn = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    np.testing.assert_allclose(y.data, gamma * xn + beta, rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(seed=seeds, n=st.integers(1, 4), d=st.integers(1, 4))
def test_batch_norm_predicting(seed, n, d):
    x, gamma, beta, running_mean, running_var = batch_norm_inputs(seed, n, d)
    saved = running_mean.copy(), running_var.copy()
    y = check_gradients(
        lambda xv, gv, bv: F.batch_norm(xv, gv, bv, running_mean, running_var, train_flg=False),
        x, gamma, beta)
    expected = (x - running_mean) / np.sqrt(running_var + 1e-5) * gamma + beta
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(running_mean, saved[0])  # predicting changes nothing
    np.testing.assert_array_equal(running_var, saved[1])


@pytest.mark.parametrize("momentum", [0.9, 0.7])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch_norm_as_the_layer(momentum, seed):
    """Output, running averages and gradients (dx, dgamma, dbeta) as BatchNormalization's."""
    x, gamma, beta, _, _ = batch_norm_inputs(seed, 5, 3)
    layer = BatchNormalization(gamma.copy(), beta.copy(), momentum=momentum)
    running_mean, running_var = np.zeros(3), np.ones(3)
    xv, gv, bv = Variable(x), Variable(gamma), Variable(beta)
    y = F.batch_norm(xv, gv, bv, running_mean, running_var, momentum=momentum)
    np.testing.assert_allclose(y.data, layer.forward(x, train_flg=True), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(running_mean, layer.running_mean, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(running_var, layer.running_var, rtol=1e-12)
    assert not np.array_equal(running_mean, np.zeros(3))  # they did move
    dout = np.random.default_rng(seed + 10).standard_normal(y.shape)
    WeightedSum(dout)(y).backward()
    dx = layer.backward(dout)
    np.testing.assert_allclose(xv.grad.data, dx, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gv.grad.data, layer.dgamma, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(bv.grad.data, layer.dbeta, rtol=1e-10, atol=1e-10)
    predicted = F.batch_norm(x, gamma, beta, running_mean, running_var, train_flg=False)
    np.testing.assert_allclose(predicted.data, layer.forward(x, train_flg=False), rtol=1e-12)


# ---------------------------------------------------------------- convolution and pooling


def conv_by_loops(x, w, b, stride, pad):
    """The convolution, one output position at a time."""
    _, _, fh, fw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out_h = (xp.shape[2] - fh) // stride + 1
    out_w = (xp.shape[3] - fw) // stride + 1
    out = np.zeros((len(x), len(w), out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            patch = xp[:, :, i * stride:i * stride + fh, j * stride:j * stride + fw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return out if b is None else out + b[:, None, None]


@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("pad", [0, 1])
@pytest.mark.parametrize("stride", [1, 2])
@settings(max_examples=4, deadline=None)
@given(h=st.integers(5, 7), w=st.integers(5, 7), seed=seeds)
def test_conv2d(stride, pad, with_bias, h, w, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2, h, w))
    filters, b = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    if with_bias:
        y = check_gradients(lambda *v: F.conv2d(*v, stride=stride, pad=pad), x, filters, b)
    else:
        y = check_gradients(lambda *v: F.conv2d(*v, stride=stride, pad=pad), x, filters)
    np.testing.assert_allclose(y.data, conv_by_loops(x, filters, b if with_bias else None,
                                                     stride, pad), rtol=1e-12, atol=1e-12)
    layer = Convolution(filters, b if with_bias else np.zeros(3), stride, pad)
    np.testing.assert_allclose(y.data, layer.forward(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("stride", "pad"), [(1, 0), (2, 1)])
def test_col2im_backward(stride, pad):
    """im2col's adjoint is a Function too (for second derivatives), and so is its adjoint."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 2, 5, 4))
    col = Im2col(3, 2, stride, pad)(Variable(x))
    check_gradients(lambda v: Im2col(3, 2, stride, pad)(v), x)
    check_gradients(lambda c: Col2im(x.shape, 3, 2, stride, pad)(c),
                    rng.standard_normal(col.shape))


def distinct_images(seed, shape):
    """Images whose values are all different, by 0.1 at least: no ties in a window."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(np.prod(shape)).reshape(shape) - np.prod(shape) / 2) * 0.1


@pytest.mark.parametrize("stride", [2, 1], ids=["stride-2", "overlapping"])
@settings(max_examples=8, deadline=None)
@given(h=st.integers(4, 7), w=st.integers(4, 7), seed=seeds)
def test_max_pool2d(stride, h, w, seed):
    x = distinct_images(seed, (2, 2, h, w))
    y = check_gradients(lambda v: F.max_pool2d(v, 2, stride), x)
    layer = Pooling(2, 2, stride)
    np.testing.assert_array_equal(y.data, layer.forward(x))
    xv = Variable(x)
    dout = np.random.default_rng(seed).standard_normal(y.shape)
    WeightedSum(dout)(F.max_pool2d(xv, 2, stride)).backward()
    np.testing.assert_allclose(xv.grad.data, layer.backward(dout), rtol=1e-15)


def test_max_pool2d_stride_defaults_to_the_kernel():
    x = distinct_images(4, (1, 2, 6, 6))
    np.testing.assert_array_equal(F.max_pool2d(x, 3).data, Pooling(3, 3, 3).forward(x))


# ---------------------------------------------------------------- dtypes


def test_a_float32_graph_stays_float32():
    rng = np.random.default_rng(5)
    x = Variable(rng.standard_normal((3, 4)).astype(np.float32))
    steps = [x * 2, 2 * x, x + np.array(0.5), np.float64(0.5) + x, x / 3.0, 1.0 - x, x ** 2,
             F.tanh(x), F.sigmoid(x), F.softmax(x)]
    for step in steps:
        assert step.dtype == np.float32
    h = F.tanh((x * 2 + np.array(0.5)) / 3.0)
    loss = F.softmax_cross_entropy(h, np.array([0, 3, 1]))
    mse = F.mean_squared_error(h, np.zeros((3, 4), np.float32))
    assert loss.dtype == np.float32 and mse.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32
    x.cleargrad()
    mse.backward()
    assert x.grad.dtype == np.float32
    x.cleargrad()
    F.sum(F.sum(sum(steps), axis=0) * np.ones(4)[0]).backward()
    assert x.grad.dtype == np.float32


# ---------------------------------------------------------------- errors


def test_errors_say_what_was_expected():
    x = Variable(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"2 or more dimensions, got shapes \(3,\) and \(3, 2\)"):
        F.matmul(Variable(np.ones(3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"got shapes \(4, 3\) and \(3,\)"):
        F.matmul(x, np.ones(3))
    with pytest.raises(ValueError, match=r"x \(N, D\) and W \(D, M\), got \(4, 3\) and \(4, 2\)"):
        F.linear(x, np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"labels \(N,\) or one-hot \(N, C\), got \(4, 3\) and "
                                         r"\(3,\)"):
        F.softmax_cross_entropy(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"got \(4, 3\) and \(4, 2\)"):
        F.softmax_cross_entropy(x, np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"y has shape \(4, 3\), t has shape \(3, 4\)"):
        F.mean_squared_error(x, np.ones((3, 4)))
    with pytest.raises(ValueError, match="the images have 2 channels, the filters 3"):
        F.conv2d(np.ones((1, 2, 5, 5)), Variable(np.ones((4, 3, 3, 3))))
    with pytest.raises(TypeError, match=r"exponent of \*\* must be a number, got Variable"):
        x ** Variable(np.array(2.0))
    with pytest.raises(ValueError, match=r"dropout_ratio must be in \[0, 1\), got 1"):
        F.dropout(x, 1)


@pytest.mark.parametrize("call, message", [
    (lambda: F.sum_to(np.ones((2, 3)), (3, 2)), r"sum_to: an array of shape \(3, 2\) does not "
                                                r"broadcast to \(2, 3\)"),
    (lambda: F.sum_to(np.ones(3), (1, 3)), r"\(1, 3\) does not broadcast to \(3,\)"),
    (lambda: F.linear(np.ones((2, 3)), np.ones((3, 4)), np.ones(3)),
     r"linear takes b \(4,\) for W \(3, 4\), got \(3,\)"),
    (lambda: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3)), stride=0),
     "conv2d: stride must be a whole number >= 1, got 0"),
    (lambda: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3)), pad=-1),
     "conv2d: pad must be a whole number >= 0, got -1"),
    (lambda: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 1, 3, 3)), np.ones(3)),
     r"conv2d: b must have shape \(2,\) for 2 filters, got \(3,\)"),
    (lambda: F.conv2d(np.ones((1, 1, 5, 5)), np.ones((2, 3, 3))),
     r"conv2d takes filters \(FN, C, FH, FW\), got shape \(2, 3, 3\)"),
    (lambda: F.max_pool2d(np.ones((1, 1, 4, 4)), 0), "kernel_size must be a whole number >= 1"),
    (lambda: F.max_pool2d(np.ones((4, 4)), 2), r"max_pool2d takes images \(N, C, H, W\)"),
    (lambda: F.batch_norm(np.ones((2, 3, 4)), np.ones(3), np.zeros(3), np.zeros(3), np.ones(3)),
     r"batch_norm takes x \(N, D\), got shape \(2, 3, 4\)"),
])
def test_more_errors_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_batch_norm_refuses_running_averages_of_the_wrong_shape_before_changing_them():
    running_mean, running_var = np.zeros(5), np.ones(5)
    with pytest.raises(ValueError, match=r"running_mean must have shape \(3,\) for x \(4, 3\), "
                       r"got \(5,\)"):
        F.batch_norm(np.ones((4, 3)), np.ones(3), np.zeros(3), running_mean, running_var)
    np.testing.assert_array_equal(running_mean, np.zeros(5))  # untouched


def test_dropout_takes_a_seed_and_scales_integers_as_floats():
    a = F.dropout(np.full(1000, 10), 0.3, rng=5)
    b = F.dropout(np.full(1000, 10), 0.3, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.data, b.data)
    assert set(np.unique(a.data)) == {0.0, 10 / 0.7}
