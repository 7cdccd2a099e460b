"""Nothing lost: interruption, exact resume, killed writers and diverging runs, end to end.

Real ``dvzero train`` processes are interrupted with SIGINT or SIGTERM (or killed outright
with SIGKILL) at a random step; resuming must give exactly — bit for bit — the parameters
and metrics of the same run left alone.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dvzero.cli import main
from dvzero.storage import load_checkpoint, read_metrics_csv

# 2,000 training images in batches of 20: 100 steps an epoch, a checkpoint every 100 steps.
STEPS, BATCH_SIZE, SEED = 4000, 20, 11
STOPPED = re.compile(r"stopped by (SIG\w+) after step (\d+) of (\d+)")


def train_argv(data_dir: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--data-dir", str(data_dir), "--steps", str(STEPS), "--batch-size",
            str(BATCH_SIZE), "--seed", str(SEED), "--out", str(out), "--no-progress", *extra]


def start(argv: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "dvzero.cli", *argv], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def interrupt(argv: list[str], signum: int, delay: float) -> tuple[int, str, str]:
    """Start ``dvzero`` and send ``signum`` ``delay`` seconds after its first epoch line."""
    process = start(argv)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "train acc, test acc" in line:
            break
    time.sleep(delay)
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    return process.returncode, "".join(lines) + out, err


def read_params(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files if key != "__dvzero__"}


@pytest.fixture(scope="module")
def reference(small_mnist_dir, tmp_path_factory):
    """The same run, never interrupted."""
    out = tmp_path_factory.mktemp("reference") / "run"
    assert main(train_argv(small_mnist_dir, out)) == 0
    return out


def assert_same_run(run: Path, reference: Path) -> None:
    ours, theirs = read_params(run / "params.npz"), read_params(reference / "params.npz")
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert ours[key].dtype == theirs[key].dtype
        assert ours[key].tobytes() == theirs[key].tobytes(), key
    assert (run / "metrics.csv").read_bytes() == (reference / "metrics.csv").read_bytes()
    assert not (run / "checkpoint.npz").exists()  # a finished run needs no checkpoint


@pytest.mark.parametrize("interruptions", [1, 2])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_then_resume_is_bit_identical(small_mnist_dir, tmp_path, reference,
                                                signum, interruptions):
    delays = random.Random(f"{signum}-{interruptions}-{time.time_ns()}")
    run = tmp_path / "run"
    argv = train_argv(small_mnist_dir, run)
    stopped_steps = []
    for _ in range(interruptions):
        delay = delays.uniform(0.0, 0.6)
        code, out, err = interrupt(argv, signum, delay)
        if code == 0 and stopped_steps:  # the resumed run finished before the second signal
            break
        assert code == {signal.SIGINT: 130, signal.SIGTERM: 143}[signum], err
        assert "Traceback" not in err
        match = STOPPED.search(err)
        assert match, err
        assert match.group(1) == signal.Signals(signum).name
        stopped_steps.append(int(match.group(2)))
        assert f"Resume with: dvzero train --resume {run}" in err
        # What was saved matches the step it says it stopped after.
        _, state, _ = load_checkpoint(run / "checkpoint.npz")
        assert state["next_step"] == stopped_steps[-1] + 1
        assert len(read_metrics_csv(run / "metrics.csv")["train_loss_list"]) == state["next_step"]
        assert not (run / "summary.json").exists()
        argv = ["train", "--resume", str(run), "--no-progress"]
    assert stopped_steps == sorted(stopped_steps)
    if stopped_steps:
        assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert_same_run(run, reference)


def test_sigkill_leaves_only_whole_files_and_the_run_resumes(small_mnist_dir, tmp_path,
                                                              reference):
    run = tmp_path / "run"
    process = start(train_argv(small_mnist_dir, run))
    for line in process.stdout:
        if line.startswith("300  train acc"):
            break
    time.sleep(random.uniform(0.0, 0.2))
    process.kill()
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    # Whatever the moment, each file is whole: the checkpoint loads and checks out.
    params, state, meta = load_checkpoint(run / "checkpoint.npz")
    assert state["next_step"] % 100 == 1 and state["next_step"] >= 301
    assert set(params) == {"W1", "b1", "W2", "b2"}
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert_same_run(run, reference)
    assert not list(run.glob(".*.tmp"))


def test_lr_1e6_diverges_with_one_line_and_keeps_the_checkpoint(small_mnist_dir, tmp_path,
                                                                 capsys):
    run = tmp_path / "run"
    code = main(train_argv(small_mnist_dir, run, "--lr", "1e6"))
    out, err = capsys.readouterr()
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert re.match(r"dvzero train: error: training diverged at step \d+: ", lines[0])
    assert "Try a lower learning rate (--lr)" in lines[0]
    assert f"The last checkpoint before it is kept: {run / 'checkpoint.npz'}" in lines[0]
    step = int(re.search(r"at step (\d+)", lines[0]).group(1))
    _, state, _ = load_checkpoint(run / "checkpoint.npz")
    assert state["next_step"] == 1 <= step  # the epoch-0 checkpoint, from before the blow-up
    assert not (run / "params.npz").exists() and not (run / "summary.json").exists()
    assert len(read_metrics_csv(run / "metrics.csv")["train_loss_list"]) == step + 1


def test_the_real_command_with_lr_1e6(small_mnist_dir, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "dvzero.cli", *train_argv(small_mnist_dir, tmp_path / "run"),
         "--lr", "1e6"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    assert "training diverged at step" in result.stderr


def one_line_error(argv, capsys, *fragments):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("dvzero train: error: "), err
    for fragment in fragments:
        assert fragment in err
    return err


def test_resume_errors(small_mnist_dir, tmp_path, reference, capsys):
    one_line_error(["train", "--resume", str(tmp_path / "nowhere")], capsys, "no such run")
    one_line_error(["train", "--resume", str(reference)], capsys, "finished; nothing to resume")
    (tmp_path / "empty").mkdir()
    one_line_error(["train", "--resume", str(tmp_path / "empty")], capsys, "no checkpoint.npz")
    one_line_error(["train", "--resume", str(reference), "--lr", "0.5", "--steps", "3"], capsys,
                   "leave out --steps, --lr")


def test_interrupted_run_is_protected_and_bad_checkpoints_are_refused(small_mnist_dir,
                                                                       tmp_path, capsys):
    run = tmp_path / "run"
    assert main(train_argv(small_mnist_dir, run, "--lr", "1e6")) == 1  # leaves a checkpoint
    capsys.readouterr()
    # Starting a new run into it would overwrite the interrupted one.
    one_line_error(train_argv(small_mnist_dir, run), capsys, "interrupted run", "--resume")

    checkpoint = run / "checkpoint.npz"
    data = bytearray(checkpoint.read_bytes())
    data[len(data) // 2] ^= 0xFF
    checkpoint.write_bytes(bytes(data))
    code = main(["train", "--resume", str(run), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.splitlines()) == 1 and "checkpoint.npz" in err, err

    checkpoint.write_bytes(b"not a checkpoint")
    assert main(["train", "--resume", str(run), "--no-progress"]) == 1
    assert "checkpoint.npz" in capsys.readouterr().err


def test_resume_refuses_other_data(small_mnist_dir, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(train_argv(small_mnist_dir, run, "--lr", "1e6")) == 1
    capsys.readouterr()
    # Swap the data directory recorded in the checkpoint's run for the full MNIST.
    params, state, meta = load_checkpoint(run / "checkpoint.npz")
    from dvzero.storage import save_checkpoint

    meta["run"]["data_dir"] = None
    save_checkpoint(run / "checkpoint.npz", params, state, meta)
    assert main(["train", "--resume", str(run), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "trained on data of shape [2000, 500, 784]" in err and "[60000, 10000, 784]" in err
