"""Work split across the cores, for the passes over memory that BLAS does not do for us.

NumPy copies on one thread, while its matrix products use every core. A convolution spends
about as long unrolling its images (copies of tens of megabytes) as multiplying them, so it
can cut its batch in parts and run the parts on several threads: NumPy lets go of the
interpreter lock while it copies and multiplies. Each part writes only its own slice of the
result, so the result is the same bit for bit however the parts are scheduled.

How many threads: :func:`dvzero._threads.current_threads`, one unless a run asks for more
(``limit_threads(threads, split_batches=True)``), which also puts BLAS on one thread.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

from ._threads import current_threads

#: Less memory than this is not worth a thread of its own: handing work over costs ~50 us.
MIN_PART_BYTES = 2**20

T = TypeVar("T")

_executors: dict[str, tuple[int, ThreadPoolExecutor]] = {}  # name: (made in pid, pool)
_on_pool_thread = threading.local()  # .value: this thread is one of the pools'


def _executor(name: str, workers: int, initializer: Callable[[], None] | None = None
              ) -> ThreadPoolExecutor:
    """The pool ``name``, made on first use and made again in a forked child (whose copy
    has no threads)."""
    pid, pool = _executors.get(name, (0, None))
    if pool is None or pid != os.getpid():
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name,
                                  initializer=initializer)
        _executors[name] = os.getpid(), pool
    return pool


def _workers() -> ThreadPoolExecutor:
    """The shared pool."""
    return _executor("dvzero", 64)


def run_parts(work: Callable[[int, int], object], parts: int, threads: int) -> None:
    """Call ``work(part, worker)`` for every ``part`` in ``range(parts)``, on ``threads``
    threads (this one and ``threads - 1`` of a pool).

    Worker ``w`` takes parts ``w, w + threads, w + 2 threads, ...`` in order, one after the
    other, so each worker may keep buffers of its own. An exception in any part is raised
    here, after every worker has stopped. Called from a pool thread (work split inside
    split work), it runs every part on that thread: a pool thread never waits for the pool.
    """
    threads = max(1, min(threads, parts))
    if getattr(_on_pool_thread, "value", False):
        threads = 1

    def worker(index: int) -> None:
        for part in range(index, parts, threads):
            work(part, index)

    def pooled(index: int) -> None:
        _on_pool_thread.value = True
        worker(index)

    others = []
    try:
        for index in range(1, threads):
            others.append(_workers().submit(pooled, index))
        worker(0)
    finally:
        wait_for_all(others)  # nothing may still write into the results after this
    for other in others:
        other.result()  # raises that worker's exception, if any


def run_beside(work: Callable[[], T], idle: bool = False) -> Future[T]:
    """Start ``work()`` on a pool thread, beside this one, and return its future.

    Split work inside it runs on that thread alone (see :func:`run_parts`), so it takes
    one core and leaves this thread its own. It sees this thread's NumPy error settings
    (``np.errstate``) as they are now. ``idle`` work goes to a thread of its own, one
    piece after the other, at the lowest priority on Linux: it takes the time the other
    threads leave (measured on 2 cores: evaluations beside a training then cost it
    nothing, against 0.5 s of 4.5 s at the same priority as the training's helpers).
    """
    context = contextvars.copy_context()

    def pooled() -> T:
        _on_pool_thread.value = True
        return context.run(work)

    pool = _executor("dvzero-idle", 1, _lowest_priority) if idle else _workers()
    return pool.submit(pooled)


def _lowest_priority() -> None:
    """This thread at the lowest priority (niceness 19), on Linux, where a thread has a
    priority of its own; elsewhere, and where it is not allowed, it keeps the process's."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while the block runs on the main thread (where the
    platform can, with ``pthread_sigmask``): a Ctrl-C lands before the block or after it,
    never between two of its statements. For the few lines that must change shared state
    together; elsewhere, and on other threads (which get no signals), it does nothing."""
    if not hasattr(signal, "pthread_sigmask") or \
            threading.current_thread() is not threading.main_thread():
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:  # a signal that came meanwhile is handled once they are let through
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def wait_for_all(futures: list) -> None:
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


def threads_for(n: int, nbytes: int) -> int:
    """The threads worth giving ``n`` items holding ``nbytes`` of work: at most
    :func:`~dvzero._threads.current_threads` and ``n``, each with at least
    :data:`MIN_PART_BYTES`; at least one."""
    return max(1, min(current_threads(), n, nbytes // MIN_PART_BYTES))


def split_batch(work: Callable[[int, int], object], n: int, nbytes: int) -> None:
    """Call ``work(start, stop)`` over consecutive parts of ``range(n)`` that cover it: one
    part per thread (:func:`threads_for`), or ``work(0, n)`` here."""
    threads = threads_for(n, nbytes)
    bounds = [n * part // threads for part in range(threads + 1)]
    run_parts(lambda part, _: work(bounds[part], bounds[part + 1]), threads, threads)
