"""Random generators' states as plain JSON values, for checkpoints."""

from __future__ import annotations

from typing import Any

import numpy as np


def plain(value: Any) -> Any:
    """``value`` with NumPy arrays as lists, so that any bit generator's state is JSON-able."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value
