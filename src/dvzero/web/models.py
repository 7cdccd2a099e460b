"""The models a page can choose from, and what a page is sent for a drawing.

:func:`find_runs` lists the finished run directories under ``runs/``; a :class:`Catalog`
holds them (and a model named on the command line), loads each network once, and answers a
drawing with :meth:`Catalog.predict`: the digit, the ten probabilities, the 28x28 input the
network saw and its first hidden layer, all in plain JSON types.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._i18n import _
from ..apps.images import MAX_PIXELS, read_digit
from ..apps.predict import Predictor, load_predictor
from ..runs.files import PARAMS_FILES, find_model, read_summary

#: The most numbers of the hidden layer sent back; larger layers are not drawn.
MAX_HIDDEN_VALUES = 20000


@dataclass(frozen=True)
class ModelEntry:
    """A model the page may choose: ``id`` is all the page ever sends back."""

    id: str
    path: Path
    network: str
    test_acc: float | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "network": self.network, "test_acc": self.test_acc}


def _entry(model_id: str, path: Path, summary: dict[str, Any] | None) -> ModelEntry:
    """The entry of the model in ``path``, named ``model_id``, with what its run's
    ``summary`` (if any) says of it."""
    config = summary.get("config") if summary else None
    network = config.get("network") if isinstance(config, dict) else None
    test_acc = summary.get("test_acc") if summary else None
    return ModelEntry(model_id, path, network if isinstance(network, str) else "?",
                      float(test_acc) if isinstance(test_acc, (int, float)) else None)


def find_runs(runs_dir: str | os.PathLike[str]) -> list[ModelEntry]:
    """The finished runs directly under ``runs_dir``, newest name first (``dvzero train``
    names them by time); interrupted runs and other directories are left out."""
    runs_dir = Path(runs_dir)
    try:
        children = sorted((child for child in runs_dir.iterdir() if child.is_dir()),
                          key=lambda child: child.name, reverse=True)
    except OSError:
        return []
    found = []
    for child in children:
        summary = read_summary(child)
        if summary is not None and any((child / name).is_file() for name in PARAMS_FILES):
            found.append(_entry(child.name, child, summary))
    return found


def given_model(path: str | os.PathLike[str]) -> tuple[ModelEntry, Predictor]:
    """The entry for a model named on the command line (a run directory or a parameter
    file), loaded: refused, with the reason, if it cannot predict digits."""
    predictor = load_predictor(path)
    params_file = predictor.params_file
    summary = read_summary(params_file.parent) if params_file.name in PARAMS_FILES else None
    return _entry(str(path), params_file, summary), predictor


class Catalog:
    """The models on offer: the one given (if any) first, then the runs under ``runs_dir``,
    looked for again at every :meth:`entries` call so that new runs appear."""

    def __init__(self, runs_dir: str | os.PathLike[str],
                 given: str | os.PathLike[str] | None = None) -> None:
        self.runs_dir = Path(runs_dir)
        #: Loaded networks by parameter file, with the file's (mtime, size) when loaded and
        #: a lock: layers keep their inputs, so one forward pass at a time per network.
        self._loaded: dict[Path, tuple[tuple[int, int], Predictor, threading.Lock]] = {}
        self._loading = threading.Lock()
        self.given: ModelEntry | None = None
        if given is not None:
            self.given, predictor = given_model(given)
            self._keep(predictor)

    def entries(self) -> list[ModelEntry]:
        runs = find_runs(self.runs_dir)
        if self.given is None:
            return runs
        given = self.given
        return [given] + [entry for entry in runs if entry.id != given.id
                          and entry.path.resolve() != given.path.resolve().parent]

    def _keep(self, predictor: Predictor) -> tuple[tuple[int, int], Predictor, threading.Lock]:
        stat = predictor.params_file.stat()
        kept = ((stat.st_mtime_ns, stat.st_size), predictor, threading.Lock())
        self._loaded[predictor.params_file.resolve()] = kept
        return kept

    def load(self, model_id: str | None) -> tuple[ModelEntry, Predictor, threading.Lock]:
        """The model of ``model_id`` (the first one if ``None``), loaded once and again if
        its file has changed, and the lock to hold while it computes; ``KeyError`` for an
        id that is not on offer."""
        entries = self.entries()
        if not entries:
            raise KeyError(_("no trained model"))
        entry = entries[0] if model_id is None else next(
            (entry for entry in entries if entry.id == model_id), None)
        if entry is None:
            raise KeyError(_("no model {id!r}").format(id=model_id))
        with self._loading:
            params_file = find_model(entry.path).params_file
            stat = params_file.stat()
            kept = self._loaded.get(params_file.resolve())
            if kept is None or kept[0] != (stat.st_mtime_ns, stat.st_size):
                kept = self._keep(load_predictor(entry.path))
            _stat, predictor, lock = kept
            return entry, predictor, lock

    def predict(self, model_id: str | None, image: Any, max_pixels: int = MAX_PIXELS,
                formats: tuple[str, ...] | None = None) -> dict[str, Any]:
        """The page's answer for a picture (a path or a file object holding PNG, JPEG, ...)
        made MNIST-like by :func:`~dvzero.apps.images.read_digit`, as for ``dvzero predict``.

        Raises ``KeyError`` for an unknown model and :class:`~dvzero.apps.images.ImageError`
        for a picture that cannot be read or holds no ink.
        """
        digit_image = read_digit(image, max_pixels, formats)
        entry, predictor, lock = self.load(model_id)
        with lock:
            probabilities = predictor.probabilities(digit_image[np.newaxis])[0]
            hidden = np.asarray(predictor.network.first_hidden(
                digit_image.reshape(1, -1).astype(predictor.network.dtype)))[0]
        return {"model": entry.id, "digit": int(np.argmax(probabilities)),
                "probabilities": [round(float(p), 5) for p in probabilities],
                "input": np.round(digit_image, 3).tolist(), "hidden": hidden_layer(hidden)}


def hidden_layer(hidden: np.ndarray) -> dict[str, Any]:
    """A hidden layer for the page: its shape (``[units]`` or ``[channels, height,
    width]``), its values rounded, and the largest (to scale the drawing)."""
    values = np.asarray(hidden, dtype=np.float64)
    if values.size > MAX_HIDDEN_VALUES:
        return {"shape": list(values.shape), "values": [], "max": float(values.max())}
    return {"shape": list(values.shape), "values": np.round(values.ravel(), 3).tolist(),
            "max": round(float(values.max()), 4)}
