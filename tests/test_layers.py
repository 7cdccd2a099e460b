"""Every backward pass checked against numerical differentiation of its forward pass."""

import numpy as np
import pytest

from dvzero import Affine, Relu, Sigmoid, SoftmaxWithLoss, numerical_gradient, softmax

from helpers import max_relative_error


def check_layer(layer, x, rng, params=()):
    """Compare ``backward`` with the numerical gradient of ``sum(forward(x) * dout)``."""
    out = layer.forward(x)
    dout = rng.normal(size=out.shape)
    dx = layer.backward(dout)

    def objective(_):
        return float(np.sum(layer.forward(x) * dout))

    assert max_relative_error(dx, numerical_gradient(objective, x)) < 1e-8
    for name, array in params:
        analytic = getattr(layer, "d" + name).copy()
        assert max_relative_error(analytic, numerical_gradient(objective, array)) < 1e-8


def test_affine_forward_values(rng):
    W, b = rng.normal(size=(3, 2)), rng.normal(size=2)
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(Affine(W, b).forward(x), x @ W + b)


def test_affine_backward_matches_numerical(rng):
    W, b = rng.normal(size=(5, 3)), rng.normal(size=3)
    check_layer(Affine(W, b), rng.normal(size=(4, 5)), rng, params=[("W", W), ("b", b)])


def test_affine_flattens_image_batches_and_restores_dx_shape(rng):
    W, b = rng.normal(size=(12, 2)), np.zeros(2)
    x = rng.normal(size=(3, 1, 3, 4))
    layer = Affine(W, b)
    np.testing.assert_allclose(layer.forward(x), x.reshape(3, 12) @ W)
    assert layer.backward(np.ones((3, 2))).shape == x.shape


def test_affine_can_skip_input_gradient(rng):
    layer = Affine(rng.normal(size=(4, 2)), np.zeros(2))
    layer.forward(rng.normal(size=(3, 4)))
    assert layer.backward(np.ones((3, 2)), need_dx=False) is None
    assert layer.dW.shape == (4, 2) and layer.db.shape == (2,)


def test_affine_uses_parameters_by_reference(rng):
    W, b = np.ones((2, 2)), np.zeros(2)
    layer = Affine(W, b)
    W -= 1.0  # an in-place update, as the optimizer makes
    np.testing.assert_array_equal(layer.forward(np.ones((1, 2))), [[0.0, 0.0]])


def test_sigmoid_layer(rng):
    check_layer(Sigmoid(), rng.normal(size=(4, 6)), rng)


def test_relu_layer(rng):
    x = rng.normal(size=(4, 6))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the kink, where the derivative is undefined
    layer = Relu()
    np.testing.assert_array_equal(layer.forward(x), np.maximum(x, 0))
    check_layer(layer, x, rng)


@pytest.mark.parametrize("one_hot", [True, False])
def test_softmax_with_loss(rng, one_hot):
    x = rng.normal(size=(5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    t = np.eye(4)[labels] if one_hot else labels
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    assert loss == pytest.approx(-np.mean(np.log(softmax(x)[np.arange(5), labels])))
    dx = layer.backward()
    np.testing.assert_allclose(dx, (softmax(x) - np.eye(4)[labels]) / 5, rtol=1e-12)
    numerical = numerical_gradient(lambda _: SoftmaxWithLoss().forward(x, t), x)
    assert max_relative_error(dx, numerical) < 1e-8


def test_softmax_with_loss_scales_with_dout(rng):
    x = rng.normal(size=(2, 3))
    layer = SoftmaxWithLoss()
    layer.forward(x, np.array([0, 2]))
    np.testing.assert_allclose(layer.backward(2.0), 2 * layer.backward(1.0))


def test_tanh_layer(rng):
    from dvzero.layers import Tanh

    x = rng.normal(size=(4, 6))
    layer = Tanh()
    np.testing.assert_allclose(layer.forward(x), np.tanh(x), rtol=1e-15)
    check_layer(layer, x, rng)
