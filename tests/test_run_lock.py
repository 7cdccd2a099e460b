"""One process at a time in a run directory: a second --resume or --out refuses at once,
naming the process; a lock left by a killed process blocks nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from dvzero.cli import main
from dvzero.errors import UsageError
from dvzero.runs.lock import LOCK_NAME, RunLock, check_unlocked

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no fcntl locks on Windows")


def test_a_held_lock_refuses_a_second_holder_and_names_it(tmp_path):
    lock = RunLock.acquire(tmp_path)
    assert (tmp_path / LOCK_NAME).read_text() == f"{os.getpid()}\n"
    with pytest.raises(UsageError, match=rf"process {os.getpid()} is training this run"):
        RunLock.acquire(tmp_path)
    with pytest.raises(UsageError):
        check_unlocked(tmp_path)
    lock.release()
    assert not (tmp_path / LOCK_NAME).exists()
    check_unlocked(tmp_path)
    RunLock.acquire(tmp_path).release()
    lock.release()  # twice is harmless


def start_training(argv: list[str]) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "dvzero.cli", *argv], text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in process.stdout:  # the data line comes once the run is under way
        if line.startswith("data:"):
            return process
    process.kill()
    raise AssertionError(f"training did not start: {process.stderr.read()}")


def test_two_trainings_of_one_directory_never_run_at_once(tmp_path, small_mnist_dir,
                                                          capsys):
    out = tmp_path / "run"
    long_run = ["train", "--data-dir", str(small_mnist_dir), "--steps", "1000000", "--seed",
                "1", "--out", str(out), "--no-progress"]
    first = start_training(long_run)
    try:
        time.sleep(0.5)  # past the first checkpoint: the directory holds a run
        assert main(["train", "--resume", str(out)]) == 2
        err = capsys.readouterr().err
        assert err == (f"dvzero train: error: {out}: process {first.pid} is training this "
                       f"run; wait for it to end, or stop it first\n")
        assert main(["train", "--data-dir", str(small_mnist_dir), "--steps", "5",
                     "--out", str(out)]) == 2
        assert f"process {first.pid} is training this run" in capsys.readouterr().err
    finally:
        first.send_signal(signal.SIGKILL)  # a crash: the lock file stays, the lock does not
        first.wait()
        first.stdout.close()
        first.stderr.close()
    assert (out / LOCK_NAME).read_text() == f"{first.pid}\n"
    assert (out / "checkpoint.npz").is_file()
    RunLock.acquire(out).release()  # the dead process's lock blocks nothing


def test_a_file_system_without_locks_trains_unlocked_with_a_warning(tmp_path, monkeypatch,
                                                                     small_mnist_dir,
                                                                     capsys):
    import errno

    from dvzero.runs import lock as lock_module

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(lock_module.fcntl, "flock", no_locks)
    out = tmp_path / "run"
    assert main(["train", "--data-dir", str(small_mnist_dir), "--steps", "3", "--seed", "1",
                 "--out", str(out), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert f"dvzero train: warning: {out}: cannot lock the run directory (No locks " \
           f"available); make sure no other dvzero trains this run at the same time" in err
    assert (out / "summary.json").is_file() and not (out / LOCK_NAME).exists()


def test_refusals_of_resume_come_before_the_lock(tmp_path, small_mnist_dir, capsys):
    finished = tmp_path / "done"
    assert main(["train", "--data-dir", str(small_mnist_dir), "--steps", "3", "--seed", "1",
                 "--out", str(finished), "--no-progress"]) == 0
    capsys.readouterr()
    finished.chmod(0o555)  # a finished run on storage this user cannot write
    try:
        assert main(["train", "--resume", str(finished)]) == 2
        assert "this run has finished; nothing to resume" in capsys.readouterr().err
        assert not (finished / LOCK_NAME).exists()
    finally:
        finished.chmod(0o755)


def test_a_closed_output_pipe_is_not_called_a_full_disk(tmp_path, small_mnist_dir,
                                                         monkeypatch, capsys):
    from dvzero.runs.run import Run

    def broken(self, *args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(Run, "_train", broken)
    assert main(["train", "--data-dir", str(small_mnist_dir), "--steps", "3",
                 "--out", str(tmp_path / "run"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "Broken pipe" in err and "could not write" not in err and "checkpoint" not in err
