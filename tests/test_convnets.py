"""SimpleConvNet and DeepConvNet: gradient checks on small shapes, API, files, registry."""

import numpy as np
import pytest

from dvzero.networks import DeepConvNet, SimpleConvNet, load_network

from helpers import max_relative_error

SMALL_DEEP = [{"filter_num": 2, "filter_size": 3, "pad": pad, "stride": 1}
              for pad in (1, 1, 1, 2, 1, 1)]


def small_simple(**options):
    return SimpleConvNet((1, 8, 8), {"filter_num": 3, "filter_size": 3, "pad": 1, "stride": 1},
                         hidden_size=5, output_size=3, rng=1, **options)


def small_deep(**options):
    return DeepConvNet((1, 8, 8), SMALL_DEEP, hidden_size=4, output_size=3, rng=2, **options)


def randomise_biases(network, rng):
    for key in network.params:
        if key.startswith("b"):  # learnt-like values keep ReLU inputs off exact zeros
            network.params[key][...] = rng.normal(size=network.params[key].shape) * 0.1


@pytest.mark.parametrize("make", [small_simple, small_deep], ids=["simple", "deep"])
@pytest.mark.parametrize("decay", [0.0, 0.1])
def test_gradient_matches_numerical(rng, make, decay):
    network = make(weight_decay_lambda=decay)
    randomise_biases(network, rng)
    x = rng.normal(size=(3, 1, 8, 8))
    t = rng.integers(0, 3, size=3)
    state = network.dropout_rng.bit_generator.state
    backprop = network.gradient(x, t)
    network.dropout_rng.bit_generator.state = state  # the same dropout masks (DeepConvNet)
    numerical = network.numerical_gradient(x, t)
    assert sorted(backprop) == sorted(numerical) == sorted(network.params)
    for key in backprop:
        assert max_relative_error(backprop[key], numerical[key]) < 1e-6, key


def test_the_books_shapes():
    simple = SimpleConvNet(rng=0)
    assert {k: v.shape for k, v in simple.params.items()} == {
        "W1": (30, 1, 5, 5), "b1": (30,), "W2": (4320, 100), "b2": (100,), "W3": (100, 10),
        "b3": (10,)}
    deep = DeepConvNet(rng=0)
    shapes = {k: v.shape for k, v in deep.params.items()}
    assert [shapes[f"W{i}"] for i in range(1, 7)] == [
        (16, 1, 3, 3), (16, 16, 3, 3), (32, 16, 3, 3), (32, 32, 3, 3), (64, 32, 3, 3),
        (64, 64, 3, 3)]
    assert shapes["W7"] == (64 * 4 * 4, 50) and shapes["W8"] == (50, 10)
    # He initialisation: sqrt(2 / fan_in), fan_in = channels x 3 x 3.
    assert deep.params["W6"].std() == pytest.approx(np.sqrt(2 / (64 * 9)), rel=0.05)


def test_images_and_rows_give_the_same_predictions(rng):
    network = small_simple()
    images = rng.random((4, 1, 8, 8))
    np.testing.assert_allclose(network.predict(images), network.predict(images.reshape(4, 64)))
    np.testing.assert_allclose(network.predict(images).sum(axis=1), 1.0)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 1, 8, 8\) or \(N, 64\)"):
        network.predict(rng.random((4, 63)))


def test_accuracy_in_chunks_is_the_same(rng):
    network = small_deep()
    x, t = rng.random((50, 1, 8, 8)), rng.integers(0, 3, 50)
    assert network.accuracy(x, t) == network.accuracy(x, t, batch_size=7)
    expected = np.mean(np.argmax(network.predict(x), axis=1) == t)
    assert network.accuracy(x, t) == pytest.approx(expected)


@pytest.mark.parametrize("make", [small_simple, small_deep], ids=["simple", "deep"])
def test_files_and_the_registry_rebuild_the_network(tmp_path, rng, make):
    network = make(dtype=np.float32)
    path = tmp_path / "conv.npz"
    network.save_params(path)
    rebuilt = load_network(path)
    assert type(rebuilt) is type(network) and rebuilt.config() == network.config()
    x = rng.random((3, 1, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(rebuilt.predict(x), network.predict(x))
    assert rebuilt.params["W1"].dtype == np.float32


def test_deep_dropout_only_while_training(rng):
    network = small_deep()
    x = rng.random((6, 1, 8, 8))
    np.testing.assert_array_equal(network.predict(x), network.predict(x))
    assert not np.allclose(network.predict(x, train_flg=True), network.predict(x))


@pytest.mark.parametrize(
    ("make", "kwargs", "message"),
    [(SimpleConvNet, {"input_dim": (28, 28)}, "input_dim"),
     (SimpleConvNet, {"conv_param": {"filter_size": 40}}, "does not fit"),
     (SimpleConvNet, {"weight_init_std": -1}, "weight_init_std"),
     (DeepConvNet, {"conv_params": SMALL_DEEP[:3]}, "6 convolutions"),
     (DeepConvNet, {"dropout_ratio": 1.0}, "dropout_ratio"),
     (DeepConvNet, {"dtype": np.int64}, "float dtype")],
)
def test_bad_arguments_are_refused(make, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make(**kwargs)
