"""One process at a time in a run directory.

A run being trained holds an exclusive lock (:func:`fcntl.flock`) on ``.dvzero.lock`` in its
directory, with the process's id written inside. A second ``dvzero train --resume DIR`` or
``--out DIR`` finds it held and refuses at once, naming that process. The operating system
drops the lock when the process ends, however it ends, so a lock file left behind by a
crash or a ``kill -9`` blocks nothing. Without ``fcntl`` (Windows) there is no lock.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .._i18n import _
from ..errors import UsageError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".dvzero.lock"


def _holder(path: Path) -> str:
    with contextlib.suppress(OSError, ValueError):
        return _("process {pid}").format(pid=int(path.read_text(encoding="ascii").strip()))
    return _("another process")


class RunLock:
    """The lock of one run directory, held from :meth:`acquire` to :meth:`release` (or the
    end of the process)."""

    def __init__(self, path: Path, handle) -> None:
        self.path, self._handle = path, handle

    @classmethod
    def acquire(cls, run_dir: Path, notes: list[str] | None = None) -> RunLock | None:
        """Lock ``run_dir`` for this process; :class:`~dvzero.errors.UsageError` naming the
        holder if another process has it. ``None`` where locks do not exist (on a file
        system without them, a warning for the user joins ``notes``)."""
        if fcntl is None:
            return None
        path = Path(run_dir) / LOCK_NAME
        while True:
            handle = open(path, "a+", encoding="ascii")  # noqa: SIM115 - held open
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise UsageError(_("{run_dir}: {holder} is training this run; wait for it to "
                                   "end, or stop it first")
                                 .format(run_dir=run_dir, holder=_holder(path))) from None
            except OSError as exc:  # a file system without locks (NFS nolock, some FUSE)
                handle.close()
                with contextlib.suppress(OSError):
                    path.unlink()
                if notes is not None:
                    notes.append(_("{run_dir}: cannot lock the run directory ({reason}); make "
                                   "sure no other dvzero trains this run at the same time")
                                 .format(run_dir=run_dir, reason=exc.strerror))
                return None
            # The file may have been removed by the holder releasing it while this process
            # opened it: a lock on a removed file locks nothing, so try again.
            with contextlib.suppress(FileNotFoundError):
                if os.path.samestat(os.fstat(handle.fileno()), os.stat(path)):
                    break
            handle.close()
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return cls(path, handle)

    def release(self) -> None:
        """Let go of the lock (and remove its file)."""
        if self._handle.closed:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._handle.close()


def check_unlocked(run_dir: Path) -> None:
    """Refuse ``run_dir`` if another process is training a run in it."""
    if fcntl is None or not (Path(run_dir) / LOCK_NAME).is_file():
        return
    lock = RunLock.acquire(run_dir)
    if lock is not None:
        lock.release()
