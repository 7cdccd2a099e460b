"""The safe ``.npz`` format: arrays plus a JSON header, read without pickle.

A NumPy archive read with ``allow_pickle=False``, so loading it can never run code. Beside
the arrays it holds a JSON header (key ``__dvzero__``) with the format name and version,
the dvzero version, whatever the writer describes (a network's class and constructor
arguments, a run's settings) and a SHA-256 of the arrays, so that a file alone is enough to
rebuild its network and to detect corruption. Parameter files and training checkpoints are
both written in it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._atomic import atomic_write
from .._i18n import _
from .._version import __version__
from ..errors import CheckpointError, ParamsFileError
from .checks import check_params_dict

HEADER_KEY = "__dvzero__"
FORMAT_NAME = "dvzero-params"
FORMAT_VERSION = 1
CHECKPOINT_FORMAT = "dvzero-checkpoint"


def params_sha256(params: Mapping[str, NDArray]) -> str:
    """SHA-256 over the parameter arrays: names, dtypes, shapes and bytes, in key order."""
    digest = hashlib.sha256()
    for key in sorted(params):
        array = np.ascontiguousarray(params[key])
        digest.update(f"{key}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _write_npz(path: str | os.PathLike[str], arrays: Mapping[str, NDArray], format_name: str,
               meta: Mapping[str, Any]) -> None:
    """Write ``arrays`` and a JSON header (format, versions, ``meta``, SHA-256) atomically."""
    if HEADER_KEY in arrays:
        raise ValueError(f"{HEADER_KEY!r} is reserved for the header")
    header = {"format": format_name, "format_version": FORMAT_VERSION,
              "dvzero_version": __version__, **meta, "sha256": params_sha256(arrays)}
    contents = {key: np.asarray(value) for key, value in arrays.items()}
    contents[HEADER_KEY] = np.array(json.dumps(header, sort_keys=True))
    with atomic_write(path, "wb") as handle:
        np.savez(handle, **contents)


def _read_npz(path: str | os.PathLike[str], format_name: str, error: type[Exception]
              ) -> tuple[dict[str, NDArray], dict[str, Any]]:
    """Read a ``.npz`` written by :func:`_write_npz`: ``(arrays, header)``, checksum checked;
    a file without a header gives ``header == {}``."""
    try:
        # Opened here, not by np.load, so the file is closed even when the zip is broken.
        with open(path, "rb") as handle:
            if handle.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
                raise error(_("{path}: not a .npz file (no zip signature)").format(path=path))
            handle.seek(0)
            with np.load(handle, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
    except (FileNotFoundError, error):
        raise
    except Exception as exc:  # a damaged zip raises anything from BadZipFile to RuntimeError
        raise error(_("{path}: not a readable .npz file ({kind}: {reason})")
                    .format(path=path, kind=type(exc).__name__, reason=exc)) from exc
    for key, value in arrays.items():
        if not isinstance(value, np.ndarray):  # a zip member that is not a .npy file
            raise error(_("{path}: member {key!r} is not a NumPy array").format(path=path, key=key))
    header: dict[str, Any] = {}
    if HEADER_KEY in arrays:
        raw = arrays.pop(HEADER_KEY)
        try:
            header = json.loads(str(raw))
        except ValueError as exc:
            raise error(_("{path}: the dvzero header is not valid JSON")
                        .format(path=path)) from exc
        if not isinstance(header, dict) or header.get("format") != format_name:
            found = header.get("format") if isinstance(header, dict) else header
            if found == CHECKPOINT_FORMAT and format_name == FORMAT_NAME:
                raise error(_("{path}: a training checkpoint, not a parameter file; finish the "
                              "run with 'dvzero train --resume {run_dir}' to get its params.npz")
                            .format(path=path, run_dir=Path(path).parent))
            raise error(_("{path}: expected a {format} file, found format {found!r}")
                        .format(path=path, format=format_name, found=found))
        version = header.get("format_version", 0)
        if isinstance(version, bool) or not isinstance(version, int):
            raise error(_("{path}: the header's format_version is {version!r}, not a number")
                        .format(path=path, version=version))
        if version > FORMAT_VERSION:
            raise error(_("{path}: format version {version} is newer than this dvzero "
                          "understands ({newest}); upgrade dvzero")
                        .format(path=path, version=version, newest=FORMAT_VERSION))
        expected = header.get("sha256")
        if not isinstance(expected, str):
            raise error(_("{path}: the header carries no checksum of the arrays").format(path=path))
        if params_sha256(arrays) != expected:
            raise error(_("{path}: the arrays do not match the checksum in the header; the file "
                          "is corrupt").format(path=path))
    return arrays, header


def save_params_npz(path: str | os.PathLike[str], params: Mapping[str, NDArray],
                    meta: Mapping[str, Any]) -> None:
    """Write ``params`` and a JSON header built from ``meta`` to ``path`` (atomically)."""
    _write_npz(path, params, FORMAT_NAME, meta)


def load_params_npz(path: str | os.PathLike[str]) -> tuple[dict[str, NDArray], dict[str, Any]]:
    """Read a ``.npz`` parameter file: ``(params, header)``."""
    arrays, header = _read_npz(path, FORMAT_NAME, ParamsFileError)
    return check_params_dict(arrays, str(path)), header


# --------------------------------------------------------------------------- checkpoints

#: Parts of the trainer's state that hold both arrays and plain values: the arrays are
#: stored as ``part/name`` members, the values in the header under ``part``.
_MIXED_PARTS = ("network_state", "sampler_state")

#: The counts of a trainer's state that say how much of its history was announced.
_ANNOUNCED = ("steps_announced", "epochs_announced")


def save_checkpoint(path: str | os.PathLike[str], params: Mapping[str, NDArray],
                    trainer_state: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
    """Write a training checkpoint (atomically, no pickle).

    ``params`` are the network's arrays; ``trainer_state`` is
    :meth:`dvzero.training.Trainer.state_dict` (the optimizer's arrays, the network's
    running averages and generator, the sampler's epoch order among it); ``meta`` is any
    JSON-able description of the run (the command line stores its configuration there).
    Floats are stored exactly: the history as float64 arrays, the rest as JSON (which
    round-trips floats exactly).
    """
    history = trainer_state["history"]
    arrays: dict[str, NDArray] = {f"params/{key}": value for key, value in params.items()}
    arrays.update({f"optimizer/{key}": value for key, value in trainer_state["optimizer"].items()})
    for key in ("train_loss_list", "train_acc_list", "test_acc_list"):
        arrays[f"history/{key}"] = np.asarray(history[key], dtype=np.float64)
    arrays["history/epoch_steps"] = np.asarray(history["epoch_steps"], dtype=np.int64)
    if history.get("val_acc_list"):
        arrays["history/val_acc_list"] = np.asarray(history["val_acc_list"], dtype=np.float64)
    header = {
        **meta,
        "next_step": trainer_state["next_step"],
        "initial_loss": trainer_state["initial_loss"],
        "rng": trainer_state["rng"],
        # how much of the history the callbacks heard of (older files: all of it)
        **{key: trainer_state[key] for key in _ANNOUNCED if key in trainer_state},
    }
    for part in _MIXED_PARTS:
        values = {}
        for key, value in trainer_state.get(part, {}).items():
            if isinstance(value, np.ndarray):
                arrays[f"{part}/{key}"] = value
            else:
                values[key] = value
        if values:
            header[part] = values
    _write_npz(path, arrays, CHECKPOINT_FORMAT, header)


def load_checkpoint(path: str | os.PathLike[str]
                    ) -> tuple[dict[str, NDArray], dict[str, Any], dict[str, Any]]:
    """Read :func:`save_checkpoint`'s file: ``(params, trainer_state, meta)``."""
    arrays, header = _read_npz(path, CHECKPOINT_FORMAT, CheckpointError)
    if not header:
        raise CheckpointError(_("{path}: not a dvzero checkpoint (no header)").format(path=path))

    def members(prefix: str) -> dict[str, NDArray]:
        return {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(f"{prefix}/")}

    try:
        history = {key: arrays[f"history/{key}"].tolist()
                   for key in ("train_loss_list", "train_acc_list", "test_acc_list", "epoch_steps")}
        if "history/val_acc_list" in arrays:
            history["val_acc_list"] = arrays["history/val_acc_list"].tolist()
        state = {"next_step": header.pop("next_step"), "initial_loss": header.pop("initial_loss"),
                 "rng": header.pop("rng"), "history": history, "optimizer": members("optimizer"),
                 **{key: header.pop(key) for key in _ANNOUNCED if key in header}}
    except KeyError as exc:
        raise CheckpointError(_("{path}: incomplete checkpoint, {key} is missing")
                              .format(path=path, key=exc)) from None
    for part in _MIXED_PARTS:
        values = header.pop(part, {})
        if not isinstance(values, dict):
            raise CheckpointError(_("{path}: the header's {part!r} is not a mapping")
                                  .format(path=path, part=part))
        state[part] = {**members(part), **values}
    return check_params_dict(members("params"), str(path)), state, header
