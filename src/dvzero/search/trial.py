"""One trial of a search, as a Dask worker runs it: a training run of its own, on one thread,
judged on the validation set and never on the test set; its files travel back whole, so
that the client writes them where it was asked, whichever machine trained them."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._i18n import _
from ..errors import DVZeroError


@dataclass
class Trial:
    """A trial to run: its number, and the settings of ``dvzero train`` it trains with
    (its own seed among them)."""

    number: int
    settings: dict[str, Any]


@dataclass
class TrialResult:
    """What a trial gave: ``status`` ``"finished"`` (with ``val_acc``) or ``"failed"``
    (with ``reason``, one line); ``files`` by name, the run directory's; ``seconds``, its
    time in the worker, from start to files read."""

    number: int
    status: str
    val_acc: float | None = None
    reason: str = ""
    seconds: float = 0.0
    files: dict[str, bytes] = field(default_factory=dict)


def run_trial(trial: Trial) -> TrialResult:
    """Train ``trial`` in a temporary directory; a trial that fails by itself (its settings
    refused, a divergence, its data unreadable) is a result too, with its reason."""
    from ..runs import Run

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dvzero-trial-") as temporary:
        out = Path(temporary) / "run"
        run = None
        try:
            run = Run.start({**trial.settings, "measure_test": False, "threads": 1}, out)
            run.load_data()
            outcome = run.train()
            if outcome.status != "finished":
                return TrialResult(trial.number, "failed", reason=_one_line(outcome.error),
                                   seconds=time.perf_counter() - start)
            summary = run.finish(start)
        except (DVZeroError, ValueError, FloatingPointError, OSError) as exc:
            return TrialResult(trial.number, "failed", reason=_one_line(exc),
                               seconds=time.perf_counter() - start)
        finally:
            if run is not None:
                run.release()
        files = {path.name: path.read_bytes() for path in sorted(out.iterdir())
                 if path.is_file()}
    return TrialResult(trial.number, "finished", val_acc=summary["val_acc"],
                       seconds=time.perf_counter() - start, files=files)


def _one_line(error: BaseException | None) -> str:
    text = " ".join(str(error).split()) if error is not None else ""
    return text or _("stopped before its end")
