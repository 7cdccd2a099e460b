"""A reader for the IDX format of the MNIST files (plain or gzip-compressed).

An IDX file is a 4-byte magic number — two zero bytes, a type code, the number of
dimensions — then one big-endian uint32 per dimension, then the values, big-endian, in
C order. The reader checks every part of that and the exact size, and it never allocates
more than the header and the file's real content justify.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import IO

import numpy as np
from numpy.typing import NDArray

from .._i18n import _
from ..errors import IDXFormatError

#: IDX type codes and the big-endian NumPy dtypes they stand for.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def parse_idx(data: bytes, name: str = "<bytes>") -> NDArray:
    """Decode the bytes of a whole (uncompressed) IDX file into an array.

    Returns an array in native byte order with the shape the header declares.
    Raises :class:`~dvzero.errors.IDXFormatError` naming ``name`` for anything malformed.
    """
    dtype, shape, offset = _parse_header(data[: 4 + 4 * 255], name)
    expected = math.prod(shape) * dtype.itemsize
    actual = len(data) - offset
    if actual != expected:
        message = (_("{name}: IDX file is truncated: header declares shape {shape} "
                     "({expected} bytes of data), file has {actual} bytes after the header")
                   if actual < expected else
                   _("{name}: IDX file is longer than its header says: header declares shape "
                     "{shape} ({expected} bytes of data), file has {actual} bytes after the "
                     "header"))
        raise IDXFormatError(message.format(name=name, shape=shape, expected=expected,
                                            actual=actual))
    array = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=offset)
    try:
        array = array.reshape(shape)
    except ValueError as exc:  # an empty shape whose other sides are absurdly large
        raise IDXFormatError(_("{name}: IDX header declares an impossible shape {shape}")
                             .format(name=name, shape=shape)) from exc
    return array.astype(dtype.newbyteorder("="))


def _parse_header(head: bytes, name: str) -> tuple[np.dtype, tuple[int, ...], int]:
    if len(head) < 4:
        raise IDXFormatError(_("{name}: too short for an IDX file ({size} bytes)")
                             .format(name=name, size=len(head)))
    if head[0] != 0 or head[1] != 0:
        raise IDXFormatError(_("{name}: wrong magic number 0x{magic} (an IDX file starts with "
                               "two zero bytes); is this really an MNIST-style IDX file?")
                             .format(name=name, magic=head[:4].hex()))
    type_code, ndim = head[2], head[3]
    if type_code not in IDX_DTYPES:
        raise IDXFormatError(_("{name}: unknown IDX type code 0x{code:02x}")
                             .format(name=name, code=type_code))
    if ndim == 0:
        raise IDXFormatError(_("{name}: IDX header declares 0 dimensions").format(name=name))
    offset = 4 + 4 * ndim
    if len(head) < offset:
        raise IDXFormatError(_("{name}: truncated IDX header ({ndim} dimensions declared)")
                             .format(name=name, ndim=ndim))
    shape = tuple(int(d) for d in np.frombuffer(head, dtype=">u4", count=ndim, offset=4))
    return IDX_DTYPES[type_code], shape, offset


def read_idx(path: str | os.PathLike[str]) -> NDArray:
    """Read an IDX file, gzip-compressed or not (told apart by content, not by name).

    Raises ``FileNotFoundError`` if ``path`` does not exist and
    :class:`~dvzero.errors.IDXFormatError` if it is not a valid IDX file.
    """
    return parse_idx(read_idx_bytes(path), str(path))


def read_idx_bytes(path: str | os.PathLike[str]) -> bytes:
    """The uncompressed bytes of an IDX file (gunzipped if needed), size-checked.

    For gzip files the header is read first and no more than it declares is decompressed,
    in chunks, so a small file cannot make the reader allocate without bound.
    """
    path = Path(path)
    if not _is_gzip(path):
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as stream:
            head = _read_head(stream)
            dtype, shape, _offset = _parse_header(head, str(path))
            chunks = [head]
            remaining = math.prod(shape) * dtype.itemsize
            while remaining > 0:
                chunk = stream.read(min(remaining, _CHUNK))
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
            trailing = stream.read(1)
    except (OSError, EOFError, zlib.error) as exc:
        raise IDXFormatError(_("{path}: corrupt or truncated gzip data ({reason})")
                             .format(path=path, reason=exc)) from exc
    if trailing:
        raise IDXFormatError(_("{path}: IDX file is longer than its header says (shape {shape}); "
                               "the file may be corrupt").format(path=path, shape=shape))
    return b"".join(chunks)


def read_idx_header(path: Path) -> tuple[np.dtype, tuple[int, ...]]:
    """Dtype (in native byte order) and shape from an IDX file's header, reading only the
    first bytes."""
    opener = gzip.open if _is_gzip(path) else open
    try:
        with opener(path, "rb") as stream:
            head = _read_head(stream)
    except (OSError, EOFError, zlib.error) as exc:
        raise IDXFormatError(_("{path}: corrupt or truncated gzip data ({reason})")
                             .format(path=path, reason=exc)) from exc
    dtype, shape, _offset = _parse_header(head, str(path))
    return dtype.newbyteorder("="), shape


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as raw:
        return raw.read(2) == GZIP_MAGIC


def _read_head(stream: IO[bytes]) -> bytes:
    """The magic number and as many dimensions as it declares."""
    head = stream.read(4)
    if len(head) == 4:
        head += stream.read(4 * head[3])
    return head
