"""The run directory on disk: made or refused before any work, nothing ever overwritten."""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Sequence
from pathlib import Path

from .._i18n import _
from ..errors import UsageError
from .files import CHECKPOINT_NAME, RUN_FILES


def check_data_dir(data_dir: Path | None) -> None:
    """Refuse a ``--data-dir`` that is missing, not a directory, or not readable."""
    if data_dir is None:
        return
    if not data_dir.exists():
        raise UsageError(_("--data-dir {path}: no such directory").format(path=data_dir))
    if not data_dir.is_dir():
        raise UsageError(_("--data-dir {path}: not a directory").format(path=data_dir))
    if not os.access(data_dir, os.R_OK | os.X_OK):
        raise UsageError(_("--data-dir {path}: permission denied").format(path=data_dir))


def prepare_run_dir(out: Path | None, files: Sequence[str] = RUN_FILES,
                    suffix: str = "") -> tuple[Path, Path | None]:
    """Check (and create) the run directory ``out`` before any long work; ``None`` means
    ``runs/<timestamp><suffix>``. A directory that holds a finished or interrupted run, or
    any of the ``files`` the run writes, is refused with :class:`~dvzero.errors.UsageError`.

    Returns ``(run_dir, created)``: ``created`` is the topmost directory that did not exist
    before (``None`` if ``run_dir`` did), so that a run failing before it writes anything
    can remove what it made.
    """
    if out is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("runs") / f"{stamp}{suffix}"
        number = 1
        while out.exists():
            number += 1
            out = Path("runs") / f"{stamp}-{number}{suffix}"
    if out.exists() and not out.is_dir():
        raise UsageError(_("--out {path}: a file, not a directory; give a directory for the "
                           "run: a new one, or one that holds no run").format(path=out))
    if (out / "summary.json").exists():
        raise UsageError(_("--out {path}: already holds a finished run; choose another "
                           "directory so that nothing is overwritten").format(path=out))
    if (out / CHECKPOINT_NAME).exists():
        raise UsageError(_("--out {path}: holds an interrupted run; continue it with "
                           "'dvzero train --resume {path}' or choose another directory")
                         .format(path=out))
    existing = [name for name in files if (out / name).exists()]
    if existing:
        raise UsageError(_("--out {path}: would overwrite {files}; choose another directory")
                         .format(path=out, files=", ".join(existing)))
    created = out
    while not created.parent.exists():
        created = created.parent  # the topmost directory this run creates
    if created.exists():
        created = None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(_("--out {path}: cannot create the directory ({reason})")
                         .format(path=out, reason=exc.strerror)) from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(_("--out {path}: directory is not writable").format(path=out))
    return out, created


def remove_if_empty(run_dir: Path, created: Path | None) -> None:
    """Remove ``run_dir`` and its parents up to ``created``, as long as they are empty."""
    if created is None:
        return
    directory = run_dir
    while True:
        try:
            directory.rmdir()  # only succeeds on an empty directory
        except OSError:
            return
        if directory == created or directory.parent == directory:
            return
        directory = directory.parent


def check_resumable(run_dir: Path) -> Path:
    """The checkpoint of an interrupted run in ``run_dir``; refuses anything else."""
    if not run_dir.is_dir():
        raise UsageError(_("--resume {path}: no such run directory").format(path=run_dir))
    if (run_dir / "summary.json").is_file():
        raise UsageError(_("--resume {path}: this run has finished; nothing to resume")
                         .format(path=run_dir))
    checkpoint = run_dir / CHECKPOINT_NAME
    if not checkpoint.is_file():
        raise UsageError(_("--resume {path}: no {checkpoint} in this directory")
                         .format(path=run_dir, checkpoint=CHECKPOINT_NAME))
    if not os.access(run_dir, os.W_OK | os.X_OK):
        raise UsageError(_("--resume {path}: directory is not writable").format(path=run_dir))
    return checkpoint


def remove_leftovers(run_dir: Path) -> None:
    """Remove the temporary files of writes that a killed process left behind (only
    dvzero's own: ``.<name>.<8 hex digits>.tmp``); the real files are whole. Only with the
    directory's lock held: another process's writes in progress look the same."""
    for name in (*RUN_FILES, CHECKPOINT_NAME):
        for leftover in run_dir.glob(f".{name}.*.tmp"):
            if re.fullmatch(rf"\.{re.escape(name)}\.[0-9a-f]{{8}}\.tmp", leftover.name):
                leftover.unlink(missing_ok=True)
