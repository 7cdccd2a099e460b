"""Saving and loading parameters and run records.

Two parameter formats:

* ``.npz`` (the default of the command line): a NumPy archive read with
  ``allow_pickle=False``, so loading it can never run code. Beside the arrays it holds a
  JSON header (key ``__dvzero__``) with the format version, the network's class and
  constructor arguments, the dtype, the dvzero version and a SHA-256 of the arrays, so a
  file alone is enough to rebuild its network and to detect corruption.
* ``.pkl`` (the original post's ``save_params``): a pickled ``dict`` of NumPy arrays. Pickle can run
  arbitrary code, so it is read through :class:`RestrictedUnpickler`, which admits only
  what a dict of NumPy arrays needs and refuses everything else before it is executed.

Every file is written atomically (see :mod:`dvzero._atomic`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import pickle
import pickletools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._atomic import atomic_write
from ._version import __version__
from .errors import CheckpointError, ParamsFileError

HEADER_KEY = "__dvzero__"
FORMAT_NAME = "dvzero-params"
FORMAT_VERSION = 1


def params_sha256(params: Mapping[str, NDArray]) -> str:
    """SHA-256 over the parameter arrays: names, dtypes, shapes and bytes, in key order."""
    digest = hashlib.sha256()
    for key in sorted(params):
        array = np.ascontiguousarray(params[key])
        digest.update(f"{key}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _check_params_dict(params: Any, source: str) -> dict[str, NDArray]:
    if not isinstance(params, dict):
        raise ParamsFileError(f"{source}: expected a dict of arrays, found {type(params).__name__}")
    for key, value in params.items():
        if not isinstance(key, str):
            raise ParamsFileError(f"{source}: parameter names must be strings, found {key!r}")
        if not isinstance(value, np.ndarray):
            raise ParamsFileError(
                f"{source}: parameter {key!r} is a {type(value).__name__}, not a NumPy array"
            )
        if not _is_plain_dtype(value.dtype) or value.dtype.kind == "b":
            raise ParamsFileError(
                f"{source}: parameter {key!r} has dtype {value.dtype}; numeric arrays expected"
            )
    return params


# --------------------------------------------------------------------------- .npz


def _write_npz(
    path: str | os.PathLike[str],
    arrays: Mapping[str, NDArray],
    format_name: str,
    meta: Mapping[str, Any],
) -> None:
    """Write ``arrays`` and a JSON header (format, versions, ``meta``, SHA-256) atomically."""
    for key in arrays:
        if key == HEADER_KEY:
            raise ValueError(f"{HEADER_KEY!r} is reserved for the header")
    header = {
        "format": format_name,
        "format_version": FORMAT_VERSION,
        "dvzero_version": __version__,
        **meta,
        "sha256": params_sha256(arrays),
    }
    contents = {key: np.asarray(value) for key, value in arrays.items()}
    contents[HEADER_KEY] = np.array(json.dumps(header, sort_keys=True))
    with atomic_write(path, "wb") as handle:
        np.savez(handle, **contents)


def _read_npz(
    path: str | os.PathLike[str], format_name: str, error: type[Exception]
) -> tuple[dict[str, NDArray], dict[str, Any]]:
    """Read a ``.npz`` written by :func:`_write_npz`: ``(arrays, header)``, checksum checked.

    Never unpickles anything. A file without a header gives ``header == {}``.
    """
    try:
        # Opened here, not by np.load, so the file is closed even when the zip is broken.
        with open(path, "rb") as handle:
            if handle.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
                raise error(f"{path}: not a .npz file (no zip signature)")
            handle.seek(0)
            with np.load(handle, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise
    except error:
        raise
    except Exception as exc:  # a damaged zip raises anything from BadZipFile to RuntimeError
        raise error(f"{path}: not a readable .npz file ({type(exc).__name__}: {exc})") from exc
    for key, value in arrays.items():
        if not isinstance(value, np.ndarray):  # a zip member that is not a .npy file
            raise error(f"{path}: member {key!r} is not a NumPy array")
    header: dict[str, Any] = {}
    if HEADER_KEY in arrays:
        raw = arrays.pop(HEADER_KEY)
        try:
            header = json.loads(str(raw))
        except ValueError as exc:
            raise error(f"{path}: the dvzero header is not valid JSON") from exc
        if not isinstance(header, dict) or header.get("format") != format_name:
            found = header.get("format") if isinstance(header, dict) else header
            if found == CHECKPOINT_FORMAT and format_name == FORMAT_NAME:
                raise error(
                    f"{path}: a training checkpoint, not a parameter file; finish the run "
                    f"with 'dvzero train --resume {Path(path).parent}' to get its params.npz"
                )
            raise error(f"{path}: expected a {format_name} file, found format {found!r}")
        version = header.get("format_version", 0)
        if isinstance(version, bool) or not isinstance(version, int):
            raise error(f"{path}: the header's format_version is {version!r}, not a number")
        if version > FORMAT_VERSION:
            raise error(
                f"{path}: format version {header['format_version']} is newer than this dvzero "
                f"understands ({FORMAT_VERSION}); upgrade dvzero"
            )
        expected = header.get("sha256")
        if not isinstance(expected, str):
            raise error(f"{path}: the header carries no checksum of the arrays")
        if params_sha256(arrays) != expected:
            raise error(
                f"{path}: the arrays do not match the checksum in the header; the file is corrupt"
            )
    return arrays, header


def save_params_npz(
    path: str | os.PathLike[str], params: Mapping[str, NDArray], meta: Mapping[str, Any]
) -> None:
    """Write ``params`` and a JSON header built from ``meta`` to ``path`` (atomically)."""
    _write_npz(path, params, FORMAT_NAME, meta)


def load_params_npz(path: str | os.PathLike[str]) -> tuple[dict[str, NDArray], dict[str, Any]]:
    """Read a ``.npz`` parameter file: ``(params, header)``. Never unpickles anything."""
    arrays, header = _read_npz(path, FORMAT_NAME, ParamsFileError)
    return _check_params_dict(arrays, str(path)), header


# --------------------------------------------------------------------------- checkpoints

CHECKPOINT_FORMAT = "dvzero-checkpoint"


def save_checkpoint(
    path: str | os.PathLike[str],
    params: Mapping[str, NDArray],
    trainer_state: Mapping[str, Any],
    meta: Mapping[str, Any],
) -> None:
    """Write a training checkpoint (atomically, no pickle).

    ``params`` are the network's arrays; ``trainer_state`` is
    :meth:`dvzero.training.Trainer.state_dict`; ``meta`` is any JSON-able description of
    the run (the command line stores its configuration there). Floats are stored exactly:
    the history as float64 arrays, the rest as JSON (which round-trips floats exactly).
    """
    history = trainer_state["history"]
    arrays: dict[str, NDArray] = {f"params/{key}": value for key, value in params.items()}
    for key, value in trainer_state["optimizer"].items():
        arrays[f"optimizer/{key}"] = value
    for key in ("train_loss_list", "train_acc_list", "test_acc_list"):
        arrays[f"history/{key}"] = np.asarray(history[key], dtype=np.float64)
    arrays["history/epoch_steps"] = np.asarray(history["epoch_steps"], dtype=np.int64)
    header = {
        **meta,
        "next_step": trainer_state["next_step"],
        "initial_loss": trainer_state["initial_loss"],
        "rng": trainer_state["rng"],
    }
    _write_npz(path, arrays, CHECKPOINT_FORMAT, header)


def load_checkpoint(
    path: str | os.PathLike[str],
) -> tuple[dict[str, NDArray], dict[str, Any], dict[str, Any]]:
    """Read :func:`save_checkpoint`'s file: ``(params, trainer_state, meta)``."""
    arrays, header = _read_npz(path, CHECKPOINT_FORMAT, CheckpointError)
    if not header:
        raise CheckpointError(f"{path}: not a dvzero checkpoint (no header)")
    try:
        params = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("params/")}
        optimizer = {
            k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("optimizer/")
        }
        history = {
            "train_loss_list": arrays["history/train_loss_list"].tolist(),
            "train_acc_list": arrays["history/train_acc_list"].tolist(),
            "test_acc_list": arrays["history/test_acc_list"].tolist(),
            "epoch_steps": arrays["history/epoch_steps"].tolist(),
        }
        state = {
            "next_step": header.pop("next_step"),
            "initial_loss": header.pop("initial_loss"),
            "rng": header.pop("rng"),
            "history": history,
            "optimizer": optimizer,
        }
    except KeyError as exc:
        raise CheckpointError(f"{path}: incomplete checkpoint, {exc} is missing") from None
    return _check_params_dict(params, str(path)), state, header


# --------------------------------------------------------------------------- .pkl


# What a pickled dict of NumPy arrays is made of. Everything else -- above all the opcodes
# that build arbitrary objects (INST, OBJ, NEWOBJ), extension codes and persistent ids --
# is refused by a scan of the whole file before a single opcode is executed.
_SAFE_OPCODES = frozenset("""
    PROTO FRAME STOP MARK POP POP_MARK DUP
    NONE NEWTRUE NEWFALSE INT BININT BININT1 BININT2 LONG LONG1 LONG4 FLOAT BINFLOAT
    STRING BINSTRING SHORT_BINSTRING UNICODE BINUNICODE SHORT_BINUNICODE BINUNICODE8
    BINBYTES SHORT_BINBYTES BINBYTES8 BYTEARRAY8
    EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3 EMPTY_LIST LIST APPEND APPENDS
    EMPTY_DICT DICT SETITEM SETITEMS
    GLOBAL STACK_GLOBAL REDUCE BUILD
    PUT BINPUT LONG_BINPUT MEMOIZE GET BINGET LONG_BINGET
""".split())

#: dtype codes a parameter array may have: booleans, integers and floats (no objects).
_NUMERIC_DTYPE_CODES = frozenset(
    f"{kind}{size}" for kind in "iu" for size in (1, 2, 4, 8)
) | {"f2", "f4", "f8", "b1", "?"}


class _NdarrayToken:
    """Stands for ``numpy.ndarray`` inside a pickle: it may be named, never called."""

    def __repr__(self) -> str:
        return "<numpy.ndarray (restricted)>"


_NDARRAY = _NdarrayToken()


#: The message for a file that is neither kind of parameter file (a CSV, a text, a picture).
NOT_A_PARAMS_FILE = (
    "not a dvzero parameter file: expected a .npz written by dvzero or a .pkl written by "
    "save_params, as in the original post"
)


def _refuse(what: str) -> ParamsFileError:
    return ParamsFileError(f"refusing a pickle that {what}; a parameter file holds only arrays")


def _safe_reconstruct(subtype: Any, shape: Any, typecode: Any) -> NDArray:
    # NumPy pickles every array as _reconstruct(ndarray, (0,), b'b') followed by BUILD,
    # whose state NumPy checks itself; any other call is not an array being unpickled.
    if subtype is not _NDARRAY or shape != (0,) or typecode != b"b":
        raise _refuse("calls numpy's _reconstruct with unusual arguments")
    return np.ndarray.__new__(np.ndarray, (0,), "b")


def _safe_dtype(spec: Any, align: Any = False, copy: Any = False) -> np.dtype:
    if not isinstance(spec, str) or spec.lstrip("<>=|") not in _NUMERIC_DTYPE_CODES:
        raise _refuse(f"asks for the dtype {spec!r}")
    return np.dtype(spec, bool(align), bool(copy))


def _safe_frombuffer(buffer: Any, dtype: Any, shape: Any, order: Any) -> NDArray:
    if not isinstance(buffer, (bytes, bytearray)) or not isinstance(dtype, np.dtype):
        raise _refuse("calls numpy's _frombuffer with unusual arguments")
    if dtype.hasobject or order not in ("C", "F"):
        raise _refuse("builds an array of objects")
    return np.frombuffer(buffer, dtype=dtype).reshape(shape, order=order)


def _safe_encode(text: Any, encoding: Any = "utf-8") -> bytes:
    # Protocols 0-2 store array bytes as latin-1 text; nothing else is ever encoded.
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _refuse("calls codecs.encode with unusual arguments")
    return text.encode("latin-1")


def _empty_bytes(*args: Any) -> bytes:
    # Protocols 0-2 write the empty data of a zero-size array as bytes(); never bytes(n),
    # which would let a file allocate as much memory as it likes.
    if args:
        raise _refuse("calls bytes() with arguments")
    return b""


_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    **{(f"{prefix}.multiarray", "_reconstruct"): _safe_reconstruct
       for prefix in ("numpy._core", "numpy.core")},
    **{(f"{prefix}.numeric", "_frombuffer"): _safe_frombuffer
       for prefix in ("numpy._core", "numpy.core")},
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _safe_dtype,
    ("_codecs", "encode"): _safe_encode,
    ("builtins", "bytes"): _empty_bytes,
    ("__builtin__", "bytes"): _empty_bytes,
}


def _starts_like_a_pickle(data: bytes) -> bool:
    """True for the first bytes of a dict pickled with any protocol (0: ``(dp``, 1: ``}``)."""
    if data[:1] == pickle.PROTO:
        return len(data) > 1 and 2 <= data[1] <= pickle.HIGHEST_PROTOCOL
    return data[:2] == b"(d" or data[:1] == pickle.EMPTY_DICT


_MEMO_OPCODES = frozenset(("PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET"))


def _scan_pickle(data: bytes) -> None:
    """Refuse, before anything runs, a pickle with opcodes a dict of arrays never needs.

    The opcodes are read, not run, in one pass. What is found decides the message, in this
    order: an import of anything but NumPy's array machinery is refused as possibly
    malicious; bytes that do not start like a pickled dict (a text, a CSV) are called not a
    parameter file, not an attack, and so are bytes that do not parse; then opcodes that
    build objects and memo indices far beyond the number of opcodes (which could only
    serve to make the unpickler allocate a huge table) are refused.
    """
    starts_like_a_pickle = _starts_like_a_pickle(data)
    bad_import = unsafe_opcode = bad_memo = None
    strings: list[str] = []  # for STACK_GLOBAL in files that the unpickler never sees
    try:
        for count, (opcode, argument, _) in enumerate(pickletools.genops(data), start=1):
            name = opcode.name
            imported = None
            if name in ("GLOBAL", "INST"):
                imported = tuple(str(argument).partition(" ")[::2])
            elif name == "STACK_GLOBAL" and not starts_like_a_pickle and len(strings) >= 2:
                imported = (strings[-2], strings[-1])
            if imported and imported not in _ALLOWED_GLOBALS and bad_import is None:
                bad_import = ".".join(imported)
            if isinstance(argument, str):
                strings.append(argument)
            if name not in _SAFE_OPCODES and unsafe_opcode is None:
                unsafe_opcode = name
            if name in _MEMO_OPCODES and bad_memo is None and (
                not isinstance(argument, int) or argument > count
            ):
                bad_memo = argument
    except Exception as exc:  # unknown opcode, truncated argument, no STOP, ...
        if bad_import is not None:
            raise _refuse(f"imports {bad_import} (it may be malicious)") from None
        if starts_like_a_pickle:
            raise ParamsFileError(f"a damaged or truncated pickle ({exc})") from None
        raise ParamsFileError(NOT_A_PARAMS_FILE) from None
    if bad_import is not None:
        raise _refuse(f"imports {bad_import} (it may be malicious)")
    if not starts_like_a_pickle:
        raise ParamsFileError(NOT_A_PARAMS_FILE)
    if unsafe_opcode is not None:
        raise _refuse(f"uses the opcode {unsafe_opcode}")
    if bad_memo is not None:
        raise _refuse(f"uses the memo index {bad_memo!r}")


class RestrictedUnpickler(pickle._Unpickler):
    """An unpickler that can rebuild a dict of NumPy arrays and nothing else.

    Pickle rebuilds objects by importing and calling whatever the file names. This class
    admits a handful of names, each replaced by a guarded stand-in that accepts only the
    arguments NumPy's own pickles use (no object arrays, no arbitrary dtypes, no
    ``numpy.ndarray(...)`` calls). It is the pure-Python unpickler, whose memo is a dict,
    so a file cannot make it allocate a huge table. Use :func:`load_params_pickle`, which
    also scans the opcodes first.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise ParamsFileError(
                f"refusing to load {module}.{name}: a parameter pickle may contain only NumPy "
                f"arrays, and this one asks to import other code (it may be malicious)"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise _refuse("has persistent references")

    def load_build(self) -> None:
        """BUILD sets an object's state: allowed only with the states NumPy itself writes.

        A dtype's state can carry flags and fields; a forged one could mark a float dtype
        as holding object references, which NumPy would then follow. So a dtype may only
        receive the plain state of a simple numeric type, and an array only a state whose
        dtype is such a type.
        """
        state = self.stack[-1]
        target = self.stack[-2] if len(self.stack) > 1 else None
        if isinstance(target, np.dtype):
            if not _is_plain_dtype_state(state):
                raise _refuse(f"sets the unusual dtype state {state!r}")
        elif isinstance(target, np.ndarray):
            if not (isinstance(state, tuple) and len(state) == 5
                    and isinstance(state[2], np.dtype) and _is_plain_dtype(state[2])):
                raise _refuse("sets an array state with an unusual dtype")
        else:
            raise _refuse(f"sets the state of a {type(target).__name__}")
        super().load_build()

    dispatch = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.BUILD[0]] = load_build


def _is_plain_dtype_state(state: Any) -> bool:
    # (version, byte order, subarray, names, fields, itemsize, alignment, flags)
    return (isinstance(state, tuple) and len(state) == 8 and state[0] == 3
            and state[1] in ("<", ">", "|", "=") and state[2:] == (None, None, None, -1, -1, 0))


def _is_plain_dtype(dtype: np.dtype) -> bool:
    return (dtype.kind in "biuf" and not dtype.hasobject and dtype.fields is None
            and dtype.subdtype is None and dtype.flags == 0)


def save_params_pickle(path: str | os.PathLike[str], params: Mapping[str, NDArray]) -> None:
    """Write the original post's format: ``pickle.dump`` of a plain dict of arrays (atomically)."""
    with atomic_write(path, "wb") as handle:
        pickle.dump({key: value for key, value in params.items()}, handle)


def load_params_pickle(path: str | os.PathLike[str]) -> dict[str, NDArray]:
    """Read the original post's ``.pkl`` format safely (see :class:`RestrictedUnpickler`)."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        _scan_pickle(data)
        params = RestrictedUnpickler(io.BytesIO(data)).load()
    except ParamsFileError as exc:
        raise ParamsFileError(f"{path}: {exc}") from None
    except Exception as exc:  # any malformed pickle: truncated, wrong opcodes, ...
        raise ParamsFileError(f"{path}: not a readable parameter pickle ({exc!r})") from exc
    return _check_params_dict(params, str(path))


def load_params_file(path: str | os.PathLike[str]) -> tuple[dict[str, NDArray], dict[str, Any]]:
    """Read either format, chosen by content: ``(params, header)`` (header ``{}`` for pickles)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such parameter file: {path}")
    if path.is_dir():
        raise ParamsFileError(f"{path} is a directory, not a parameter file")
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic.startswith(b"PK"):
        return load_params_npz(path)
    try:
        return load_params_pickle(path), {}
    except ParamsFileError as exc:
        if path.suffix == ".npz" and str(exc).endswith(NOT_A_PARAMS_FILE):
            raise ParamsFileError(f"{exc} (this file is not a zip archive)") from None
        raise


def save_params_file(
    path: str | os.PathLike[str],
    params: Mapping[str, NDArray],
    meta: Mapping[str, Any] | None = None,
) -> None:
    """Write ``params`` as ``.npz`` (with header), or the original post's pickle for any other
    suffix."""
    if Path(path).suffix == ".npz":
        save_params_npz(path, params, meta or {})
    else:
        save_params_pickle(path, params)


# --------------------------------------------------------------------------- run records


def save_json(path: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented JSON (atomically). NaN and infinities become ``null``."""

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if isinstance(value, np.generic):
            return clean(value.item())
        return value

    with atomic_write(path, "w", encoding="utf-8") as handle:
        json.dump(clean(dict(data)), handle, indent=2, ensure_ascii=False, allow_nan=False)
        handle.write("\n")


def save_metrics_csv(
    path: str | os.PathLike[str],
    train_loss_list: Sequence[float],
    epoch_steps: Sequence[int],
    train_acc_list: Sequence[float],
    test_acc_list: Sequence[float],
) -> None:
    """Write ``step,loss,epoch,train_acc,test_acc``: a row per step, accuracies on epoch rows."""
    accuracies = {
        step: (epoch, train_acc, test_acc)
        for epoch, (step, train_acc, test_acc) in enumerate(
            zip(epoch_steps, train_acc_list, test_acc_list, strict=True)
        )
    }
    with atomic_write(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")  # csv's default is "\r\n"
        writer.writerow(["step", "loss", "epoch", "train_acc", "test_acc"])
        for step, loss in enumerate(train_loss_list):
            if step in accuracies:
                epoch, train_acc, test_acc = accuracies[step]
                writer.writerow([step, repr(float(loss)), epoch, train_acc, test_acc])
            else:
                writer.writerow([step, repr(float(loss)), "", "", ""])


def read_metrics_csv(path: str | os.PathLike[str]) -> dict[str, list]:
    """Read :func:`save_metrics_csv`'s file back into the lists it was written from."""
    history: dict[str, list] = {
        "train_loss_list": [],
        "epoch_steps": [],
        "train_acc_list": [],
        "test_acc_list": [],
    }
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            history["train_loss_list"].append(float(row["loss"]))
            if row["epoch"]:
                history["epoch_steps"].append(int(row["step"]))
                history["train_acc_list"].append(float(row["train_acc"]))
                history["test_acc_list"].append(float(row["test_acc"]))
    return history
