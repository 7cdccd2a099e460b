"""Dropout and batch normalisation: closed forms, train/eval modes, gradient checks."""

import numpy as np
import pytest

from dvzero import numerical_gradient
from dvzero.layers import BatchNormalization, Dropout

from helpers import max_relative_error


def test_dropout_drops_the_right_share_and_scales_the_rest(rng):
    x = np.ones((200, 500))
    layer = Dropout(0.3, rng=1)
    out = layer.forward(x, train_flg=True)
    kept = out != 0
    assert kept.mean() == pytest.approx(0.7, abs=0.01)
    np.testing.assert_allclose(out[kept], 1 / 0.7)  # inverted dropout: the mean is kept
    assert out.mean() == pytest.approx(1.0, abs=0.02)
    np.testing.assert_array_equal(layer.forward(x, train_flg=False), x)  # predicting


def test_dropout_masks_come_from_the_seeded_generator(rng):
    x = rng.normal(size=(4, 8))
    first, second = Dropout(0.5, rng=7), Dropout(0.5, rng=7)
    for _ in range(3):  # the same masks, mask after mask
        np.testing.assert_array_equal(first.forward(x), second.forward(x))
    assert not np.array_equal(Dropout(0.5, rng=7).forward(x), Dropout(0.5, rng=8).forward(x))


def test_dropout_backward_uses_the_forward_mask(rng):
    x = rng.normal(size=(5, 6))
    layer = Dropout(0.4, rng=3)
    out = layer.forward(x)
    dout = rng.normal(size=out.shape)
    dx = layer.backward(dout)
    # out = x * mask: a fixed mask makes the layer linear, with derivative mask.
    mask = np.divide(out, x)
    np.testing.assert_allclose(dx, dout * mask)
    numerical = numerical_gradient(lambda _: float(np.sum(x * layer.mask * dout)), x)
    assert max_relative_error(dx, numerical) < 1e-8


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 1.5])
def test_dropout_refuses_ratios_outside_0_1(ratio):
    with pytest.raises(ValueError, match="dropout_ratio"):
        Dropout(ratio)


def test_dropout_keeps_float32(rng):
    x = rng.normal(size=(3, 4)).astype(np.float32)
    layer = Dropout(0.5, rng=0)
    assert layer.forward(x).dtype == np.float32
    assert layer.backward(np.ones_like(x)).dtype == np.float32


def test_batchnorm_training_output_is_normalised(rng):
    x = rng.normal(loc=3.0, scale=5.0, size=(64, 4))
    gamma, beta = np.array([1.0, 2.0, 0.5, 1.0]), np.array([0.0, -1.0, 3.0, 0.0])
    out = BatchNormalization(gamma, beta).forward(x, train_flg=True)
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    # (x - mean) / sqrt(var + eps) has standard deviation sqrt(var / (var + eps)).
    var = x.var(axis=0)
    np.testing.assert_allclose(out.std(axis=0), gamma * np.sqrt(var / (var + 1e-5)), rtol=1e-9)


def test_batchnorm_running_averages_and_prediction(rng):
    gamma, beta = np.ones(3), np.zeros(3)
    layer = BatchNormalization(gamma, beta, momentum=0.9)
    batches = [rng.normal(loc=2.0, scale=3.0, size=(50, 3)) for _ in range(3)]
    expected_mean, expected_var = np.zeros(3), np.ones(3)
    for batch in batches:
        layer.forward(batch, train_flg=True)
        expected_mean = 0.9 * expected_mean + 0.1 * batch.mean(axis=0)
        expected_var = 0.9 * expected_var + 0.1 * batch.var(axis=0)
    np.testing.assert_allclose(layer.running_mean, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, expected_var, rtol=1e-12)
    x = rng.normal(size=(4, 3))
    before = layer.running_mean.copy()
    out = layer.forward(x, train_flg=False)
    np.testing.assert_allclose(out, (x - expected_mean) / np.sqrt(expected_var + 1e-5),
                               rtol=1e-12)
    np.testing.assert_array_equal(layer.running_mean, before)  # predicting changes nothing


def test_batchnorm_updates_the_networks_arrays_in_place():
    running_mean, running_var = np.zeros(2), np.ones(2)
    layer = BatchNormalization(np.ones(2), np.zeros(2), running_mean=running_mean,
                               running_var=running_var)
    layer.forward(np.array([[1.0, 2.0], [3.0, 6.0]]))
    assert layer.running_mean is running_mean
    np.testing.assert_allclose(running_mean, [0.2, 0.4])


def test_batchnorm_backward_matches_numerical(rng):
    x = rng.normal(size=(6, 4))
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    layer = BatchNormalization(gamma, beta)
    out = layer.forward(x)
    dout = rng.normal(size=out.shape)
    dx = layer.backward(dout)

    def objective(_):
        return float(np.sum(layer.forward(x) * dout))

    for analytic, array in ((dx, x), (layer.dgamma.copy(), gamma), (layer.dbeta.copy(), beta)):
        assert max_relative_error(analytic, numerical_gradient(objective, array)) < 1e-6
