"""The thread count of the matrix products: a run's setting, applied through threadpoolctl."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from dvzero._threads import (
    available_cores,
    current_threads,
    default_threads,
    limit_threads,
    run_threads,
)
from dvzero.cli import main
from dvzero.runs.config import checked_saved, resolve


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
def test_a_runs_threads_split_the_work_of_the_networks_that_can(net, parts, blas):
    with run_threads({"net": net, "threads": 2}):
        assert current_threads() == parts
        assert set(blas_threads()) == {blas}
    with run_threads({"net": net, "threads": None}):  # a run of an older version
        assert current_threads() == 1


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
