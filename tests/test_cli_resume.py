"""Nothing lost: interruption, exact resume, killed writers and diverging runs, end to end.

Real ``dvzero train`` processes are interrupted with SIGINT or SIGTERM (or killed outright
with SIGKILL) at a random step; resuming must give exactly — bit for bit — the parameters
and metrics of the same run left alone.
"""

from __future__ import annotations

import json
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
from dvzero.storage import load_checkpoint
from dvzero.storage.records import read_metrics_csv

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
    finished = False
    for _ in range(interruptions):
        delay = delays.uniform(0.0, 0.6)
        code, out, err = interrupt(argv, signum, delay)
        if stopped_steps and (code == 0 or (run / "summary.json").exists()):
            # The resumed run finished before the second signal, or the signal came while it
            # saved its files (it completes them first) or as the interpreter shut down.
            finished = True
            break
        assert code == {signal.SIGINT: 130, signal.SIGTERM: 143}[signum], err
        assert "Traceback" not in err
        match = STOPPED.search(err)
        assert match, err
        assert match.group(1) == signal.Signals(signum).name
        stopped_steps.append(int(match.group(2)))
        assert f"; resume with 'dvzero train --resume {run}'" in err
        # every line in the command's name, the first as the signal is heard
        assert all(line.startswith("dvzero train: ") for line in err.splitlines() if line), err
        again = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
        assert (f"dvzero train: {match.group(1)}: stopping after the step in progress "
                f"({again} again to quit at once)") in err.splitlines()
        # What was saved matches the step it says it stopped after.
        _, state, _ = load_checkpoint(run / "checkpoint.npz")
        assert state["next_step"] == stopped_steps[-1] + 1
        assert len(read_metrics_csv(run / "metrics.csv")["train_loss_list"]) == state["next_step"]
        assert not (run / "summary.json").exists()
        argv = ["train", "--resume", str(run), "--no-progress"]
    assert stopped_steps, "the first signal must interrupt training"
    assert stopped_steps == sorted(stopped_steps)
    if not finished:
        assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert_same_run(run, reference)


def test_sigkill_leaves_only_whole_files_and_the_run_resumes(small_mnist_dir, tmp_path,
                                                              reference):
    run = tmp_path / "run"
    # Two threads on any machine: each evaluation is announced, and a checkpoint saved,
    # an epoch later, just before the next evaluation (after steps 399, 499, ...).
    process = start(train_argv(small_mnist_dir, run, "--threads", "2"))
    for line in process.stdout:
        if line.startswith("300  train acc"):
            break
    time.sleep(random.uniform(0.0, 0.2))
    process.kill()
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    # Whatever the moment, each file is whole: the checkpoint loads and checks out.
    params, state, meta = load_checkpoint(run / "checkpoint.npz")
    assert state["next_step"] % 100 == 0 and state["next_step"] >= 400
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
    assert (f"The last good checkpoint is kept; continue from the starting checkpoint with "
            f"'dvzero train --resume {run} --lr 0.1'") in lines[0]
    step = int(re.search(r"at step (\d+)", lines[0]).group(1))
    _, state, _ = load_checkpoint(run / "checkpoint.npz")
    # Step 0 already blew up (loss ~14), so its epoch checkpoint was not written over the
    # starting one: the run can restart from its initial weights.
    assert state["next_step"] == 0 and step >= 9
    assert not (run / "params.npz").exists() and not (run / "summary.json").exists()
    assert len(read_metrics_csv(run / "metrics.csv")["train_loss_list"]) == step + 1

    # The way out the message offers: continue from the kept checkpoint with a lower rate.
    assert main(["train", "--resume", str(run), "--lr", "0.1", "--no-progress"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["config"]["lr"] == 0.1
    assert summary["config"]["lr_changes"] == [{"step": 0, "lr": 0.1}]
    assert summary["resumes"] == 1 and summary["test_acc"] > 0.5


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
    one_line_error(["train", "--resume", str(reference), "--lr", "0.5", "--steps", "3",
                    "--seed", "2"], capsys, "leave out --steps, --seed (only --lr may change")


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
    assert "the data files differ from those the run was trained on" in err


def test_out_never_overwrites_the_users_files(small_mnist_dir, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "metrics.csv").write_text("my own numbers\n")
    one_line_error(train_argv(small_mnist_dir, out), capsys, "would overwrite metrics.csv")
    assert (out / "metrics.csv").read_text() == "my own numbers\n"
    assert sorted(p.name for p in out.iterdir()) == ["metrics.csv"]


def test_a_data_error_leaves_no_empty_run_directory(small_mnist_dir, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in small_mnist_dir.iterdir():
        if not path.name.startswith("t10k-labels"):
            (broken / path.name).write_bytes(path.read_bytes())
    out = tmp_path / "run"
    assert main(train_argv(broken, out)) == 1
    assert "t10k-labels-idx1-ubyte" in capsys.readouterr().err
    assert not out.exists()


def test_data_without_test_images_is_one_line(tmp_path, mnist_raw, capsys):
    from helpers import write_mnist_dir

    x_train, t_train, x_test, t_test = mnist_raw
    data = write_mnist_dir(tmp_path / "data", x_train[:50], t_train[:50], x_test[:0], t_test[:0])
    code = main(train_argv(data, tmp_path / "run"))
    err = capsys.readouterr().err
    assert code == 1 and len(err.splitlines()) == 1
    assert "50 training and 0 test images" in err


def test_evaluate_a_network_with_too_few_outputs(small_mnist_dir, tmp_path, capsys):
    from dvzero import DeepVisionZeroNet

    DeepVisionZeroNet(784, 5, 3, rng=0).save_params(tmp_path / "three.npz")
    code = main(["evaluate", str(tmp_path / "three.npz"), "--data-dir", str(small_mnist_dir)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1
    assert "3 outputs but the test labels go up to 9" in err


@pytest.mark.parametrize("seed", ["2", "6", "7"])
def test_no_false_divergence_with_tiny_batches_and_large_weights(small_mnist_dir, tmp_path,
                                                                 seed, capsys):
    """One lucky batch used to set the bar: a healthy run was stopped as 'diverged'."""
    argv = train_argv(small_mnist_dir, tmp_path / "run", "--weight-init-std", "1")
    for option, value in (("--steps", "200"), ("--batch-size", "1"), ("--seed", seed)):
        argv[argv.index(option) + 1] = value
    assert main(argv) == 0, capsys.readouterr().err


def test_slow_runs_also_checkpoint_on_a_timer(small_mnist_dir, tmp_path, monkeypatch):
    """Numerical gradients take hours an epoch: checkpoints come every minute as well."""
    import dvzero.runs.run as cli  # where the life of a run is
    from dvzero import storage

    saved_steps = []
    real_save = storage.save_checkpoint

    def spy(path, params, state, meta):
        saved_steps.append(state["next_step"])
        real_save(path, params, state, meta)

    monkeypatch.setattr(storage, "save_checkpoint", spy)
    every_minute = cli.checkpoint_callback
    monkeypatch.setattr(cli, "checkpoint_callback",
                        lambda save, every_seconds=60.0: every_minute(save, every_seconds=0.0))
    argv = train_argv(small_mnist_dir, tmp_path / "run", "--gradient", "numerical",
                      "--hidden", "1")
    argv[argv.index("--steps") + 1] = "3"
    assert main(argv) == 0
    assert saved_steps[0] == 0  # the starting point
    assert set(saved_steps) >= {1, 2, 3}  # step 0's epoch checkpoint, then the timer


def test_a_stop_while_the_loss_explodes_keeps_the_good_checkpoint(small_mnist_dir, tmp_path,
                                                                   monkeypatch, capsys):
    """Ctrl-C as the loss blows up (before the divergence check fires) must not save it."""
    import dvzero.runs.run as cli  # where the life of a run is

    make = cli.checkpoint_callback

    def with_ctrl_c_at_step_3(save, every_seconds=60.0):
        callback = make(save, every_seconds)
        on_step_end = callback.on_step_end

        def step_end(step, loss):
            on_step_end(step, loss)
            if step == 3:
                os.kill(os.getpid(), signal.SIGINT)

        callback.on_step_end = step_end
        return callback

    monkeypatch.setattr(cli, "checkpoint_callback", with_ctrl_c_at_step_3)
    run = tmp_path / "run"
    # One thread: each step's loss measured and announced at its own step, so that the
    # signal comes before the divergence check of step 9 (beside the training, the losses
    # of a group are announced together, checks included, and the run diverges).
    assert main(train_argv(small_mnist_dir, run, "--lr", "1e6", "--threads", "1")) == 130
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        f"dvzero train: stopped by SIGINT after step 3 of 4000, with the loss exploding; the "
        f"last good checkpoint is kept in {run / 'checkpoint.npz'}; resume from it with a lower "
        f"learning rate: 'dvzero train --resume {run} --lr 0.1'")
    _, state, _ = load_checkpoint(run / "checkpoint.npz")
    assert state["next_step"] == 0  # still the starting point


def test_resume_removes_only_its_own_leftovers(small_mnist_dir, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(train_argv(small_mnist_dir, run, "--lr", "1e6")) == 1
    (run / ".notes.tmp").write_text("the user's own file")
    (run / ".checkpoint.npz.0a1b2c3d.tmp").write_bytes(b"half a checkpoint")
    assert main(["train", "--resume", str(run), "--lr", "0.1", "--no-progress"]) == 0
    assert (run / ".notes.tmp").read_text() == "the user's own file"
    assert not (run / ".checkpoint.npz.0a1b2c3d.tmp").exists()


@pytest.mark.parametrize(
    "key, value",
    [("steps", "10"), ("lr", -1.0), ("dtype", "object"), ("seed", 1.5), ("data_dir", 3)],
)
def test_edited_checkpoint_settings_are_refused(small_mnist_dir, tmp_path, capsys, key, value):
    from dvzero.storage import save_checkpoint

    run = tmp_path / "run"
    assert main(train_argv(small_mnist_dir, run, "--lr", "1e6")) == 1
    params, state, meta = load_checkpoint(run / "checkpoint.npz")
    meta["run"][key] = value
    save_checkpoint(run / "checkpoint.npz", params, state, meta)
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and f"setting {key}={value!r} is not valid" in err


def test_a_run_too_short_for_the_window_still_reports_divergence(small_mnist_dir, tmp_path,
                                                                 capsys):
    argv = train_argv(small_mnist_dir, tmp_path / "run", "--lr", "1e6")
    argv[argv.index("--steps") + 1] = "5"
    assert main(argv) == 1
    assert "training diverged at step 4" in capsys.readouterr().err
    assert not (tmp_path / "run" / "params.npz").exists()


def test_a_failed_start_removes_every_directory_it_made(tmp_path, capsys):
    empty = tmp_path / "empty-data"
    empty.mkdir()
    out = tmp_path / "a" / "b" / "c"
    assert main(["train", "--data-dir", str(empty), "--out", str(out)]) == 1
    assert "missing" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_empty_paths_are_refused(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--out", ""])
    assert info.value.code == 2
    assert "argument --out: expected a path, got an empty string" in capsys.readouterr().err


def test_sigterm_before_training_starts_leaves_nothing_behind(small_mnist_dir, tmp_path,
                                                              monkeypatch, capsys):
    import dvzero.runs.run as cli  # where the life of a run is

    load = cli.load_run_data

    def terminated_while_loading(config):
        os.kill(os.getpid(), signal.SIGTERM)
        return load(config)

    monkeypatch.setattr(cli, "load_run_data", terminated_while_loading)
    out = tmp_path / "run"
    assert main(train_argv(small_mnist_dir, out)) == 143
    assert capsys.readouterr().err.strip() == "dvzero train: terminated"
    assert not out.exists()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # restored for the caller
