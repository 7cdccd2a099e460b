"""``dvzero search`` end to end: on local worker processes and on a real Dask cluster (a
``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1), with the same table;
a worker killed mid-search; Ctrl-C and ``--resume``; an unreachable scheduler; bad input
refused before any trial runs."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="Dask is not installed: pip install -e '.[dev]'")

#: Small trials: a few hundred steps of small batches on 2,000 images, about a second each.
SMALL = ("--steps", "60", "--batch-size", "20", "--hidden", "16", "--no-progress")


def dvzero(*args: str, timeout: float = 240, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dvzero.cli", *args], capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def search_args(data_dir: Path, out: Path, *more: str) -> list[str]:
    return ["search", "--data-dir", str(data_dir), "--out", str(out), "--seed", "3",
            "--trials", "6", "--lr", "0.01:0.5", "--weight-decay", "1e-6:1e-3", "--net", "mlp",
            *SMALL, *more]


def results(out: Path) -> list[dict[str, str]]:
    with open(out / "results.csv", encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


class Cluster:
    """A Dask scheduler and workers on 127.0.0.1, each a process of its own."""

    def __init__(self, directory: Path, workers: int = 2) -> None:
        self.file = directory / "scheduler.json"
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port", "0",
                                     "--no-dashboard", "--scheduler-file", str(self.file))
        deadline = time.monotonic() + 60
        while not (self.file.exists() and self.file.stat().st_size):
            assert time.monotonic() < deadline, "the scheduler did not start in 60 s"
            time.sleep(0.2)
        self.address = json.loads(self.file.read_text(encoding="utf-8"))["address"]
        self.workers = [self._start("worker", self.address, "--nthreads", "1", "--no-nanny",
                                    "--no-dashboard", "--death-timeout", "60")
                        for _ in range(workers)]
        self.wait_for(workers)

    @staticmethod
    def _start(*args: str) -> subprocess.Popen:
        dask = Path(sys.executable).with_name("dask")
        return subprocess.Popen([str(dask), *args], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)

    def wait_for(self, workers: int) -> None:
        from dask.distributed import Client

        with Client(self.address, timeout="30s") as client:
            client.wait_for_workers(workers, timeout=60)

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("dask"))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def local_table(small_mnist_dir, tmp_path_factory):
    """The 6-trial search on one local worker: the table the others must give."""
    out = tmp_path_factory.mktemp("local") / "search"
    result = dvzero(*search_args(small_mnist_dir, out, "--workers", "1"))
    assert result.returncode == 0, result.stderr
    return out, result


def test_a_search_writes_its_ranked_table_its_trials_and_its_pictures(local_table):
    out, result = local_table
    rows = results(out)
    assert [row["trial"] for row in rows] != [] and len(rows) == 6
    assert list(rows[0]) == ["trial", "lr", "weight_decay", "val_acc", "status", "reason"]
    finished = [row for row in rows if row["status"] == "finished"]
    accuracies = [float(row["val_acc"]) for row in finished]
    assert accuracies == sorted(accuracies, reverse=True)
    for row in rows:
        lr, decay = float(row["lr"]), float(row["weight_decay"])
        assert 0.01 <= lr <= 0.5 and 1e-6 <= decay <= 1e-3
        trial = out / f"trial-{int(row['trial']):03d}"
        summary = json.loads((trial / "summary.json").read_text(encoding="utf-8"))
        assert summary["test_acc"] is None and summary["test_acc_list"] == []
        assert summary["val_acc"] == pytest.approx(float(row["val_acc"]))
        assert (trial / "params.npz").is_file()
    assert (out / "settings.png").is_file() and (out / "best.png").is_file()
    best = json.loads((out / "search.json").read_text(encoding="utf-8"))["best"]
    assert best["trial"] == int(rows[0]["trial"]) and 0 < best["test_acc"] <= 1
    assert f"{best['test_acc']:.4f}" in result.stdout  # reported once, as the test accuracy
    assert result.stdout.count("trial ") >= 6  # a line a trial


def test_evaluate_and_plot_work_on_a_trial(local_table):
    out, _ = local_table
    trial = out / f"trial-{int(results(out)[0]['trial']):03d}"
    evaluated = dvzero("evaluate", str(trial))
    assert evaluated.returncode == 0, evaluated.stderr
    plotted = dvzero("plot", str(trial), "--force")
    assert plotted.returncode == 0, plotted.stderr


def test_a_real_cluster_gives_the_same_table(cluster, local_table, small_mnist_dir, tmp_path):
    out = tmp_path / "search"
    result = dvzero(*search_args(small_mnist_dir, out, "--scheduler", cluster.address))
    assert result.returncode == 0, result.stderr
    assert results(out) == results(local_table[0])


def test_a_worker_killed_mid_search_changes_nothing(cluster, local_table, small_mnist_dir,
                                                     tmp_path):
    out = tmp_path / "search"
    process = subprocess.Popen([sys.executable, "-m", "dvzero.cli",
                                *search_args(small_mnist_dir, out, "--scheduler",
                                             cluster.address)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "results.csv").exists():  # one trial back: the others under way
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        victim = cluster.workers.pop(0)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=20)
        _, stderr = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert results(out) == results(local_table[0])
    cluster.workers.append(Cluster._start("worker", cluster.address, "--nthreads", "1",
                                          "--no-nanny", "--no-dashboard"))
    cluster.wait_for(2)


def test_ctrl_c_keeps_the_finished_trials_and_resume_runs_the_rest(local_table,
                                                                    small_mnist_dir, tmp_path):
    out = tmp_path / "search"
    process = subprocess.Popen([sys.executable, "-m", "dvzero.cli",
                                *search_args(small_mnist_dir, out, "--workers", "1")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "results.csv").exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    kept = results(out)
    assert 1 <= len(kept) < 6 and "--resume" in stderr
    resumed = dvzero("search", "--resume", str(out), "--workers", "1", "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.count("trial ") >= 6 - len(kept)
    assert results(out) == results(local_table[0])


def test_an_unreachable_scheduler_is_one_line_and_no_hang(small_mnist_dir, tmp_path):
    start = time.monotonic()
    result = dvzero(*search_args(small_mnist_dir, tmp_path / "s", "--scheduler",
                                 "tcp://127.0.0.1:9"), timeout=60)
    assert result.returncode == 1 and time.monotonic() - start < 45
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "tcp://127.0.0.1:9" in lines[0] and "dask scheduler" in lines[0]


@pytest.mark.parametrize(("given", "named"), [
    (("--lr", "1:0.1"), "--lr"),
    (("--lr=-1:1",), "--lr"),
    (("--lr", "0:1"), "--lr"),
    (("--trials", "0"), "--trials"),
])
def test_bad_input_is_refused_before_any_trial(given, named, small_mnist_dir, tmp_path):
    out = tmp_path / "search"
    result = dvzero("search", "--data-dir", str(small_mnist_dir), "--out", str(out),
                    "--trials", "2", *SMALL, *given)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0]
    assert not out.exists()


@pytest.mark.parametrize(("text", "named"), [
    ("[space]\nlerning_rate = {low = 0.01, high = 0.1}\n", "lerning_rate"),
    ("[space\nlr = 1\n", "space.toml"),
])
def test_a_bad_space_file_is_refused_before_any_trial(text, named, small_mnist_dir, tmp_path):
    space = tmp_path / "space.toml"
    space.write_text(text, encoding="utf-8")
    out = tmp_path / "search"
    result = dvzero("search", "--data-dir", str(small_mnist_dir), "--out", str(out),
                    "--space", str(space), "--trials", "2", *SMALL)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0]
    assert not out.exists()


def test_the_search_experiment_is_a_preset_of_dvzero_search(small_mnist_dir, tmp_path):
    out = tmp_path / "experiment"
    result = dvzero("experiment", "search", "--data-dir", str(small_mnist_dir), "--out",
                    str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    rows = results(out)
    assert len(rows) == 20 and list(rows[0])[:3] == ["trial", "lr", "weight_decay"]
    accuracies = [float(row["val_acc"]) for row in rows if row["status"] == "finished"]
    assert accuracies == sorted(accuracies, reverse=True)
    assert (out / "settings.png").is_file() and "test accuracy, measured once" in result.stdout


def test_the_other_commands_do_not_import_dask(small_mnist_dir, tmp_path):
    code = ("import sys\n"
            "from dvzero.cli import main\n"
            "for argv in (['evaluate', sys.argv[1]], ['search', '--help']):\n"
            "    try:\n"
            "        main(argv)\n"
            "    except SystemExit:\n"
            "        pass\n"
            "print(sorted(name for name in sys.modules if name.split('.')[0] in "
            "('dask', 'distributed')))\n")
    run = tmp_path / "run"
    trained = dvzero("train", "--data-dir", str(small_mnist_dir), "--out", str(run), *SMALL)
    assert trained.returncode == 0, trained.stderr
    result = subprocess.run([sys.executable, "-c", code, str(run)], capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


def test_a_trial_that_fails_by_itself_is_recorded_and_the_search_goes_on(small_mnist_dir,
                                                                          tmp_path):
    out = tmp_path / "search"
    result = dvzero("search", "--data-dir", str(small_mnist_dir), "--out", str(out), "--seed",
                    "3", "--trials", "6", "--lr", "0.01:300", "--net", "mlp", "--optimizer",
                    "sgd", *SMALL, "--workers", "1")
    assert result.returncode == 0, result.stderr
    rows = results(out)
    failed = [row for row in rows if row["status"] == "failed"]
    assert failed and len(failed) < len(rows) == 6
    assert all("diverged" in row["reason"] and "\n" not in row["reason"] for row in failed)
    assert rows[-len(failed):] == failed  # ranked last
    assert all(not (out / f"trial-{int(row['trial']):03d}").exists() for row in failed)
    assert f"trial {failed[0]['trial']}: failed" in result.stdout


def test_a_grid_search_tries_every_combination(small_mnist_dir, tmp_path):
    out = tmp_path / "search"
    result = dvzero("search", "--data-dir", str(small_mnist_dir), "--out", str(out), "--grid",
                    "--lr", "0.01:0.1:3", "--batch-size", "10:30:2", "--net", "mlp",
                    "--steps", "30", "--hidden", "16", "--no-progress", "--workers", "2")
    assert result.returncode == 0, result.stderr
    pairs = {(row["lr"], row["batch_size"]) for row in results(out)}
    assert pairs == {(lr, size) for lr in ("0.01", "0.03162", "0.1") for size in ("10", "30")}
