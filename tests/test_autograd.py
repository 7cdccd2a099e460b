"""dvzero.autograd.core: Variables, Functions and the backward walk."""

from __future__ import annotations

import gc
import math
import threading
import weakref

import numpy as np
import pytest

from dvzero.autograd import Function, Variable, no_grad
from dvzero.autograd import functions as F


def test_variable_wraps_an_array():
    x = Variable(np.arange(6.0).reshape(2, 3), name="x")
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
    assert x.dtype == np.float64 and x.name == "x" and x.grad is None and x.creator is None
    assert "name='x'" in repr(x)
    assert Variable([1, 2]).dtype == np.float64  # integers become floats to take gradients


def test_numbers_and_arrays_mix_in_on_either_side():
    x = Variable(np.array([1.0, 2.0]))
    a = np.array([3.0, 4.0])
    for y, expected in ((x + 1, [2, 3]), (1 + x, [2, 3]), (x - a, [-2, -2]), (a - x, [2, 2]),
                        (x * 2, [2, 4]), (a * x, [3, 8]), (x / 2, [0.5, 1]), (2 / x, [2, 1]),
                        (-x, [-1, -2]), (x ** 3, [1, 8])):
        assert isinstance(y, Variable)
        np.testing.assert_allclose(y.data, expected)
    m = Variable(np.eye(2))
    np.testing.assert_allclose((a[None] @ m).data, [[3, 4]])
    np.testing.assert_allclose((m @ a[:, None]).data, [[3], [4]])


def test_shape_methods():
    x = Variable(np.arange(24.0).reshape(2, 3, 4))
    assert x.T.shape == (4, 3, 2)
    assert x.reshape(6, 4).shape == (6, 4) and x.reshape((4, 6)).shape == (4, 6)
    assert x.transpose(1, 0, 2).shape == (3, 2, 4) and x.transpose().shape == (4, 3, 2)
    assert x.sum().data == 276 and x.sum(axis=1, keepdims=True).shape == (2, 1, 4)
    assert x[1, :, 0].shape == (3,)


def test_gradient_of_a_polynomial_matches_its_closed_form():
    x = Variable(np.array(3.0))
    y = x ** 3 - 2 * x * x + x / 4 - 7
    y.backward()
    assert x.grad.data == pytest.approx(3 * 9 - 4 * 3 + 0.25)


def test_a_value_used_twice_gets_both_contributions():
    # a diamond: b and c both come from a; d = b * c = (2a)(a^2) = 2 a^3, dd/da = 6 a^2
    a = Variable(np.array(1.5))
    b, c = a + a, a * a
    d = b * c
    d.backward()
    assert a.grad.data == pytest.approx(6 * 1.5 ** 2)
    # a longer diamond: one branch several functions deeper than the other
    x = Variable(np.array(0.3))
    y = F.exp(F.sin(F.tanh(x))) + x
    y.backward()
    t = math.tanh(0.3)
    assert x.grad.data == pytest.approx(math.exp(math.sin(t)) * math.cos(t) * (1 - t * t) + 1)


def test_a_chain_of_100000_operations_differentiates():
    x = Variable(np.array(1.0))
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad.data == 1.0
    del y  # freeing the chain must not recurse either
    gc.collect()


def test_gradients_accumulate_in_leaves_until_cleared():
    x = Variable(np.array([1.0, 2.0]))
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * 2 * x.data)
    x.cleargrad()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data)


def test_a_repeated_backward_does_not_accumulate_into_intermediates():
    x = Variable(np.array(2.0))
    h = x * x
    y = h * 3
    y.backward(retain_grad=True)
    assert h.grad.data == 3.0 and x.grad.data == 12.0
    x.cleargrad()
    y.backward(retain_grad=True)
    assert h.grad.data == 3.0 and x.grad.data == 12.0  # the same again, not doubled


def test_intermediates_keep_no_gradient_unless_asked():
    x = Variable(np.array(2.0))
    h = x * x
    (h * 3).backward()
    assert h.grad is None and x.grad.data == 12.0


def test_a_broadcast_input_gets_its_gradient_in_its_own_shape():
    x = Variable(np.ones((4, 3)))
    b = Variable(np.array([1.0, 2.0, 3.0]))
    c = Variable(np.ones((4, 1)))
    ((x * b + c) ** 2).sum().backward()
    assert b.grad.shape == (3,) and c.grad.shape == (4, 1) and x.grad.shape == (4, 3)
    np.testing.assert_allclose(b.grad.data, [2 * 4 * (1 + 1) * 1, 4 * 2 * 3, 4 * 2 * 4])
    np.testing.assert_allclose(c.grad.data, np.full((4, 1), 2 * (2 + 3 + 4)))


def test_data_and_constants_get_no_gradient():
    data = np.ones((2, 3))
    W = Variable(np.ones((3, 2)))
    x = Variable(data, requires_grad=False)
    F.sum(F.linear(x, W)).backward()
    assert x.grad is None and W.grad.shape == (3, 2)


def test_the_first_layer_skips_the_datas_gradient():
    class Counting(Function):  # a matmul that counts the products its backward makes
        calls = 0

        def forward(self, x, W):
            return x @ W

        def backward(self, gy):
            x, W = self.inputs
            gx = None
            if x.requires_grad:
                Counting.calls += 1
                gx = gy @ W.T
            return gx, x.T @ gy

    W = Variable(np.ones((3, 2)))
    F.sum(Counting()(np.ones((2, 3)), W)).backward()
    assert Counting.calls == 0 and W.grad.shape == (3, 2)


def test_an_input_whose_gradient_is_zero_gets_zeros_not_none():
    class Step(Function):  # flat almost everywhere: passes back nothing
        def forward(self, x):
            return (x > 0).astype(x.dtype)

        def backward(self, gy):
            return None

    x = Variable(np.array([-1.0, 2.0]))
    y = Variable(np.array([3.0, 4.0]))
    (Step()(x) * y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    np.testing.assert_array_equal(y.grad.data, [0.0, 1.0])


def test_backward_of_a_leaf_itself():
    x = Variable(np.array([1.0, 2.0]))
    x.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_no_grad_records_nothing():
    x = Variable(np.array(2.0))
    with no_grad():
        y = x * x
    assert y.creator is None and not y.requires_grad
    assert (x * x).creator is not None  # recording is back on after the block


def test_no_grad_is_per_thread():
    x = Variable(np.array(2.0))
    inside, made = threading.Event(), threading.Event()

    def other():
        with no_grad():
            inside.set()
            made.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(5)
    y = x * x  # this thread still records while the other is inside no_grad
    made.set()
    thread.join()
    assert y.creator is not None


def test_a_graph_is_freed_with_its_last_output():
    gc.collect()
    gc.disable()  # freed by reference counting alone: no cycles between a function and its output
    try:
        x = Variable(np.ones(1000))
        y = F.sum(F.tanh(x * 2))
        function = weakref.ref(y.creator)
        middle = weakref.ref(y.creator.inputs[0])
        del y
        assert function() is None and middle() is None
    finally:
        gc.enable()


def test_training_steps_do_not_grow_memory():
    import tracemalloc

    rng = np.random.default_rng(0)
    W = rng.standard_normal((20, 10)) * 0.1
    x, t = rng.standard_normal((50, 20)), rng.integers(0, 10, 50)

    def step():
        w = Variable(W)
        F.softmax_cross_entropy(F.linear(F.sigmoid(x), w), t).backward()
        W[...] -= 0.1 * w.grad.data

    for _ in range(50):
        step()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(2000):
        step()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 200_000  # one step's graph is about 50 kB; 2,000 kept would be 100 MB


def test_float32_stays_float32():
    x = Variable(np.array([0.5, -1.0], np.float32))
    y = F.sum((2 * x + np.float64(1.0)) / 3.0 - np.array(0.25) + x ** 2)
    y.backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_nth_derivative_of_tanh_matches_its_closed_form(n):
    x = Variable(np.linspace(-2, 2, 9))
    t = np.tanh(x.data)
    closed = {1: 1 - t**2, 2: -2 * t * (1 - t**2), 3: (1 - t**2) * (6 * t**2 - 2),
              4: 8 * t * (1 - t**2) * (2 - 3 * t**2)}
    y = F.tanh(x)
    for _ in range(n):
        x.cleargrad()
        F.sum(y).backward(create_graph=True)
        y = x.grad
    np.testing.assert_allclose(y.data, closed[n], rtol=1e-12, atol=1e-12)


def test_newton_reaches_the_minimum_of_x4_minus_2x2_in_7_steps():
    x = Variable(np.array(2.0))
    steps = 0
    while abs(x.data - 1.0) >= 1e-10 and steps < 7:
        x.cleargrad()
        y = x ** 4 - 2 * x ** 2
        y.backward(create_graph=True)
        dy = x.grad  # f'(x) = 4x^3 - 4x, a Variable on a graph of its own
        x.cleargrad()
        dy.backward()  # f''(x) in x.grad
        x.data = x.data - dy.data / x.grad.data
        steps += 1
    assert abs(x.data - 1.0) < 1e-10, (steps, x.data)


def test_gradient_of_a_gradients_norm():
    # f = sum(w * x)^2 ... d/dw of |df/dx|^2 against the closed form
    w = Variable(np.array([0.5, -1.5, 2.0]))
    x = Variable(np.array([1.0, 2.0, 3.0]))
    f = F.sum(w * x) ** 2
    f.backward(create_graph=True)
    gx = x.grad  # 2 s w, with s = w . x
    w.cleargrad()
    F.sum(gx * gx).backward()  # |gx|^2 = 4 s^2 |w|^2
    s, ww = w.data @ x.data, w.data @ w.data
    np.testing.assert_allclose(w.grad.data, 8 * s * ww * x.data + 8 * s * s * w.data)


def test_a_third_derivative_through_a_constant_power_is_zero_not_nan():
    x = Variable(np.array(0.0))
    y = x ** 2
    derivatives = []
    with np.errstate(all="raise"):  # no 0 * 0 ** -1 on the way
        for _ in range(3):
            x.cleargrad()
            y.backward(create_graph=True)
            y = x.grad
            derivatives.append(float(y.data))
    assert derivatives == [0.0, 2.0, 0.0]


def test_backward_of_a_constant_says_why_it_cannot():
    with no_grad():
        y = Variable(np.array(2.0)) * 3
    with pytest.raises(ValueError, match="needs no gradient: it was computed from constants "
                       "only, or under no_grad"):
        y.backward()


def test_a_function_is_called_once():
    x = Variable(np.array(2.0))
    square = F.Tanh()
    square(x)
    with pytest.raises(RuntimeError, match="a Tanh is called once"):
        square(x)


def test_a_variable_is_not_wrapped_twice():
    with pytest.raises(TypeError, match="takes an array, not a Variable"):
        Variable(Variable(np.ones(2)))


def test_each_leaf_owns_its_gradient():
    x, w = Variable(np.ones(3)), Variable(np.ones(3))
    (x + w).sum().backward()  # one array flows back to both
    assert x.grad.data is not w.grad.data
    x.grad.data *= 0.5  # clipping by hand changes x's gradient only
    np.testing.assert_array_equal(w.grad.data, [1, 1, 1])
    v = Variable(np.ones((2, 3)))
    F.sum(v).backward()
    v.grad.data *= 2  # writeable, though it came from a broadcast
    np.testing.assert_array_equal(v.grad.data, np.full((2, 3), 2.0))


def test_a_numpy_exponent_keeps_float32():
    x = Variable(np.ones(3, np.float32))
    for exponent in (np.float64(2), np.array(2.0), 2):
        y = F.sum(x ** exponent)
        x.cleargrad()
        y.backward()
        assert y.dtype == np.float32 and x.grad.dtype == np.float32
