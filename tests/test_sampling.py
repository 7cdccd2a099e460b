"""Which samples each step sees: the original post's draws, or shuffled epochs."""

import numpy as np
import pytest

from dvzero.training.sampling import ReplacementSampler, ShuffledSampler, make_sampler


def test_the_original_posts_draws_use_the_global_random_state():
    np.random.seed(5)
    expected = np.random.choice(50, 7)
    np.random.seed(5)
    np.testing.assert_array_equal(ReplacementSampler(50, 7, None).batch(0), expected)


def test_draws_from_a_generator_are_with_replacement():
    sampler = ReplacementSampler(10, 1000, np.random.default_rng(0))
    batch = sampler.batch(0)
    assert batch.shape == (1000,) and batch.min() >= 0 and batch.max() < 10
    assert len(np.unique(batch)) < 1000  # repeats: drawn with replacement
    assert sampler.iter_per_epoch == 1


@pytest.mark.parametrize(("size", "batch"), [(100, 10), (103, 10), (5, 10)])
def test_each_sample_once_an_epoch(size, batch):
    sampler = ShuffledSampler(size, batch, np.random.default_rng(1))
    assert sampler.iter_per_epoch == -(-size // batch)
    for epoch in range(3):
        seen = np.concatenate([sampler.batch(epoch * sampler.iter_per_epoch + i)
                               for i in range(sampler.iter_per_epoch)])
        np.testing.assert_array_equal(np.sort(seen), np.arange(size))
    orders = [sampler.batch(k * sampler.iter_per_epoch).copy() for k in range(2)]
    assert not np.array_equal(*orders) or size <= 1  # a new order each epoch


def test_the_saved_order_continues_an_epoch_exactly():
    rng = np.random.default_rng(2)
    first = ShuffledSampler(50, 8, rng)
    [first.batch(step) for step in range(3)]  # mid-epoch
    state, rng_state = first.state_dict(), rng.bit_generator.state
    rest = [first.batch(step) for step in range(3, 20)]
    rng2 = np.random.default_rng()
    rng2.bit_generator.state = rng_state
    second = ShuffledSampler(50, 8, rng2)
    second.load_state_dict(state)
    for step, expected in zip(range(3, 20), rest, strict=True):
        np.testing.assert_array_equal(second.batch(step), expected)
    with pytest.raises(ValueError, match="shape"):
        second.load_state_dict({"order": np.arange(3)})


def test_unknown_sampling():
    with pytest.raises(ValueError, match="sampling must be one of"):
        make_sampler("bootstrap", 10, 2, None)
