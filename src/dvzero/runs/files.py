"""The files of a run directory, and reading them back: the model a run left and the data
it was trained on (recorded in its ``summary.json``), which evaluating that model uses unless
told otherwise.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._i18n import N_, _
from ..errors import UsageError

#: The files a finished run directory holds.
RUN_FILES = ("params.npz", "params_two_layer.pkl", "metrics.csv", "summary.json",
             "accuracy.png", "loss.png", "filters.png", "confusion.png", "mistakes.png",
             "weights.png")
#: The file an unfinished run directory holds instead of ``summary.json``.
CHECKPOINT_NAME = "checkpoint.npz"
#: The parameter files of a run, in the order they are preferred.
PARAMS_FILES = ("params.npz", "params_two_layer.pkl")
#: How the data shipped with dvzero is named in messages.
SHIPPED_DATA = N_("MNIST, shipped with dvzero")


def describe_data(data_dir: str | os.PathLike[str] | None) -> str:
    """The data's name for messages: the shipped MNIST, or the directory."""
    return _(SHIPPED_DATA) if data_dir is None else str(data_dir)


@dataclass(frozen=True)
class ModelSource:
    """A parameter file, and what its run directory records about it.

    ``run_dir`` is ``None`` for a lone file; for a file of a run, ``data_dir`` and
    ``data_sha256`` are the data it was trained on (``data_dir`` ``None`` for the shipped
    MNIST) and its fingerprint (:func:`dvzero.data.mnist.dataset_fingerprint`, ``None`` if
    unrecorded). ``note`` says why a ``summary.json`` beside the file was not used.
    """

    params_file: Path
    run_dir: Path | None = None
    data_dir: str | None = None
    data_sha256: str | None = None
    note: str | None = None


def find_model(path: str | os.PathLike[str]) -> ModelSource:
    """The parameter file that ``path`` (a run directory or a parameter file) stands for.

    A file belongs to a run when it is one of :data:`PARAMS_FILES` beside the
    ``summary.json`` of a finished run. Raises :class:`~dvzero.errors.UsageError` for a
    missing path, a directory without parameters, and an interrupted run (with the hint to
    resume it).
    """
    path = Path(path)
    if path.is_dir():
        if (path / CHECKPOINT_NAME).is_file() and not (path / "summary.json").is_file():
            raise UsageError(_("{path}: an interrupted run ({checkpoint}, no final parameters "
                               "yet); finish it with 'dvzero train --resume {path}' first")
                             .format(path=path, checkpoint=CHECKPOINT_NAME))
        found = [path / name for name in PARAMS_FILES if (path / name).is_file()]
        if not found:
            raise UsageError(_("{path}: no {files} in this directory; give a run directory "
                               "written by 'dvzero train', or a parameter file (.npz, or the "
                               "original post's .pkl)")
                             .format(path=path, files=_(" or ").join(PARAMS_FILES)))
        path = found[0]
    elif not path.exists():
        raise UsageError(_("{path}: no such file or directory").format(path=path))
    summary_path = path.parent / "summary.json"
    if path.name not in PARAMS_FILES or not summary_path.is_file():
        return ModelSource(path)
    try:
        data_dir, fingerprint = _recorded_data(summary_path)
    except ValueError as exc:
        note = _("{summary} is not the summary of a dvzero run ({reason}), so it does not say "
                 "which data to use").format(summary=summary_path, reason=exc)
        return ModelSource(path, note=note)
    if data_dir is not None and not Path(data_dir).is_absolute():
        data_dir = str(path.parent / data_dir)  # relative to the run, not to the caller
    return ModelSource(path, path.parent, data_dir, fingerprint)


def read_summary(run_dir: Path) -> dict[str, Any] | None:
    """The ``summary.json`` of a finished run, or ``None`` when it is missing, unreadable
    or not the summary of a dvzero run (a JSON object with ``dvzero_version``)."""
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return summary if isinstance(summary, dict) and "dvzero_version" in summary else None


def _recorded_data(summary_path: Path) -> tuple[str | None, str | None]:
    """``(data_dir, data_sha256)`` from a run's summary; ``ValueError`` saying what is wrong."""
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(_("unreadable: {reason}").format(reason=exc)) from None
    except ValueError:
        raise ValueError(_("not valid JSON")) from None
    config = summary.get("config") if isinstance(summary, dict) else None
    if not isinstance(config, dict) or "dvzero_version" not in summary or "data_dir" not in config:
        raise ValueError(_("no dvzero_version, or no config with a data_dir"))
    data_dir, fingerprint = config["data_dir"], config.get("data_sha256")
    if not all(value is None or isinstance(value, str) for value in (data_dir, fingerprint)):
        raise ValueError(_("its data_dir or data_sha256 is not a string"))
    return data_dir, fingerprint


def recorded_data_dir(source: ModelSource) -> str | None:
    """The data a run was trained on (``None``: the shipped MNIST); refuses data that is
    no longer there."""
    if source.data_dir is not None and not Path(source.data_dir).is_dir():
        raise UsageError(_("{run_dir} was trained on {data_dir}, which is no longer there; name "
                           "its data with --data-dir")
                         .format(run_dir=source.run_dir, data_dir=source.data_dir))
    return source.data_dir
