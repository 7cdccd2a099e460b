"""What every network shares: argument checks, counting right answers, and fitting loaded
arrays to a network."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._parallel import run_parts
from ..errors import ParamsFileError


def positive_int(name: str, value: Any) -> int:
    """``value`` as an ``int`` if it is a whole number >= 1, else ``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def count_correct(scores_of: Callable[[Any], NDArray], rows: Any, labels: NDArray,
                  batch_size: int, threads: int = 1) -> int:
    """How many of ``rows`` get their highest score ``scores_of(chunk)`` at their label,
    ``batch_size`` rows at a time, so that memory stays bounded.

    The chunks run on ``threads`` threads (:func:`~dvzero._parallel.run_parts`); more than
    one only if ``scores_of`` keeps no state between calls. The count is the same however
    the chunks are shared out.
    """
    starts = range(0, len(rows), batch_size)
    correct = [0] * len(starts)

    def count(chunk: int, _: int) -> None:
        part = slice(starts[chunk], starts[chunk] + batch_size)
        correct[chunk] = int(np.sum(np.argmax(scores_of(rows[part]), axis=1) == labels[part]))

    run_parts(count, len(starts), threads)
    return sum(correct)


def fit_params(
    loaded: dict[str, NDArray], expected: dict[str, NDArray], source: str
) -> dict[str, NDArray]:
    """``loaded`` checked against ``expected`` (keys and shapes, named) and cast to its dtypes.

    Raises :class:`ParamsFileError` listing every missing or unexpected key and every shape
    mismatch, e.g. ``W1: file has (784, 100), network expects (784, 50)``.
    """
    problems = []
    missing = [key for key in expected if key not in loaded]
    extra = [key for key in loaded if key not in expected]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected {', '.join(extra)}")
    for key, value in expected.items():
        if key in loaded and loaded[key].shape != value.shape:
            problems.append(
                f"{key}: file has {loaded[key].shape}, network expects {value.shape}"
            )
    if problems:
        raise ParamsFileError(f"{source} does not fit the network: " + "; ".join(problems))
    return {key: loaded[key].astype(value.dtype, copy=True) for key, value in expected.items()}
