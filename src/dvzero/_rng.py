"""Random generators' states as plain JSON values, for checkpoints, and back."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._i18n import _


def plain(value: Any) -> Any:
    """``value`` with NumPy arrays as lists, so that any bit generator's state is JSON-able."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def rng_state(rng: np.random.Generator | None) -> dict[str, Any]:
    """The state of ``rng`` (``None``: the global ``np.random``) as plain JSON values."""
    if rng is not None:
        return {"generator": plain(rng.bit_generator.state)}
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"legacy": [name, [int(k) for k in keys], int(pos), int(has_gauss), float(cached)]}


def restore_rng(rng: np.random.Generator | None, state: dict[str, Any]) -> None:
    """Put back into ``rng`` (``None``: the global ``np.random``) what :func:`rng_state`
    gave; ``ValueError`` if the state is of the other kind."""
    if "generator" in state:
        if rng is None:
            raise ValueError(_("the state holds a Generator's state but this trainer has none"))
        rng.bit_generator.state = state["generator"]
    else:
        name, keys, pos, has_gauss, cached = state["legacy"]
        np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
