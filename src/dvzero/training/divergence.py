"""When training has gone wrong: a NaN or infinite loss or parameter, or a loss that explodes.

The trainer checks every step's loss and, at each evaluation, the parameters; a run saves
a checkpoint only while :func:`is_healthy` holds, so the checkpoint left after a
divergence is one worth continuing from (with a lower learning rate).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from .._i18n import _
from ..errors import TrainingDiverged

#: The loss is watched over this many steps for an explosion.
DIVERGENCE_WINDOW = 100
#: Training has diverged when the windowed mean loss exceeds this multiple of the loss
#: before the first update (measured on the first DIVERGENCE_REFERENCE_SIZE samples).
DIVERGENCE_FACTOR = 2.0
DIVERGENCE_REFERENCE_SIZE = 1000


def recent_mean(losses: Sequence[float]) -> tuple[float, int]:
    """Mean of the last :data:`DIVERGENCE_WINDOW` losses (or fewer): ``(mean, n)``."""
    window = min(len(losses), DIVERGENCE_WINDOW)
    return (math.fsum(losses[-window:]) / window if window else math.nan), window


def is_healthy(losses: Sequence[float], initial_loss: float) -> bool:
    """True unless the recent loss is non-finite or above the divergence limit. Unlike
    :func:`check_loss`, this needs no minimum number of steps: a checkpoint is only worth
    keeping when even a single step's loss looks sane."""
    mean, window = recent_mean(losses)
    return window == 0 or (math.isfinite(mean) and mean <= DIVERGENCE_FACTOR * initial_loss)


def check_loss(step: int, loss: float, losses: Sequence[float], initial_loss: float,
               min_window: int = 10) -> None:
    """Raise :class:`~dvzero.errors.TrainingDiverged` if ``loss`` is NaN or infinite, or if
    the mean of the recent ``losses`` (at least ``min_window`` of them) is over the limit."""
    if not math.isfinite(loss):
        raise TrainingDiverged(step, loss)
    mean, window = recent_mean(losses)
    if window >= min_window and mean > DIVERGENCE_FACTOR * initial_loss:
        raise TrainingDiverged(step, loss, _(
            "the loss averaged {mean:.3g} over the last {window} steps, more than {factor:g} "
            "times its starting value {initial:.3g}"
        ).format(mean=mean, window=window, factor=DIVERGENCE_FACTOR, initial=initial_loss))


def bad_parameter(params: Mapping[str, NDArray]) -> str | None:
    """The name of the first parameter holding NaN or infinity, or ``None``."""
    return next((key for key, value in params.items() if not np.all(np.isfinite(value))), None)


def check_params(step: int, loss: float, params: Mapping[str, NDArray]) -> None:
    """Raise :class:`~dvzero.errors.TrainingDiverged` if a parameter holds NaN or infinity."""
    key = bad_parameter(params)
    if key is not None:
        raise TrainingDiverged(step, loss, _("parameter {key} holds NaN or infinity")
                               .format(key=key))
