"""The structured numerical gradient: the naive loop's central differences, from cached
activations. Checked against the naive loop itself (within 1e-8 of each parameter's
largest gradient) and against backpropagation."""

from __future__ import annotations

import numpy as np
import pytest

from dvzero import DeepVisionZeroNet
from dvzero.networks.structured_gradient import structured_numerical_gradient


def trained(network: DeepVisionZeroNet, x, t, steps: int = 60) -> DeepVisionZeroNet:
    """``network`` after a few backprop steps, so that its gradients are not all tiny."""
    rng = np.random.default_rng(0)
    for _ in range(steps):
        batch = rng.choice(len(x), 50)
        for key, grad in network.gradient(x[batch], t[batch]).items():
            network.params[key] -= 0.5 * grad
    return network


def assert_agree(structured: dict, naive: dict, tolerance: float = 1e-8) -> None:
    assert structured.keys() == naive.keys()
    for key in naive:
        assert structured[key].shape == naive[key].shape
        assert structured[key].dtype == naive[key].dtype
        largest = np.abs(naive[key]).max()
        assert largest > 0, key
        error = np.abs(structured[key] - naive[key]).max()
        assert error <= tolerance * largest, (key, error / largest)


@pytest.fixture(scope="module")
def small_batch(mnist):
    (x_train, t_train), _ = mnist
    return x_train[:2000], t_train[:2000]


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_it_agrees_with_the_naive_loop(small_batch, activation):
    x, t = small_batch
    network = trained(DeepVisionZeroNet(784, 8, 10, weight_init_std=0.1,
                                        activation=activation, rng=1), x, t)
    batch = slice(0, 16)
    naive = network.numerical_gradient(x[batch], t[batch])
    structured = network.numerical_gradient(x[batch], t[batch], method="structured")
    assert_agree(structured, naive)


def test_one_hot_targets_a_single_sample_and_a_blank_image(small_batch):
    x, t = small_batch
    network = trained(DeepVisionZeroNet(784, 6, 10, weight_init_std=0.1, rng=2), x, t)
    one_hot = np.eye(10)[t[:6]]
    x_blank = x[:6].copy()
    x_blank[3] = 0  # a sample without ink moves no W1 gradient, but still b1, W2 and b2
    assert_agree(structured_numerical_gradient(network, x_blank, one_hot),
                 network.numerical_gradient(x_blank, one_hot))
    assert_agree(structured_numerical_gradient(network, x[0], t[0]),
                 network.numerical_gradient(x[:1], t[:1]))


def test_confident_mistakes_below_the_loss_floor_count_as_the_naive_loop_counts_them(
        small_batch):
    x, t = small_batch
    network = trained(DeepVisionZeroNet(784, 6, 10, weight_init_std=0.1, rng=3), x, t)
    network.params["W2"] *= 25  # probabilities far below 1e-7 for some wrong labels
    labels = t[:12].copy()
    labels[:6] = (labels[:6] + 1) % 10  # half of them wrong
    probabilities = network.predict(x[:12])[np.arange(12), labels]
    assert 2 <= (probabilities < 1e-7).sum() < 12
    assert_agree(structured_numerical_gradient(network, x[:12], labels),
                 network.numerical_gradient(x[:12], labels), tolerance=1e-7)


def test_chunks_of_any_size_give_the_same_result(small_batch):
    x, t = small_batch
    network = DeepVisionZeroNet(784, 12, 10, rng=4)
    whole = structured_numerical_gradient(network, x[:30], t[:30])
    for max_elements in (1, 5000, 10**9):
        pieces = structured_numerical_gradient(network, x[:30], t[:30], max_elements)
        for key in whole:  # equal but for the last bits of exp in vector and scalar code
            largest = np.abs(whole[key]).max()
            np.testing.assert_allclose(pieces[key], whole[key], rtol=0, atol=1e-9 * largest)


def test_the_original_posts_network_matches_backpropagation(mnist):
    (x_train, t_train), _ = mnist
    network = trained(DeepVisionZeroNet(784, 50, 10, rng=5), x_train, t_train, steps=100)
    x, t = x_train[:100], t_train[:100]
    structured = structured_numerical_gradient(network, x, t)
    backprop = network.gradient(x, t)
    for key in backprop:
        largest = np.abs(backprop[key]).max()
        assert np.abs(structured[key] - backprop[key]).max() < 1e-6 * largest, key


def test_the_parameters_are_left_untouched_and_float32_comes_back_as_float32(small_batch):
    x, t = small_batch
    network = DeepVisionZeroNet(784, 5, 10, dtype=np.float32, rng=6)
    before = {key: value.copy() for key, value in network.params.items()}
    grads = network.numerical_gradient(x[:10], t[:10], method="structured")
    for key, value in network.params.items():
        np.testing.assert_array_equal(value, before[key])
        assert grads[key].dtype == np.float32


def test_unknown_methods_and_activations_are_refused(small_batch):
    x, t = small_batch
    network = DeepVisionZeroNet(784, 5, 10, rng=7)
    with pytest.raises(ValueError, match="'naive' or 'structured'"):
        network.numerical_gradient(x[:2], t[:2], method="fast")
    network.activation = "tanh"
    with pytest.raises(ValueError, match="knows the activations"):
        structured_numerical_gradient(network, x[:2], t[:2])
    with pytest.raises(ValueError, match="must have shape"):
        structured_numerical_gradient(DeepVisionZeroNet(784, 5, 10), x[:2, :10], t[:2])


def test_memory_stays_bounded_for_large_batches_and_layers(mnist):
    import tracemalloc

    (x_train, t_train), _ = mnist
    network = DeepVisionZeroNet(784, 200, 10, rng=8)
    x, t = x_train[:1000].astype(np.float64), t_train[:1000]
    tracemalloc.start()
    try:
        structured_numerical_gradient(network, x, t)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the chunks hold at most MAX_ELEMENTS (250,000) float64 logits each; the W2 step alone
    # once held 1000 x 200 x 10 x 10 of them (1.6 GB with its copies)
    assert peak < 40 * 2**20, peak / 2**20
