"""Work split across threads: every part done once, by its worker, errors raised here."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

from dvzero import _parallel
from dvzero._parallel import run_beside, run_parts, split_batch
from dvzero._threads import limit_threads


def test_run_parts_gives_each_worker_its_parts_in_order():
    done: list[tuple[int, int]] = []
    lock = threading.Lock()

    def work(part, worker):
        time.sleep(0.001)
        with lock:
            done.append((part, worker))

    run_parts(work, 7, 3)
    assert sorted(done) == [(part, part % 3) for part in range(7)]
    for worker in range(3):  # one after the other, in order
        assert [part for part, w in done if w == worker] == list(range(worker, 7, 3))


def test_run_parts_with_one_thread_runs_here():
    threads = set()
    run_parts(lambda part, worker: threads.add((threading.get_ident(), worker)), 4, 1)
    assert threads == {(threading.get_ident(), 0)}


def test_an_error_in_a_part_is_raised_after_every_worker_has_stopped():
    finished = []

    def work(part, worker):
        if part == 1:
            raise ValueError("part 1 failed")
        time.sleep(0.05)
        finished.append(part)

    with pytest.raises(ValueError, match="part 1 failed"):
        run_parts(work, 3, 3)
    assert sorted(finished) == [0, 2]  # the others ran to their end before the raise


def test_split_batch_covers_the_batch_once_in_one_part_per_thread(monkeypatch):
    monkeypatch.setattr(_parallel, "MIN_PART_BYTES", 10)
    parts = []
    with limit_threads(3, split_batches=True):
        split_batch(lambda start, stop: parts.append((start, stop)), 10, 1000)
        assert sorted(parts) == [(0, 3), (3, 6), (6, 10)]
        parts.clear()
        split_batch(lambda start, stop: parts.append((start, stop)), 10, 19)  # too little
        assert parts == [(0, 10)]
    parts.clear()
    split_batch(lambda start, stop: parts.append((start, stop)), 10, 1000)  # no split asked
    assert parts == [(0, 10)]


def test_split_work_inside_split_work_runs_on_the_pool_thread_it_is_on():
    seen = []
    lock = threading.Lock()

    def inner(part, worker):
        with lock:
            seen.append((threading.get_ident(), part))

    def outer(part, worker):
        here = threading.get_ident()
        run_parts(inner, 4, 3)  # from a pool thread: all four parts here, no waiting
        if worker:
            assert {thread for thread, _ in seen if thread == here} == {here}

    run_parts(outer, 3, 3)
    assert sorted(part for _, part in seen) == sorted(list(range(4)) * 3)


def test_a_failed_hand_over_still_waits_for_the_workers_already_started(monkeypatch):
    pool = _parallel._workers()
    started = []
    original = pool.submit

    def submit(function, *args):
        if started:
            raise RuntimeError("can't start new thread")
        started.append(original(function, *args))
        return started[-1]

    monkeypatch.setattr(pool, "submit", submit)
    finished = []

    def work(part, worker):
        if worker == 1:
            time.sleep(0.05)
            finished.append(part)

    with pytest.raises(RuntimeError, match="new thread"):
        run_parts(work, 3, 3)
    assert finished == [1]  # worker 1 had finished before the error reached the caller


def test_work_beside_runs_on_another_thread_with_the_callers_error_settings():
    with np.errstate(over="raise"):
        future = run_beside(lambda: (threading.get_ident(), np.geterr()["over"]))
    thread, over = future.result(timeout=10)
    assert thread != threading.get_ident() and over == "raise"
    assert np.geterr()["over"] == "warn"  # the default, here, after the block


def test_split_work_inside_work_beside_stays_on_its_thread():
    threads = set()

    def split():
        run_parts(lambda part, worker: threads.add(threading.get_ident()), 4, 4)
        return threading.get_ident()

    assert run_beside(split).result(timeout=10) == threads.pop() and not threads


def test_work_beside_that_fails_raises_when_its_result_is_asked():
    def fail():
        raise ValueError("a chunk too many")

    with pytest.raises(ValueError, match="a chunk too many"):
        run_beside(fail).result(timeout=10)


def test_idle_work_runs_on_a_thread_of_its_own_at_the_lowest_priority():
    def where():
        threads = set()
        run_parts(lambda part, worker: threads.add(threading.get_ident()), 3, 3)
        return threading.current_thread().name, threading.get_native_id(), threads

    ours = os.getpriority(os.PRIO_PROCESS, 0) if sys.platform.startswith("linux") else None
    name, native, threads = run_beside(where, idle=True).result(timeout=10)
    assert name.startswith("dvzero-idle") and len(threads) == 1  # split work: inline
    assert run_beside(where, idle=True).result(timeout=10)[1] == native  # one thread
    if sys.platform.startswith("linux"):
        assert os.getpriority(os.PRIO_PROCESS, native) == 19
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == ours  # as it was


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="no pthread_sigmask here")
def test_a_ctrl_c_during_a_held_block_lands_after_it():
    from dvzero._parallel import signals_held

    done = []
    with pytest.raises(KeyboardInterrupt):
        with signals_held():
            os.kill(os.getpid(), signal.SIGINT)
            for step in range(10000):  # bytecodes enough for a pending signal to be handled
                done.append(step)
            done.append("the end of the block")
    assert done[-1] == "the end of the block"


def test_holding_signals_off_the_main_thread_changes_nothing():
    from dvzero._parallel import signals_held

    def held() -> bool:
        with signals_held():
            return True

    assert run_beside(held).result(timeout=10)
