"""Every network's loss as a graph (dvzero.networks.on_graph): the three gradients agree."""

from __future__ import annotations

import numpy as np
import pytest

from dvzero import DeepConvNet, DeepVisionZeroNet, MultiLayerNet, SimpleConvNet, Trainer
from dvzero.autograd import Variable
from dvzero.gradient import numerical_gradient

SMALL_DEEP_CONVS = [{"filter_num": 2, "filter_size": 3, "pad": pad, "stride": 1}
                    for pad in (1, 1, 1, 2, 1, 1)]


def networks():
    """Small networks of every kind, float64, with every layer the graph has to mirror."""
    yield "two-layer", DeepVisionZeroNet(12, 6, 4, weight_init_std=0.5, rng=1)
    yield "two-layer relu", DeepVisionZeroNet(12, 6, 4, weight_init_std=0.5, activation="relu",
                                              rng=1)
    for activation in ("relu", "sigmoid", "tanh"):
        yield f"mlp {activation}", MultiLayerNet(12, [7, 5], 4, activation=activation,
                                                 weight_decay_lambda=0.1, use_dropout=True,
                                                 dropout_ratio=0.3, use_batchnorm=True, rng=2)
    yield "cnn", SimpleConvNet((2, 8, 8), {"filter_num": 3, "filter_size": 3, "pad": 1},
                               hidden_size=6, output_size=4, weight_decay_lambda=0.05, rng=3)
    yield "deep-cnn", DeepConvNet((1, 12, 12), SMALL_DEEP_CONVS, hidden_size=5, output_size=4,
                                  dropout_ratio=0.2, rng=4)


NETWORKS = dict(networks())


def batch(network, n=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *network.input_shape))
    return x, rng.integers(0, network.output_size, n)


def gradients(network, x, t, method):
    """The gradient by ``method``, from the network's state now (dropout masks, averages)."""
    state = network.state_dict()
    if method == "numerical":
        grads = network.numerical_gradient(x, t)
    else:
        grads = network.gradient(x, t, method=method)
    network.load_state_dict(state)
    return grads


def assert_agree(grads, expected, tolerance):
    """Each parameter's gradient within ``tolerance`` of the largest absolute value of the
    expected one. A gradient that is zero by the maths (a bias before batch normalisation)
    holds only rounding errors: it is measured against a thousandth of the largest of all."""
    assert grads.keys() == expected.keys()
    largest = max(np.abs(value).max() for value in expected.values())
    for key, value in expected.items():
        assert grads[key].shape == value.shape and grads[key].dtype == value.dtype
        scale = max(np.abs(value).max(), 1e-3 * largest)
        assert np.abs(grads[key] - value).max() <= tolerance * scale, key


@pytest.mark.parametrize("name", list(NETWORKS))
def test_autograd_agrees_with_the_layers(name):
    network = NETWORKS[name]
    x, t = batch(network)
    assert_agree(gradients(network, x, t, "autograd"), gradients(network, x, t, "backprop"), 1e-7)


@pytest.mark.parametrize("name", list(NETWORKS))
def test_autograd_agrees_with_the_numerical_gradient(name):
    network = NETWORKS[name]
    x, t = batch(network, n=4, seed=1)
    assert_agree(gradients(network, x, t, "autograd"), gradients(network, x, t, "numerical"),
                 1e-6)


@pytest.mark.parametrize("name", list(NETWORKS))
def test_the_graphs_loss_is_the_networks(name):
    network = NETWORKS[name]
    x, t = batch(network, seed=2)
    for train in (False, True):
        state = network.state_dict()
        loss, params = network.loss_graph(x, t, train_flg=train)
        network.load_state_dict(state)
        assert float(loss.data) == pytest.approx(network.loss(x, t, train_flg=train), rel=1e-12)
        network.load_state_dict(state)
        assert list(params) == list(network.params) and loss.name == "loss"
        assert all(params[key].data is network.params[key] for key in params)  # no copies


def test_autograd_keeps_last_loss_and_the_running_averages_move_as_with_the_layers():
    a, b = (MultiLayerNet(12, [7], 4, use_batchnorm=True, rng=5) for _ in range(2))
    x, t = batch(a)
    a.gradient(x, t)
    b.gradient(x, t, method="autograd")
    assert b.last_loss == pytest.approx(a.last_loss, rel=1e-12)
    for key in a.buffers:
        np.testing.assert_allclose(b.buffers[key], a.buffers[key], rtol=1e-12)


def test_float32_networks_get_float32_gradients():
    network = SimpleConvNet((1, 8, 8), {"filter_num": 2, "filter_size": 3}, hidden_size=5,
                            output_size=3, dtype=np.float32, rng=0)
    x, t = batch(network)
    grads = network.gradient(x.astype(np.float32), t, method="autograd")
    assert all(grad.dtype == np.float32 for grad in grads.values())
    loss, _ = network.loss_graph(x.astype(np.float32), t)
    assert loss.dtype == np.float32


def test_the_data_gets_no_gradient():
    network = NETWORKS["two-layer"]
    x, t = batch(network)
    loss, params = network.loss_graph(x, t, train_flg=True)
    loss.backward()
    inputs = loss.creator.inputs[0].creator.inputs[0].creator.inputs[0].creator.inputs
    data = inputs[0]
    assert isinstance(data, Variable) and data.name == "x" and data.grad is None
    assert not data.requires_grad and all(param.grad is not None for param in params.values())


def test_an_unknown_method_is_refused():
    network = NETWORKS["two-layer"]
    x, t = batch(network)
    with pytest.raises(ValueError, match="method must be 'backprop' or 'autograd', got 'magic'"):
        network.gradient(x, t, method="magic")


def test_training_by_autograd_is_training_by_the_layers():
    """The two-layer network's gradients are the same products in the same order: the runs
    are the same, step for step."""
    rng = np.random.default_rng(0)
    x, t = rng.random((200, 12)), rng.integers(0, 4, 200)
    histories = []
    for gradient in ("backprop", "autograd"):
        network = DeepVisionZeroNet(12, 6, 4, weight_init_std=0.5, rng=1)
        trainer = Trainer(network, x, t, {"test": (x[:50], t[:50])}, step_num=60, batch_size=20,
                          gradient=gradient, rng=3)
        histories.append((trainer.run(), network.params))
    (first, params), (second, other) = histories
    np.testing.assert_allclose(second.train_loss_list, first.train_loss_list, rtol=1e-12)
    for key in params:
        np.testing.assert_allclose(other[key], params[key], rtol=1e-12, atol=1e-15)


def test_numerical_gradient_check_is_independent():
    """A direct check of one parameter against dvzero.gradient, through the graph alone."""
    network = DeepVisionZeroNet(5, 3, 2, weight_init_std=1.0, rng=7)
    x, t = batch(network, n=3)

    def loss(_):
        value, _ = network.loss_graph(x, t)
        return float(value.data)

    expected = numerical_gradient(loss, network.params["W1"])
    np.testing.assert_allclose(network.gradient(x, t, method="autograd")["W1"], expected,
                               rtol=1e-6, atol=1e-9)


def test_a_layer_the_graph_does_not_know_is_named():
    class Strange:
        def forward(self, x, train_flg=False):
            return x

    network = DeepVisionZeroNet(12, 6, 4, rng=1)
    x, t = batch(network)
    network._layers.insert(1, Strange())
    with pytest.raises(TypeError, match="no function of the graph for a Strange layer; it knows "
                       "Affine, Convolution"):
        network.loss_graph(x, t)
