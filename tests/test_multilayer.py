"""MultiLayerNet: gradient checks for every combination, API, files and registry."""

import itertools

import numpy as np
import pytest

from dvzero.errors import ParamsFileError
from dvzero.networks import MultiLayerNet, load_network

from helpers import max_relative_error


def small_batch(rng, n=6, d=5, classes=3):
    return rng.normal(size=(n, d)), rng.integers(0, classes, size=n)


@pytest.mark.parametrize(
    ("activation", "use_batchnorm", "use_dropout"),
    list(itertools.product(["relu", "sigmoid", "tanh"], [False, True], [False, True])),
)
def test_gradient_matches_numerical_for_every_combination(rng, activation, use_batchnorm,
                                                          use_dropout):
    x, t = small_batch(rng)
    net = MultiLayerNet(5, [4, 3], 3, activation=activation, weight_init_std=0.8,
                        weight_decay_lambda=0.1, use_dropout=use_dropout, dropout_ratio=0.3,
                        use_batchnorm=use_batchnorm, rng=1)
    for key in net.params:  # learnt-like values, not the initial zeros and ones
        if key.startswith(("b", "gamma", "beta")):
            net.params[key][...] = rng.normal(size=net.params[key].shape)
    state = net.dropout_rng.bit_generator.state
    backprop = net.gradient(x, t)
    net.dropout_rng.bit_generator.state = state  # the same dropout masks for the check
    numerical = net.numerical_gradient(x, t)
    assert sorted(backprop) == sorted(numerical) == sorted(net.params)
    for key in backprop:
        if use_batchnorm and key in ("b1", "b2"):
            # A bias before batch normalisation is subtracted again with the batch mean: its
            # gradient is exactly 0, and both methods find only rounding noise.
            assert np.abs(backprop[key]).max() < 1e-12 and np.abs(numerical[key]).max() < 1e-8
            continue
        assert max_relative_error(backprop[key], numerical[key]) < 1e-6, key


def test_params_names_and_shapes():
    net = MultiLayerNet(784, [100, 50], 10, use_batchnorm=True, rng=0)
    shapes = {key: value.shape for key, value in net.params.items()}
    assert shapes == {"W1": (784, 100), "b1": (100,), "gamma1": (100,), "beta1": (100,),
                      "W2": (100, 50), "b2": (50,), "gamma2": (50,), "beta2": (50,),
                      "W3": (50, 10), "b3": (10,)}
    assert sorted(net.buffers) == ["running_mean1", "running_mean2", "running_var1",
                                   "running_var2"]


@pytest.mark.parametrize(("init", "scale"), [("he", np.sqrt(2 / 400)),
                                             ("xavier", np.sqrt(1 / 400)), (0.05, 0.05)])
def test_initial_weights_have_the_named_scale(init, scale):
    net = MultiLayerNet(400, [300], 10, weight_init_std=init, rng=0)
    assert net.params["W1"].std() == pytest.approx(scale, rel=0.02)
    assert net.params["W2"].std() == pytest.approx(
        {"he": np.sqrt(2 / 300), "xavier": np.sqrt(1 / 300)}.get(init, scale), rel=0.05)
    assert not net.params["b1"].any()


def test_loss_includes_the_weight_decay_term(rng):
    x, t = small_batch(rng)
    plain = MultiLayerNet(5, [4], 3, rng=2)
    decayed = MultiLayerNet(5, [4], 3, weight_decay_lambda=0.5, rng=2)
    squares = sum(float(np.sum(plain.params[k] ** 2)) for k in ("W1", "W2"))
    assert decayed.loss(x, t) == pytest.approx(plain.loss(x, t) + 0.25 * squares, rel=1e-12)


def test_predict_gives_probabilities_and_train_mode_differs_with_dropout(rng):
    x, _ = small_batch(rng)
    net = MultiLayerNet(5, [50], 3, use_dropout=True, dropout_ratio=0.5, rng=3)
    probabilities = net.predict(x)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    np.testing.assert_array_equal(probabilities, net.predict(x))  # predicting: no dropout
    assert not np.allclose(net.predict(x, train_flg=True), probabilities)


def test_an_independent_forward_pass_agrees(rng):
    """Predicting with batch normalisation, computed here without dvzero's layers."""
    x, _ = small_batch(rng)
    net = MultiLayerNet(5, [4], 3, activation="tanh", use_batchnorm=True, rng=4)
    net.buffers["running_mean1"][...] = rng.normal(size=4)
    net.buffers["running_var1"][...] = rng.random(4) + 0.5
    p = net.params
    h = x @ p["W1"] + p["b1"]
    h = (h - net.buffers["running_mean1"]) / np.sqrt(net.buffers["running_var1"] + 1e-5)
    h = np.tanh(p["gamma1"] * h + p["beta1"])
    scores = h @ p["W2"] + p["b2"]
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(net.predict(x), expected, rtol=1e-12)


def test_same_seed_same_network_and_masks(rng):
    x, t = small_batch(rng)
    one = MultiLayerNet(5, [8], 3, use_dropout=True, rng=9)
    two = MultiLayerNet(5, [8], 3, use_dropout=True, rng=9)
    for key in one.params:
        np.testing.assert_array_equal(one.params[key], two.params[key])
    for _ in range(2):  # mask after mask
        np.testing.assert_array_equal(one.predict(x, train_flg=True),
                                      two.predict(x, train_flg=True))
    other = MultiLayerNet(5, [8], 3, use_dropout=True, rng=10)
    assert not np.array_equal(one.params["W1"], other.params["W1"])


def test_accuracy_against_labels_and_one_hot(rng):
    x, t = small_batch(rng, n=30)
    net = MultiLayerNet(5, [6], 3, rng=5)
    predicted = np.argmax(net.predict(x), axis=1)
    assert net.accuracy(x, t) == pytest.approx(np.mean(predicted == t))
    assert net.accuracy(x, np.eye(3)[t], batch_size=7) == net.accuracy(x, t)


@pytest.mark.parametrize("suffix", [".npz", ".pkl"])
def test_save_and_load_keep_params_and_running_averages(tmp_path, rng, suffix):
    x, t = small_batch(rng)
    net = MultiLayerNet(5, [4, 4], 3, use_batchnorm=True, use_dropout=True, rng=6,
                        dtype=np.float32)
    net.gradient(x, t)  # moves the running averages
    path = tmp_path / f"net{suffix}"
    net.save_params(path)
    other = MultiLayerNet(5, [4, 4], 3, use_batchnorm=True, use_dropout=True, rng=7,
                          dtype=np.float32)
    other.load_params(path)
    for key, value in net.arrays().items():
        np.testing.assert_array_equal(other.arrays()[key], value, strict=True)
    np.testing.assert_array_equal(other.predict(x), net.predict(x))
    if suffix == ".npz":
        rebuilt = load_network(path)
        assert type(rebuilt) is MultiLayerNet and rebuilt.config() == net.config()
        np.testing.assert_array_equal(rebuilt.predict(x), net.predict(x))


def test_loading_a_file_of_another_shape_names_the_mismatch(tmp_path):
    MultiLayerNet(5, [4], 3, rng=0).save_params(tmp_path / "a.npz")
    with pytest.raises(ParamsFileError, match=r"W1: file has \(5, 4\), network expects \(5, 6\)"):
        MultiLayerNet(5, [6], 3, rng=0).load_params(tmp_path / "a.npz")


def test_state_dict_restores_running_averages_and_dropout_generator(rng):
    x, t = small_batch(rng)
    net = MultiLayerNet(5, [4], 3, use_batchnorm=True, use_dropout=True, rng=8)
    net.gradient(x, t)
    state = net.state_dict()
    first = net.gradient(x, t)
    net.load_state_dict(state)
    again = net.gradient(x, t)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"hidden_size_list": [4, 0]}, "hidden size"), ({"activation": "elu"}, "activation"),
     ({"weight_init_std": "lecun"}, "weight_init_std"),
     ({"weight_init_std": -1.0}, "weight_init_std"),
     ({"weight_decay_lambda": -0.1}, "weight_decay_lambda"),
     ({"use_dropout": True, "dropout_ratio": 1.0}, "dropout_ratio"),
     ({"dtype": np.int32}, "float dtype")],
)
def test_bad_arguments_are_refused_by_name(kwargs, message):
    args = {"input_size": 5, "hidden_size_list": [4], "output_size": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        MultiLayerNet(**args)


def test_the_numerical_gradient_leaves_the_network_as_gradient_does(rng):
    x, t = small_batch(rng, n=8)

    def make():
        return MultiLayerNet(5, [4], 3, use_batchnorm=True, use_dropout=True, rng=11)

    by_backprop, by_numbers = make(), make()
    by_backprop.gradient(x, t)
    by_numbers.numerical_gradient(x, t)
    np.testing.assert_allclose(by_numbers.buffers["running_mean1"],
                               by_backprop.buffers["running_mean1"], rtol=1e-12)
    assert by_numbers.last_loss == pytest.approx(by_backprop.last_loss, rel=1e-12)
    assert by_numbers.dropout_rng.bit_generator.state == \
        by_backprop.dropout_rng.bit_generator.state  # the same masks were drawn


def test_replacing_a_parameter_array_is_seen_by_the_layers(rng):
    x, t = small_batch(rng)
    net = MultiLayerNet(5, [4], 3, rng=12)
    before = net.loss(x, t)
    net.params["W2"] = np.zeros_like(net.params["W2"])
    assert net.loss(x, t) == pytest.approx(np.log(3))  # zero logits: uniform probabilities
    assert net.loss(x, t) != before
    net.params.update(W2=np.ones_like(net.params["W2"]))  # every logit equal again
    assert net.loss(x, t) == pytest.approx(np.log(3))
    net.params = {key: value.copy() for key, value in MultiLayerNet(5, [4], 3, rng=12)
                  .params.items()}
    assert net.loss(x, t) == before
    net.params["W2"] *= 0.0  # in place: the layers hold the arrays themselves
    assert net.loss(x, t) == pytest.approx(np.log(3))


def test_a_pickle_of_a_deeper_network_says_to_use_npz(tmp_path):
    path = tmp_path / "deep.pkl"
    MultiLayerNet(5, [4, 4], 3, rng=0).save_params(path)
    with pytest.raises(ParamsFileError, match="only the original post's two-layer network"):
        load_network(path)
