"""Work split across threads: every part done once, by its worker, errors raised here."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from dvzero import _parallel
from dvzero._parallel import (
    available_cores,
    beside,
    current_threads,
    limit_threads,
    run_parts,
    split_batch,
)
from dvzero.cli import main
from dvzero.runs.config import checked_saved, default_threads, resolve
from dvzero.training import Callback


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
    pool = _parallel._pool("dvzero", 64)
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


def test_work_beside_runs_on_one_other_thread_with_the_callers_error_settings():
    with np.errstate(over="raise"):
        future = beside(lambda: (threading.get_ident(), np.geterr()["over"]))
    thread, over = future.result(timeout=10)
    assert thread != threading.get_ident() and over == "raise"
    assert np.geterr()["over"] == "warn"  # the default, here, after the block
    assert beside(threading.get_ident).result(timeout=10) == thread  # one thread, in turn


def test_split_work_inside_work_beside_stays_on_its_thread():
    threads = set()

    def split():
        run_parts(lambda part, worker: threads.add(threading.get_ident()), 4, 4)
        return threading.get_ident()

    assert beside(split).result(timeout=10) == threads.pop() and not threads


def test_work_beside_that_fails_raises_when_its_result_is_asked():
    def fail():
        raise ValueError("a chunk too many")

    with pytest.raises(ValueError, match="a chunk too many"):
        beside(fail).result(timeout=10)

# ------------------------------------------------------------------ how many threads a run uses


def blas_threads() -> list[int]:
    np.ones(1) @ np.ones(1)  # BLAS loaded
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_limit_threads_limits_blas_inside_the_block_only():
    before = blas_threads()
    assert before, "NumPy's BLAS is not visible to threadpoolctl"
    with limit_threads(1):
        assert blas_threads() == [1] * len(before)
    assert blas_threads() == before
    with limit_threads(None):
        assert blas_threads() == before
    with pytest.raises(ValueError, match="at least 1"), limit_threads(0):
        pass


def test_split_batches_puts_blas_on_one_thread_and_the_parts_on_the_rest():
    before = blas_threads()
    assert current_threads() == 1  # nothing split unless a run asks
    with limit_threads(3, split_batches=True):
        assert current_threads() == 3
        assert blas_threads() == [1] * len(before)
        with limit_threads(2):  # an inner block that does not split
            assert current_threads() == 1
            assert blas_threads() == [2] * len(before)
        assert current_threads() == 3
    assert current_threads() == 1
    assert blas_threads() == before


@pytest.mark.parametrize(("net", "parts", "blas"), [("cnn", 2, 1), ("deep-cnn", 2, 1),
                                                    ("two-layer", 2, 1), ("mlp", 1, 2)])
def test_a_runs_threads_split_the_work_of_the_networks_that_can(tmp_path, small_mnist_dir, net,
                                                                parts, blas):
    from dvzero.runs import Run

    seen = []

    class Spy(Callback):
        def on_train_begin(self, trainer):
            seen.append((current_threads(), set(blas_threads())))

    for threads, expected in ((2, (parts, {blas})), (None, (1, set(blas_threads())))):
        run = Run.start({"net": net, "steps": 1, "hidden": [8], "data_dir": str(small_mnist_dir),
                         "seed": 1}, tmp_path / f"{net}-{threads}")
        run.config["threads"] = threads  # None: a run of an older version
        run.load_data()
        run.train([Spy()])
        run.release()
        assert seen.pop() == expected


@pytest.mark.parametrize("net, expected", [("two-layer", available_cores()), ("mlp", 1),
                                           ("cnn", available_cores()),
                                           ("deep-cnn", available_cores())])
def test_the_default_by_network(net, expected):
    assert default_threads(net) == expected
    assert resolve({"net": net})["threads"] == expected
    assert resolve({"net": net, "threads": 3})["threads"] == 3


def test_runs_of_older_versions_keep_no_limit():
    older = resolve({"seed": 1})
    del older["threads"]
    assert checked_saved(older, "checkpoint.npz")["threads"] is None
    with pytest.raises(ValueError, match="threads=0 is not valid"):
        checked_saved({**resolve({"seed": 1}), "threads": 0}, "checkpoint.npz")


def test_a_run_records_its_threads_and_resume_keeps_them(tmp_path, small_mnist_dir, capsys):
    import json

    out = tmp_path / "run"
    argv = ["train", "--data-dir", str(small_mnist_dir), "--steps", "3", "--seed", "1",
            "--no-progress", "--out", str(out), "--threads", "2"]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["threads"] == 2
    assert main(["train", "--resume", str(out), "--threads", "1"]) == 2
    assert "leave out --threads" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        main(["train", "--threads", "0", "--out", str(tmp_path / "x")])
    assert refused.value.code == 2
    assert "argument --threads: must be at least 1, got 0" in capsys.readouterr().err
