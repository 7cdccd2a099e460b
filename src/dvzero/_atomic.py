"""Atomic file writing: write beside the target, flush to disk, then rename over it.

A reader (or a crash) sees either the old file or the complete new one, never a half-written
file, because :func:`os.replace` is atomic on POSIX and Windows within one directory.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ._i18n import _


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success rename it to ``path``.

    If the block raises, the temporary file is removed and ``path`` is left untouched.
    """
    if mode not in ("w", "wb", "wt"):
        raise ValueError(f"atomic_write supports modes 'w', 'wt' and 'wb', got {mode!r}")
    target = Path(path)
    directory = target.parent
    fd, tmp_name = _create_beside(directory, target.name)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename in (None, tmp_name):
            # a full disk fails a write() with no file name: name the file being written
            raise OSError(exc.errno, exc.strerror, str(target)) from exc
        raise
    _fsync_directory(directory)


def _create_beside(directory: Path, name: str) -> tuple[int, str]:
    """A new, uniquely named temporary file in ``directory``: ``(fd, path)``.

    Created with mode 0666 so that the umask applies, as for a plain ``open()``
    (``tempfile.mkstemp`` would make every written file private to its owner).
    """
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0)
    for _attempt in range(100):
        tmp_name = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
        with contextlib.suppress(FileExistsError):
            return os.open(tmp_name, flags, 0o666), tmp_name
    raise FileExistsError(_("cannot create a temporary file beside {name} in {directory}")
                          .format(name=name, directory=directory))


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not every platform lets a directory be opened.
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
