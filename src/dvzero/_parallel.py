"""Threads: how many a run may use, work split across them, and the one thread that
measures beside a training. The only module that starts threads.

NumPy copies on one thread while its matrix products use every core, so a convolution cuts
its batch in parts and runs them on several threads (:func:`run_parts`): NumPy lets go of
the interpreter lock while it copies and multiplies. Each part writes only its own slice of
the result, so the result is the same bit for bit however the parts are scheduled.

The thread count (:func:`limit_threads`) is a run's setting: a matrix product may round
differently on another count, and a gradient summed over other parts too, so a resumed run
keeps its own.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait

from ._i18n import _

#: Less memory than this is not worth a thread of its own: handing work over costs more.
MIN_PART_BYTES = 2**20

#: The parts per batch inside the innermost ``limit_threads(..., split_batches=True)``.
_parts = 1
_pools: dict[str, tuple[int, ThreadPoolExecutor]] = {}  # name: (made in pid, pool)
_on_pool_thread = threading.local()  # .value: this thread is one of the pools'


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def current_threads() -> int:
    """The threads on which a network may run the parts of its work: one, unless
    :func:`limit_threads` was asked to split."""
    return _parts


@contextlib.contextmanager
def limit_threads(threads: int | None, split_batches: bool = False) -> Iterator[None]:
    """Run the ``with`` block on at most ``threads`` threads (``None``: no limit, as runs of
    older versions had).

    BLAS (and OpenMP) get ``threads`` threads; or, with ``split_batches``, the networks and
    layers that split their work run ``threads`` parts at a time, with BLAS on one thread (so
    that a part on a busy core is late by its own share only, not by BLAS threads spinning).
    Like threadpoolctl's limits, the setting is process-wide: use one such block at a time.
    """
    global _parts
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    if threads < 1:
        raise ValueError(_("threads must be at least 1, got {threads}").format(threads=threads))
    outer, _parts = _parts, (threads if split_batches else 1)
    try:
        with threadpool_limits(limits=1 if split_batches else threads):
            yield
    finally:
        _parts = outer


def _pool(name: str, workers: int, initializer: Callable[[], None] | None = None
          ) -> ThreadPoolExecutor:
    """The pool ``name``, made on first use and made again in a forked child (whose copy
    has no threads)."""
    pid, pool = _pools.get(name, (0, None))
    if pool is None or pid != os.getpid():
        pool = ThreadPoolExecutor(workers, thread_name_prefix=name,
                                  initializer=_start_pool_thread, initargs=(initializer,))
        _pools[name] = os.getpid(), pool
    return pool


def run_parts(work: Callable[[int, int], object], parts: int, threads: int) -> None:
    """Call ``work(part, worker)`` for every ``part`` in ``range(parts)``, on ``threads``
    threads (this one and ``threads - 1`` of a pool).

    Worker ``w`` takes parts ``w, w + threads, w + 2 threads, ...`` in order, one after the
    other, so each worker may keep buffers of its own. An exception in any part is raised
    here, after every worker has stopped. Called from a pool thread (work split inside
    split work), it runs every part on that thread: a pool thread never waits for the pool.
    """
    on_pool_thread = getattr(_on_pool_thread, "value", False)
    threads = 1 if on_pool_thread else max(1, min(threads, parts))

    def worker(index: int) -> None:
        for part in range(index, parts, threads):
            work(part, index)

    others = []
    try:
        for index in range(1, threads):
            others.append(_pool("dvzero", 64).submit(worker, index))
        worker(0)
    finally:
        wait_for_all(others)  # nothing may still write into the results after this
    for other in others:
        other.result()  # raises that worker's exception, if any


def threads_for(n: int, nbytes: int) -> int:
    """The threads worth giving ``n`` items holding ``nbytes`` of work: at most
    :func:`current_threads` and ``n``, each with at least :data:`MIN_PART_BYTES`; at least one."""
    return max(1, min(current_threads(), n, nbytes // MIN_PART_BYTES))


def split_batch(work: Callable[[int, int], object], n: int, nbytes: int) -> None:
    """Call ``work(start, stop)`` over consecutive parts of ``range(n)`` that cover it: one
    part per thread (:func:`threads_for`), or ``work(0, n)`` here."""
    threads = threads_for(n, nbytes)
    bounds = [n * part // threads for part in range(threads + 1)]
    run_parts(lambda part, _: work(bounds[part], bounds[part + 1]), threads, threads)


def beside(work: Callable[[], object]) -> Future:
    """Start ``work()`` on the one thread that measures beside a training, after what was
    handed to it before, at the lowest priority, with this thread's NumPy error settings
    (``np.errstate``); split work inside it stays on that thread."""
    context = contextvars.copy_context()
    return _pool("dvzero-beside", 1, _lowest_priority).submit(context.run, work)


def _start_pool_thread(initializer: Callable[[], None] | None) -> None:
    """Mark this thread as a pool's (split work inside it stays on it), then run
    ``initializer``, if any."""
    _on_pool_thread.value = True
    if initializer is not None:
        initializer()


def _lowest_priority() -> None:
    """This thread at niceness 19 on Linux, where a thread has a priority of its own (a
    thread id elsewhere may name another process)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def wait_for_all(futures: list[Future]) -> None:
    """Wait until every future is done, even through Ctrl-C (raised again afterwards)."""
    interrupted = None
    while True:
        try:
            wait(futures)
            break
        except KeyboardInterrupt as exc:
            interrupted = exc
    if interrupted is not None:
        raise interrupted
