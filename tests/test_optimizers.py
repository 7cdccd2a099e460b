import math

import numpy as np
import pytest

from dvzero import SGD
from dvzero.optimizers import (
    DEFAULT_LR,
    OPTIMIZERS,
    AdaGrad,
    Adam,
    Momentum,
    Nesterov,
    RMSprop,
    make_optimizer,
    scheduled_lr,
)


def test_sgd_update_in_place_keeps_dtype():
    params = {"W": np.ones((2, 2), dtype=np.float32), "b": np.zeros(2, dtype=np.float32)}
    W = params["W"]
    grads = {"W": np.full((2, 2), 2.0, dtype=np.float32), "b": np.array([1.0, -1.0], np.float32)}
    SGD(lr=0.25).update(params, grads)
    assert params["W"] is W and W.dtype == np.float32
    np.testing.assert_array_equal(W, np.full((2, 2), 0.5))
    np.testing.assert_array_equal(params["b"], [-0.25, 0.25])


def test_sgd_minimises_a_quadratic():
    params = {"x": np.array([3.0, -4.0])}
    optimizer = SGD(lr=0.1)
    for _ in range(200):
        optimizer.update(params, {"x": 2 * params["x"]})
    np.testing.assert_allclose(params["x"], [3.0 * 0.8**200, -4.0 * 0.8**200])


@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan"), float("inf")])
def test_sgd_rejects_bad_learning_rates(lr):
    with pytest.raises(ValueError, match="learning rate"):
        SGD(lr=lr)


# ------------------------------------------------------------------ the six optimizers

def first_steps(optimizer, grads_seq, start=1.0):
    """Run updates with the given gradient values (one parameter): the parameter after each."""
    params = {"w": np.array([start])}
    seen = []
    for grad in grads_seq:
        optimizer.update(params, {"w": np.array([grad])})
        seen.append(float(params["w"][0]))
    return seen


def test_momentum_first_steps_by_hand():
    # v1 = -0.1*2 = -0.2, w = 0.8; v2 = 0.9*-0.2 - 0.1*1 = -0.28, w = 0.52
    assert first_steps(Momentum(lr=0.1, momentum=0.9), [2.0, 1.0]) == pytest.approx([0.8, 0.52])


def test_nesterov_first_steps_by_hand():
    # v1 = -0.2, w += 0.9*-0.2 - 0.2 = -0.38 -> 0.62
    # v2 = 0.9*-0.2 - 0.1 = -0.28, w += 0.9*-0.28 - 0.1 = -0.352 -> 0.268
    assert first_steps(Nesterov(lr=0.1, momentum=0.9), [2.0, 1.0]) == pytest.approx(
        [0.62, 0.268])


def test_adagrad_first_steps_by_hand():
    # h1 = 4, w -= 0.1*2/2 = 0.1 -> 0.9; h2 = 5, w -= 0.1*1/sqrt(5)
    assert first_steps(AdaGrad(lr=0.1, eps=0.0), [2.0, 1.0]) == pytest.approx(
        [0.9, 0.9 - 0.1 / math.sqrt(5)])


def test_rmsprop_first_steps_by_hand():
    # h1 = 0.01*4 = 0.04, w -= 0.1*2/0.2 = 1 -> 0; h2 = 0.99*0.04 + 0.01 = 0.0496
    assert first_steps(RMSprop(lr=0.1, decay_rate=0.99, eps=0.0), [2.0, 1.0]) == pytest.approx(
        [0.0, -0.1 / math.sqrt(0.0496)])


def textbook_adaptive_steps(grads_seq, lr, eps, decay=None, start=1.0):
    """The book's AdaGrad (``decay=None``: ``h += g*g``) or RMSprop (``h = decay*h +
    (1-decay)*g*g``), then ``w -= lr * g / (sqrt(h) + eps)``: epsilon outside the root."""
    h, w, seen = 0.0, start, []
    for g in grads_seq:
        h = h + g * g if decay is None else decay * h + (1 - decay) * g * g
        w -= lr * g / (math.sqrt(h) + eps)
        seen.append(w)
    return seen


# Gradients of about 1e-3 against eps = 1e-2: sqrt(h) ~ 1e-3 is far below eps, so where eps
# goes (outside the root, inside it, or left out) changes every step several fold.
SMALL_GRADS = [1e-3, -2e-3, 5e-4]


def test_adagrad_epsilon_is_added_after_the_square_root():
    """AdaGrad promises ``param -= lr * grad / (sqrt(h) + eps)`` with a non-zero eps."""
    # Step 1 by hand: h = 1e-6, sqrt(h) = 1e-3, w -= 0.1 * 1e-3 / (1e-3 + 1e-2) = 1/110.
    steps = first_steps(AdaGrad(lr=0.1, eps=1e-2), SMALL_GRADS)
    assert steps[0] == pytest.approx(1 - 1 / 110, rel=1e-12)
    assert steps == pytest.approx(textbook_adaptive_steps(SMALL_GRADS, 0.1, 1e-2), rel=1e-12)
    # Elementwise on an array, in float32 as a network's parameters may be.
    params = {"W": np.ones((2, 2), dtype=np.float32)}
    grads = {"W": np.array([[1e-3, -2e-3], [5e-4, 0.0]], dtype=np.float32)}
    AdaGrad(lr=0.1, eps=1e-2).update(params, grads)
    expected = [[1 - 0.1 * g / (abs(g) + 1e-2) for g in row] for row in grads["W"].tolist()]
    np.testing.assert_allclose(params["W"], expected, rtol=1e-6)
    assert params["W"].dtype == np.float32
    assert AdaGrad().eps == 1e-7  # the book's default


def test_rmsprop_epsilon_is_added_after_the_square_root():
    """RMSprop promises ``param -= lr * grad / (sqrt(h) + eps)`` with a non-zero eps."""
    # Step 1 by hand: h = 0.1 * 1e-6, sqrt(h) = 1e-3.5, w -= 0.1 * 1e-3 / (1e-3.5 + 1e-2).
    optimizer = RMSprop(lr=0.1, decay_rate=0.9, eps=1e-2)
    steps = first_steps(optimizer, SMALL_GRADS)
    assert steps[0] == pytest.approx(1 - 1e-4 / (10**-3.5 + 1e-2), rel=1e-12)
    assert steps == pytest.approx(
        textbook_adaptive_steps(SMALL_GRADS, 0.1, 1e-2, decay=0.9), rel=1e-12)
    assert (RMSprop().decay_rate, RMSprop().eps) == (0.99, 1e-7)  # the book's defaults


def test_adam_first_steps_by_hand():
    # The textbook form with bias correction, computed separately.
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    m = v = 0.0
    w, expected = 1.0, []
    for t, g in enumerate([2.0, -1.0, 0.5], start=1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        w -= lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
        expected.append(w)
    assert first_steps(Adam(lr=lr), [2.0, -1.0, 0.5]) == pytest.approx(expected, rel=1e-12)
    # The first Adam step moves every parameter by about lr, whatever the gradient's size.
    assert first_steps(Adam(lr=0.01), [1e-3]) == pytest.approx([0.99], rel=1e-6)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_finds_the_minimum_of_a_bowl(name):
    """f(x, y) = (x - 1)^2 + 10 (y + 2)^2 has its minimum at (1, -2)."""
    optimizer = make_optimizer(name, {"sgd": 0.05, "momentum": 0.02, "nesterov": 0.02,
                                      "adagrad": 0.5, "rmsprop": 0.01, "adam": 0.05}[name])
    params = {"p": np.array([-3.0, 4.0])}
    target = np.array([1.0, -2.0])
    for _ in range(3000):
        x, y = params["p"]
        optimizer.update(params, {"p": np.array([2 * (x - 1), 20 * (y + 2)])})
    np.testing.assert_allclose(params["p"], target, atol=1e-3)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_continues_exactly(name):
    rng = np.random.default_rng(0)
    grads = [{"W": rng.normal(size=(2, 3)).astype(np.float32)} for _ in range(6)]
    whole = {"W": np.ones((2, 3), dtype=np.float32)}
    one = make_optimizer(name)
    for grad in grads:
        one.update(whole, grad)
    split = {"W": np.ones((2, 3), dtype=np.float32)}
    first = make_optimizer(name)
    for grad in grads[:3]:
        first.update(split, grad)
    second = make_optimizer(name)
    second.load_state_dict({key: value.copy() for key, value in first.state_dict().items()})
    for grad in grads[3:]:
        second.update(split, grad)
    assert split["W"].dtype == np.float32
    np.testing.assert_array_equal(split["W"], whole["W"])


def test_defaults_and_unknown_names():
    assert DEFAULT_LR["adam"] == 0.001 and DEFAULT_LR["sgd"] == 0.1
    assert make_optimizer("adam").lr == 0.001
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'"):
        make_optimizer("adamw")
    with pytest.raises(ValueError, match="keeps no state"):
        Adam().load_state_dict({"x/W": np.zeros(2)})


def test_schedules():
    assert [scheduled_lr("constant", 0.1, s, 100) for s in (0, 99)] == [0.1, 0.1]
    assert [scheduled_lr("step", 1.0, s, 100) for s in (0, 49, 50, 74, 75, 99)] == \
        pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])
    assert scheduled_lr("cosine", 1.0, 0, 100) == 1.0
    assert scheduled_lr("cosine", 1.0, 50, 100) == pytest.approx(0.5)
    assert scheduled_lr("cosine", 1.0, 99, 100) == pytest.approx(
        0.5 * (1 + math.cos(math.pi * 0.99)))
    with pytest.raises(ValueError, match="unknown learning-rate schedule"):
        scheduled_lr("linear", 1.0, 0, 10)
