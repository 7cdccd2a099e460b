"""Faults while a run writes its directory: a full disk (ENOSPC) or a permission taken away
mid-run. The message names the file and the checkpoint kept; --resume then finishes."""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path

import pytest

from dvzero import _atomic
from dvzero.cli import main


def train_argv(data_dir: Path, out: Path) -> list[str]:
    # 2,000 training images in batches of 100: an epoch (and a checkpoint) every 20 steps.
    # Two threads on any machine: the evaluations run beside the training and are
    # announced (and checkpointed) an epoch later, just before the next: after steps 19
    # and 39, and at the end.
    return ["train", "--data-dir", str(data_dir), "--steps", "50", "--seed", "1",
            "--out", str(out), "--no-progress", "--threads", "2"]


class FailingDisk:
    """``os.fsync`` that fails like a full disk for files whose name contains ``name``,
    from the ``after``-th such write on, until ``freed``."""

    def __init__(self, name: str, after: int = 1, error: int = errno.ENOSPC) -> None:
        self.name, self.after, self.error = name, after, error
        self.writes, self.freed = 0, False
        self.real = os.fsync

    def __call__(self, fd: int) -> None:
        try:
            path = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            path = ""
        if self.name in os.path.basename(path) and not self.freed:
            self.writes += 1
            if self.writes >= self.after:
                raise OSError(self.error, os.strerror(self.error))
        self.real(fd)


pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"),
                                reason="needs /proc/self/fd to tell which file is written")


@pytest.mark.parametrize("name, after, done", [
    # checkpoints: at the start, then as the evaluations of steps 0, 20 and 40 are announced
    ("checkpoint.npz", 4, 40),  # the fourth fails: the one after step 39 is kept
    ("loss.png", 1, 50),  # at the very end: the run trained, its files are not all there
])
def test_a_full_disk_names_the_file_and_the_checkpoint_kept(tmp_path, small_mnist_dir,
                                                            monkeypatch, capsys, name,
                                                            after, done):
    out = tmp_path / "run"
    disk = FailingDisk(name, after)
    monkeypatch.setattr(_atomic.os, "fsync", disk)
    assert main(train_argv(small_mnist_dir, out)) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err  # one line
    assert re.fullmatch(
        rf"dvzero train: error: could not write {re.escape(str(out / name))}: No space left "
        rf"on device; the last checkpoint \({done} of 50 steps done\) is kept in "
        rf"{re.escape(str(out / 'checkpoint.npz'))}; once the cause is fixed \(free space, "
        rf"give write permission back\), finish the run with 'dvzero train --resume "
        rf"{re.escape(str(out))}'", err), err
    assert not list(out.glob(".*.tmp"))  # no half-written file left behind
    disk.freed = True  # space freed: the run finishes
    assert main(["train", "--resume", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["steps"] == 50 and not (out / "checkpoint.npz").exists()


def test_a_permission_taken_away_mid_run_says_so(tmp_path, small_mnist_dir, monkeypatch,
                                                 capsys):
    out = tmp_path / "run"
    monkeypatch.setattr(_atomic.os, "fsync", FailingDisk("metrics.csv", 1, errno.EACCES))
    assert main(train_argv(small_mnist_dir, out)) == 1
    err = capsys.readouterr().err
    assert f"could not write {out / 'metrics.csv'}: Permission denied" in err
    assert "(50 of 50 steps done)" in err and "--resume" in err


def test_without_a_checkpoint_the_message_says_the_run_starts_again(tmp_path,
                                                                    small_mnist_dir,
                                                                    monkeypatch, capsys):
    out = tmp_path / "run"
    monkeypatch.setattr(_atomic.os, "fsync", FailingDisk("checkpoint.npz", 1))
    assert main(train_argv(small_mnist_dir, out)) == 1
    err = capsys.readouterr().err
    assert f"could not write {out / 'checkpoint.npz'}: No space left on device; no " \
           f"checkpoint could be kept, so the run must start again" in err
