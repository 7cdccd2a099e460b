"""Saving and loading parameters, checkpoints and run records: :mod:`~.safe_npz` (the safe
``.npz`` format: no pickle, a JSON header, a checksum of the arrays), :mod:`~.pickles` (the
original post's ``.pkl`` files, through a restricted unpickler) and :mod:`~.records`
(``summary.json``, ``metrics.csv``). :func:`load_params_file` and :func:`save_params_file`
choose the format; every file is written atomically (:mod:`dvzero._atomic`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from .._i18n import _
from ..errors import ParamsFileError
from .pickles import NOT_A_PARAMS_FILE, load_params_pickle, save_params_pickle
from .records import save_json, save_metrics_csv
from .safe_npz import load_checkpoint, load_params_npz, save_checkpoint, save_params_npz

__all__ = ["load_checkpoint", "load_params_file", "save_checkpoint", "save_json",
           "save_metrics_csv", "save_params_file"]


def load_params_file(path: str | os.PathLike[str]) -> tuple[dict[str, NDArray], dict[str, Any]]:
    """Read either format, chosen by content: ``(params, header)`` (header ``{}`` for pickles)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(_("no such parameter file: {path}").format(path=path))
    if path.is_dir():
        raise ParamsFileError(_("{path} is a directory, not a parameter file").format(path=path))
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic.startswith(b"PK"):
        return load_params_npz(path)
    try:
        return load_params_pickle(path), {}
    except ParamsFileError as exc:
        if path.suffix == ".npz" and str(exc).endswith(_(NOT_A_PARAMS_FILE)):
            raise ParamsFileError(_("{message} (this file is not a zip archive)")
                                  .format(message=exc)) from None
        raise


def save_params_file(path: str | os.PathLike[str], params: Mapping[str, NDArray],
                     meta: Mapping[str, Any] | None = None) -> None:
    """Write ``params`` as ``.npz`` (with header), or the original post's pickle for any other
    suffix."""
    if Path(path).suffix == ".npz":
        save_params_npz(path, params, meta or {})
    else:
        save_params_pickle(path, params)
