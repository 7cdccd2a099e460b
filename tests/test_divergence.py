"""When training has gone wrong: the loss and parameter checks against worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dvzero.errors import TrainingDiverged
from dvzero.training.divergence import (
    DIVERGENCE_FACTOR,
    DIVERGENCE_WINDOW,
    check_loss,
    check_params,
    is_healthy,
    recent_mean,
)


def test_recent_mean_is_over_the_last_window_of_losses():
    losses = [1000.0] * 5 + [1.0] * DIVERGENCE_WINDOW
    assert recent_mean(losses) == (1.0, DIVERGENCE_WINDOW)
    assert recent_mean([1.0, 2.0, 6.0]) == (3.0, 3)
    mean, window = recent_mean([])
    assert math.isnan(mean) and window == 0


def test_healthy_means_finite_and_under_the_limit():
    limit = DIVERGENCE_FACTOR * 2.3
    assert is_healthy([], 2.3)
    assert is_healthy([limit], 2.3)  # at the limit, not over it
    assert not is_healthy([limit * 1.01], 2.3)
    assert not is_healthy([1.0, math.nan], 2.3)
    assert not is_healthy([1.0, math.inf], 2.3)


def test_a_loss_that_is_not_finite_stops_at_once():
    with pytest.raises(TrainingDiverged) as caught:
        check_loss(7, math.nan, [1.0, math.nan], 2.3)
    assert caught.value.step == 7


def test_an_explosion_needs_enough_steps_to_be_told_from_a_bad_batch():
    losses = [10.0] * 9  # the mean is over the limit, but only 9 steps of it
    check_loss(8, 10.0, losses, 2.3)
    with pytest.raises(TrainingDiverged, match=r"averaged 10 over the last 10 steps"):
        check_loss(9, 10.0, losses + [10.0], 2.3)
    with pytest.raises(TrainingDiverged, match="over the last 1 steps"):
        check_loss(0, 10.0, [10.0], 2.3, min_window=1)


def test_parameters_holding_nan_or_infinity_are_named():
    check_params(3, 1.0, {"W1": np.ones(2), "b1": np.zeros(2)})
    with pytest.raises(TrainingDiverged, match="parameter b1 holds NaN or infinity"):
        check_params(3, 1.0, {"W1": np.ones(2), "b1": np.array([0.0, np.inf])})
