import numpy as np
import pytest

from dvzero import DeepVisionZeroNet, cross_entropy_error, sigmoid, softmax

from helpers import max_relative_error


def small_batch(rng, n=5, d=8, classes=4):
    return rng.random((n, d)), rng.integers(0, classes, size=n)


def test_params_are_the_seeds(rng):
    np.random.seed(7)
    network = DeepVisionZeroNet(input_size=784, hidden_size=50, output_size=10)
    np.random.seed(7)
    W1 = 0.01 * np.random.randn(784, 50)
    W2 = 0.01 * np.random.randn(50, 10)
    assert list(network.params) == ["W1", "b1", "W2", "b2"]
    np.testing.assert_array_equal(network.params["W1"], W1)
    np.testing.assert_array_equal(network.params["W2"], W2)
    np.testing.assert_array_equal(network.params["b1"], np.zeros(50))
    np.testing.assert_array_equal(network.params["b2"], np.zeros(10))
    assert all(p.dtype == np.float64 for p in network.params.values())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("std", [0.5, 0.003])
def test_weight_init_std_is_the_scale_of_both_weight_matrices(std, dtype):
    """weight_init_std=s draws W1 and W2 from N(0, s^2), biases zero, with rng or without."""
    np.random.seed(3)
    for network in (DeepVisionZeroNet(784, 50, 10, std, dtype=dtype),
                    DeepVisionZeroNet(784, 50, 10, weight_init_std=std, rng=3, dtype=dtype)):
        W1, W2 = network.params["W1"], network.params["W2"]
        assert W1.dtype == W2.dtype == dtype
        assert W1.std() == pytest.approx(std, rel=0.03)  # 39,200 draws
        assert W2.std() == pytest.approx(std, rel=0.15)  # 500 draws
        assert abs(W1.mean()) < 0.05 * std
        assert network.weight_init_std == std
        for key in ("b1", "b2"):
            np.testing.assert_array_equal(network.params[key], 0.0)
    # The same draws as the default 0.01, scaled: s multiplies, nothing else changes.
    default = DeepVisionZeroNet(784, 50, 10, rng=3)
    scaled = DeepVisionZeroNet(784, 50, 10, weight_init_std=std, rng=3)
    for key in ("W1", "W2"):
        np.testing.assert_allclose(scaled.params[key], std / 0.01 * default.params[key],
                                   rtol=1e-12)


def test_weight_init_std_zero_gives_zero_weights():
    """weight_init_std=0 is allowed and means every weight starts at zero."""
    network = DeepVisionZeroNet(8, 5, 4, weight_init_std=0.0, rng=1)
    for value in network.params.values():
        np.testing.assert_array_equal(value, 0.0)


def test_rng_makes_initialisation_reproducible_in_any_dtype():
    a = DeepVisionZeroNet(6, 4, 3, rng=3)
    b = DeepVisionZeroNet(6, 4, 3, rng=np.random.default_rng(3))
    c = DeepVisionZeroNet(6, 4, 3, rng=3, dtype=np.float32)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert c.params["W1"].dtype == np.float32
    np.testing.assert_array_equal(c.params["W1"], a.params["W1"].astype(np.float32))


def test_predict_is_the_seeds_formula(rng):
    network = DeepVisionZeroNet(8, 5, 4, weight_init_std=0.5, rng=1)
    x, _ = small_batch(rng)
    p = network.params
    expected = softmax(sigmoid(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"])
    y = network.predict(x)
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    np.testing.assert_allclose(y.sum(axis=1), 1.0)
    np.testing.assert_allclose(network.predict(x[0]), expected[0], rtol=1e-12)


def test_relu_network_predict(rng):
    network = DeepVisionZeroNet(8, 5, 4, weight_init_std=0.5, activation="relu", rng=1)
    x, _ = small_batch(rng)
    p = network.params
    expected = softmax(np.maximum(x @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"])
    np.testing.assert_allclose(network.predict(x), expected, rtol=1e-12)


def test_loss_one_hot_and_labels(rng):
    network = DeepVisionZeroNet(8, 5, 4, weight_init_std=0.5, rng=1)
    x, labels = small_batch(rng)
    expected = cross_entropy_error(network.predict(x), labels)
    assert network.loss(x, labels) == pytest.approx(expected)
    assert network.loss(x, np.eye(4)[labels]) == pytest.approx(expected)
    # At initialisation with tiny weights every class is about equally likely: loss ~ ln 4.
    tiny = DeepVisionZeroNet(8, 5, 4, rng=1)
    assert tiny.loss(x, labels) == pytest.approx(np.log(4), rel=1e-3)


def test_accuracy_against_independent_count(rng):
    network = DeepVisionZeroNet(8, 5, 4, weight_init_std=1.0, rng=2)
    x, labels = rng.random((103, 8)), rng.integers(0, 4, size=103)
    expected = np.mean(np.argmax(network.predict(x), axis=1) == labels)
    assert network.accuracy(x, labels) == pytest.approx(expected)
    assert network.accuracy(x, np.eye(4)[labels]) == pytest.approx(expected)
    assert network.accuracy(x, labels, batch_size=10) == pytest.approx(expected)
    assert isinstance(network.accuracy(x, labels), float)


@pytest.mark.parametrize("batch_size", [1, 10, 102, 103, 1000])
def test_accuracy_in_chunks_counts_every_sample_once(rng, batch_size):
    network = DeepVisionZeroNet(8, 5, 4, weight_init_std=1.0, rng=2)
    x, labels = rng.random((103, 8)), rng.integers(0, 4, size=103)
    expected = np.sum(np.argmax(network.predict(x), axis=1) == labels) / 103
    assert network.accuracy(x, labels, batch_size=batch_size) == expected


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("one_hot", [True, False])
def test_backprop_matches_numerical_gradient(rng, activation, one_hot):
    network = DeepVisionZeroNet(8, 6, 4, weight_init_std=0.5, activation=activation, rng=4)
    x, labels = small_batch(rng)
    t = np.eye(4)[labels] if one_hot else labels
    backprop = network.gradient(x, t)
    numerical = network.numerical_gradient(x, t)
    assert set(backprop) == set(numerical) == {"W1", "b1", "W2", "b2"}
    for key in numerical:
        assert backprop[key].shape == network.params[key].shape
        assert max_relative_error(backprop[key], numerical[key]) < 1e-6, key


def test_backprop_matches_numerical_on_mnist(mnist):
    """A 784-10-10 network with the seed's initialisation, float64, on real MNIST images.

    (test_seed.py checks the full 784-50-10 network against the seed's own class.)
    """
    (x_train, t_train), _ = mnist
    np.random.seed(0)
    network = DeepVisionZeroNet(input_size=784, hidden_size=10, output_size=10)
    x, t = x_train[:3].astype(np.float64), t_train[:3]
    backprop = network.gradient(x, t)
    numerical = network.numerical_gradient(x, t)
    for key in ("W1", "b1", "W2", "b2"):
        assert max_relative_error(backprop[key], numerical[key]) < 1e-6, key


def test_float32_gradient_agrees_with_float64(rng):
    x, labels = small_batch(rng)
    net64 = DeepVisionZeroNet(8, 6, 4, weight_init_std=0.5, rng=4)
    net32 = DeepVisionZeroNet(8, 6, 4, weight_init_std=0.5, rng=4, dtype=np.float32)
    g64, g32 = net64.gradient(x, labels), net32.gradient(x.astype(np.float32), labels)
    for key in g64:
        assert g32[key].dtype == np.float32
        assert max_relative_error(g32[key], g64[key]) < 1e-5


def test_numerical_gradient_leaves_params_unchanged(rng):
    network = DeepVisionZeroNet(8, 3, 4, weight_init_std=0.5, rng=4)
    before = {k: v.copy() for k, v in network.params.items()}
    network.numerical_gradient(*small_batch(rng))
    for key, value in before.items():
        np.testing.assert_array_equal(network.params[key], value)


def test_image_shaped_input_is_flattened(rng):
    network = DeepVisionZeroNet(12, 3, 2, rng=0)
    x = rng.random((2, 1, 3, 4))
    np.testing.assert_allclose(network.predict(x), network.predict(x.reshape(2, 12)))


@pytest.mark.parametrize(
    "x, message",
    [
        (np.zeros((5, 7)), r"x must have shape \(N, 8\) or \(8,\), got \(5, 7\)"),
        (np.zeros((2, 2, 3)), r"got \(2, 2, 3\)"),
        (np.zeros(()), r"got \(\)"),
        (np.array([["a"] * 8]), "real numbers, got dtype <U1"),
        (np.zeros((2, 8), dtype=complex), "real numbers, got dtype complex128"),
    ],
)
def test_bad_x_is_rejected_with_shapes(x, message):
    network = DeepVisionZeroNet(8, 3, 4, rng=0)
    with pytest.raises(ValueError, match=message):
        network.predict(x)
    with pytest.raises(ValueError, match=message):
        network.gradient(x, np.zeros(len(x) if x.ndim else 1, dtype=int))


def test_bad_t_is_rejected_with_shapes(rng):
    network = DeepVisionZeroNet(8, 3, 4, rng=0)
    x, labels = small_batch(rng)
    with pytest.raises(ValueError, match=r"t must have shape \(5, 4\).*got \(4,\)"):
        network.loss(x, labels[:4])
    with pytest.raises(ValueError, match=r"got \(4,\)"):
        network.accuracy(x, labels[:4])
    with pytest.raises(ValueError, match=r"got \(4,\)"):
        network.gradient(x, labels[:4])
    with pytest.raises(ValueError, match=r"\[0, 3\]"):
        network.gradient(x, np.full(5, 9))
    with pytest.raises(ValueError, match="empty"):
        network.accuracy(np.zeros((0, 8)), np.zeros(0, dtype=int))


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((0, 3, 2), {}, "input_size"),
        ((4, -1, 2), {}, "hidden_size"),
        ((4, 3, 2.5), {}, "output_size"),
        ((4, 3, 2), {"weight_init_std": float("nan")}, "weight_init_std"),
        ((4, 3, 2), {"activation": "tanh"}, "activation"),
        ((4, 3, 2), {"dtype": np.int32}, "dtype"),
    ],
)
def test_bad_constructor_arguments(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        DeepVisionZeroNet(*args, **kwargs)


def test_save_and_load_params_round_trip(tmp_path, rng):
    network = DeepVisionZeroNet(8, 3, 4, weight_init_std=0.5, rng=0)
    other = DeepVisionZeroNet(8, 3, 4, weight_init_std=0.5, rng=1)
    for name in ("p.npz", "p.pkl"):
        network.save_params(tmp_path / name)
        other.load_params(tmp_path / name)
        for key in network.params:
            np.testing.assert_array_equal(other.params[key], network.params[key])
    x, _ = small_batch(rng)
    np.testing.assert_array_equal(other.predict(x), network.predict(x))
