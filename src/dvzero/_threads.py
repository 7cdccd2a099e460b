"""How many threads the matrix products (BLAS) may use.

Measured on a 2-core machine, the original post's job (``dvzero train``): 6.4 s of training
on one thread and 5.1 s on two when the machine is idle, but 6.4 s against 17-26 s with one
other busy process, whose core the second BLAS thread keeps waiting for. Its matrices
(100x784 by 784x50) are too small for a second thread to pay for that risk, so the
networks of small matrices default to one thread; the convolutional networks, whose
products are large, use every core. The thread count is a run's setting: a matrix product
may round differently on another count, so a resumed run keeps its own.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

#: The networks whose matrix products are small enough for one thread.
SMALL_NETS = ("two-layer", "mlp")


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_threads(net: str) -> int:
    """One thread for the networks of small matrices, every core for the others."""
    return 1 if net in SMALL_NETS else available_cores()


@contextlib.contextmanager
def limit_threads(threads: int | None) -> Iterator[None]:
    """BLAS (and OpenMP) use at most ``threads`` threads inside the ``with`` block
    (``None``: no limit, as runs of older versions had)."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    with threadpool_limits(limits=threads):
        yield
