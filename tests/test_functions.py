import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dvzero import (
    cross_entropy_error,
    identity_function,
    mean_squared_error,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    step_function,
)
from dvzero.functions import CROSS_ENTROPY_FLOOR, labels_from_targets

finite = st.floats(-1e3, 1e3, allow_nan=False, width=64)
logit_batches = arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 8)), elements=finite)


def test_step_function():
    result = step_function(np.array([-1.0, 0.0, 0.5, 2.0]))
    np.testing.assert_array_equal(result, [0, 0, 1, 1])
    assert np.issubdtype(result.dtype, np.integer)
    assert step_function(3.0) == 1


def test_sigmoid_values_against_math():
    import math

    for value in (-30.0, -2.0, 0.0, 0.5, 7.0):
        assert sigmoid(value) == pytest.approx(1 / (1 + math.exp(-value)), rel=1e-12)


def test_sigmoid_extremes_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = sigmoid(np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0]))
        result32 = sigmoid(np.array([-1000.0, 1000.0], dtype=np.float32))
    np.testing.assert_array_equal(result[[0, 2, 4]], [0.0, 0.5, 1.0])
    # Tiny results keep their precision: 1 / (1 + e^40) = e^-40 / (1 + e^-40).
    assert result[1] == pytest.approx(np.exp(-40.0), rel=1e-12)
    assert result32.dtype == np.float32
    np.testing.assert_array_equal(result32, [0.0, 1.0])


def test_sigmoid_integer_input_becomes_float():
    assert sigmoid(np.array([0, 1])).dtype == np.float64


def test_sigmoid_grad_matches_numerical_derivative():
    x = np.linspace(-5, 5, 11)
    h = 1e-5
    numerical = (sigmoid(x + h) - sigmoid(x - h)) / (2 * h)
    np.testing.assert_allclose(sigmoid_grad(x), numerical, rtol=1e-8, atol=1e-12)


def test_relu_and_grad():
    x = np.array([[-2.0, 0.0, 3.0]], dtype=np.float32)
    np.testing.assert_array_equal(relu(x), [[0.0, 0.0, 3.0]])
    assert relu(x).dtype == np.float32
    np.testing.assert_array_equal(relu_grad(x), [[0.0, 0.0, 1.0]])


def test_identity_function():
    x = np.array([1.0, -2.0])
    np.testing.assert_array_equal(identity_function(x), x)


def test_softmax_known_values():
    y = softmax(np.array([0.3, 2.9, 4.0]))
    expected = np.exp([0.3, 2.9, 4.0]) / np.exp([0.3, 2.9, 4.0]).sum()
    np.testing.assert_allclose(y, expected, rtol=1e-12)


def test_softmax_huge_logits_are_finite_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = softmax(np.array([[1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1000.0]]))
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, [[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])


def test_softmax_batch_is_rowwise():
    x = np.array([[1.0, 2.0], [5.0, 5.0]])
    np.testing.assert_allclose(softmax(x)[0], softmax(x[0]))
    np.testing.assert_allclose(softmax(x)[1], [0.5, 0.5])


def test_softmax_rejects_scalar():
    with pytest.raises(ValueError, match="0-d"):
        softmax(np.float64(1.0))


@settings(max_examples=60, deadline=None)
@given(logit_batches)
def test_softmax_rows_are_probabilities(x):
    y = softmax(x)
    assert y.shape == x.shape
    assert np.all(y >= 0)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(logit_batches, st.floats(-500, 500, allow_nan=False))
def test_softmax_is_shift_invariant(x, shift):
    np.testing.assert_allclose(softmax(x + shift), softmax(x), atol=1e-12)


def test_mean_squared_error_seed_example():
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    assert mean_squared_error(y, t) == pytest.approx(0.0975)
    with pytest.raises(ValueError, match="shape"):
        mean_squared_error(y, t[:5])


def test_cross_entropy_single_sample_one_hot_and_label():
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    assert cross_entropy_error(y, t) == pytest.approx(-np.log(0.6))
    assert cross_entropy_error(y, np.array(2)) == pytest.approx(-np.log(0.6))


def test_cross_entropy_batch_averages_and_accepts_both_label_forms():
    y = softmax(np.random.default_rng(0).normal(size=(5, 4)))
    labels = np.array([0, 3, 1, 1, 2])
    one_hot = np.eye(4)[labels]
    expected = -np.mean(np.log(y[np.arange(5), labels]))
    assert cross_entropy_error(y, labels) == pytest.approx(expected, rel=1e-12)
    assert cross_entropy_error(y, one_hot) == pytest.approx(expected, rel=1e-12)
    assert cross_entropy_error(y, labels.astype(np.uint8)) == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_of_a_sure_mistake_is_large_but_finite():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = cross_entropy_error(np.array([[1.0, 0.0]]), np.array([1]))
    assert loss == pytest.approx(-np.log(CROSS_ENTROPY_FLOOR))


def test_cross_entropy_bad_shapes():
    y = np.full((3, 4), 0.25)
    with pytest.raises(ValueError, match="shape"):
        cross_entropy_error(y, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="shape"):
        cross_entropy_error(y, np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match=r"\[0, 3\]"):
        cross_entropy_error(y, np.array([0, 1, 4]))
    with pytest.raises(ValueError, match="shape"):
        cross_entropy_error(np.zeros((2, 2, 2)), np.zeros(2, dtype=int))


def test_labels_from_targets():
    np.testing.assert_array_equal(labels_from_targets(np.eye(3)[[2, 0]], 3), [2, 0])
    np.testing.assert_array_equal(labels_from_targets(np.array([1.0, 2.0]), 3), [1, 2])
    with pytest.raises(ValueError, match="integer"):
        labels_from_targets(np.array([0.5]), 3)
    with pytest.raises(ValueError, match="one-hot"):
        labels_from_targets(np.zeros((2, 2, 2)), 3)
