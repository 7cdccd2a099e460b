"""Saving and loading parameters and run records.

Two parameter formats:

* ``.npz`` (the default of the command line): a NumPy archive read with
  ``allow_pickle=False``, so loading it can never run code. Beside the arrays it holds a
  JSON header (key ``__dvzero__``) with the format version, the network's class and
  constructor arguments, the dtype, the dvzero version and a SHA-256 of the arrays, so a
  file alone is enough to rebuild its network and to detect corruption.
* ``.pkl`` (the seed's ``save_params``): a pickled ``dict`` of NumPy arrays. Pickle can run
  arbitrary code, so it is read through :class:`RestrictedUnpickler`, which admits only
  what a dict of NumPy arrays needs and refuses everything else before it is executed.

Every file is written atomically (see :mod:`dvzero._atomic`).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import importlib
import io
import json
import math
import os
import pickle
import zipfile
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
        if not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)):
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
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise error(f"{path}: not a readable .npz file ({exc})") from exc
    header: dict[str, Any] = {}
    if HEADER_KEY in arrays:
        raw = arrays.pop(HEADER_KEY)
        try:
            header = json.loads(str(raw))
        except ValueError as exc:
            raise error(f"{path}: the dvzero header is not valid JSON") from exc
        if not isinstance(header, dict) or header.get("format") != format_name:
            found = header.get("format") if isinstance(header, dict) else header
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
        if expected is not None and params_sha256(arrays) != expected:
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


def _numpy_module(*candidates: str):
    for name in candidates:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(f"none of {candidates} can be imported")


def _empty_bytes(*args: Any) -> bytes:
    if args:
        raise ParamsFileError("refusing a pickle that calls bytes() with arguments")
    return b""


@functools.cache
def _allowed_globals() -> dict[tuple[str, str], Any]:
    multiarray = _numpy_module("numpy._core.multiarray", "numpy.core.multiarray")
    numeric = _numpy_module("numpy._core.numeric", "numpy.core.numeric")
    import codecs

    allowed = {}
    for prefix in ("numpy._core", "numpy.core"):
        allowed[(f"{prefix}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{prefix}.multiarray", "scalar")] = multiarray.scalar
        allowed[(f"{prefix}.numeric", "_frombuffer")] = numeric._frombuffer
    # Protocols 0-2 write the empty data of a zero-size array as bytes(); admit that call
    # only, never bytes(n), which would let a file allocate as much memory as it likes.
    for module in ("builtins", "__builtin__"):
        allowed[(module, "bytes")] = _empty_bytes
    allowed[("numpy", "ndarray")] = np.ndarray
    allowed[("numpy", "dtype")] = np.dtype
    # Pickle protocols 0-2 store array bytes as latin-1 text decoded by codecs.encode.
    allowed[("_codecs", "encode")] = codecs.encode
    return allowed


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild a dict of NumPy arrays and nothing else.

    Pickle rebuilds objects by importing and calling whatever the file names; this class
    refuses every name outside a short list of NumPy array constructors, *before* anything
    is imported or called, so a malicious file cannot run code.
    """

    def find_class(self, module: str, name: str) -> Any:
        allowed = _allowed_globals()
        try:
            return allowed[(module, name)]
        except KeyError:
            raise ParamsFileError(
                f"refusing to load {module}.{name}: a parameter pickle may contain only NumPy "
                f"arrays, and this one asks to import other code (it may be malicious)"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise ParamsFileError("refusing a pickle with persistent references")


def save_params_pickle(path: str | os.PathLike[str], params: Mapping[str, NDArray]) -> None:
    """Write the seed's format: ``pickle.dump`` of a plain dict of arrays (atomically)."""
    with atomic_write(path, "wb") as handle:
        pickle.dump({key: value for key, value in params.items()}, handle)


def load_params_pickle(path: str | os.PathLike[str]) -> dict[str, NDArray]:
    """Read the seed's ``.pkl`` format safely (see :class:`RestrictedUnpickler`)."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
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
    return load_params_pickle(path), {}


def save_params_file(
    path: str | os.PathLike[str],
    params: Mapping[str, NDArray],
    meta: Mapping[str, Any] | None = None,
) -> None:
    """Write ``params`` as ``.npz`` (with header) or, for any other suffix, the seed's pickle."""
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
        writer = csv.writer(handle)
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
