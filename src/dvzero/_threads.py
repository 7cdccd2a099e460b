"""How many threads a run may use, and how.

Measured on a 2-core machine, the original post's job (``dvzero train``): 6.4 s of training
on one BLAS thread and 5.1 s on two when the machine is idle, but 6.4 s against 17-26 s
with one other busy process, whose core the second BLAS thread keeps waiting for. Its
matrices (100x784 by 784x50) are too small for a second BLAS thread to pay for that risk.

So the networks that can, split their work instead (:mod:`dvzero._parallel`), with BLAS on
one thread: the original post's network measures its losses and accuracies beside the
training, on threads of their own (:mod:`dvzero.step_losses`, :mod:`dvzero.evaluation`),
and its 2,000-image chunks on every core when it evaluates in place; the convolutional
networks cut each batch in parts, one per thread. A part on a busy
core is late by its own share only, not by the spinning of BLAS threads. ``mlp`` keeps
BLAS threads, one by default. The thread count is a run's setting: a matrix product may
round differently on another count, and a gradient summed over other parts too, so a
resumed run keeps its own.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

#: The networks that split their work in parts, one per thread, with BLAS on one thread.
SPLIT_NETS = ("two-layer", "cnn", "deep-cnn")

#: The parts per batch inside the innermost ``limit_threads(..., split_batches=True)``.
_parts = 1


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def current_threads() -> int:
    """The threads on which a network may run the parts of its work
    (:mod:`dvzero._parallel`): one, unless :func:`limit_threads` was asked to split."""
    return _parts


def default_threads(net: str) -> int:
    """Every core for the networks that split their work, one BLAS thread for ``mlp``."""
    return available_cores() if net in SPLIT_NETS else 1


@contextlib.contextmanager
def limit_threads(threads: int | None, split_batches: bool = False) -> Iterator[None]:
    """Run the ``with`` block on at most ``threads`` threads (``None``: no limit, as runs of
    older versions had).

    BLAS (and OpenMP) get ``threads`` threads; or, with ``split_batches``, the networks and
    layers that can split their work (evaluation chunks, convolutions) run ``threads`` parts
    at a time, and BLAS one thread: each part's matrix products run on the part's own
    thread, and BLAS threads of their own would fight the parts for the cores. Measured on
    2 cores, a DeepConvNet step: 92 ms unsplit, 68 ms split, 97-137 ms split with BLAS on
    2 threads.

    Like threadpoolctl's limits, the setting is process-wide: use one such block at a
    time, from one thread (a run does).
    """
    global _parts
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    outer, _parts = _parts, (threads if split_batches else 1)
    try:
        with threadpool_limits(limits=1 if split_batches else threads):
            yield
    finally:
        _parts = outer


@contextlib.contextmanager
def run_threads(config: dict) -> Iterator[None]:
    """The threads of a run's ``config``: its ``threads``, as parts of the work for the
    networks of :data:`SPLIT_NETS`."""
    with limit_threads(config.get("threads"), config.get("net") in SPLIT_NETS):
        yield
