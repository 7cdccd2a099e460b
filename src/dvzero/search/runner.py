"""A search, driven from this process: its trials planned once (``search.json``), sent to a
Dask cluster — worker processes on this computer, or an existing cluster's scheduler — and
written here as they come back: each trial a run directory ``trial-NNN``, ``results.csv``
ranked after every trial, and at the end the pictures and the best trial's test accuracy,
measured once.

Which trials and with which settings depends only on the search's seed and the trial's
number, never on which worker ran what or when: one worker, eight, or a cluster give the
same table (:mod:`~.space`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._atomic import atomic_write
from .._i18n import _
from ..errors import DVZeroError, UsageError
from .trial import Trial, TrialResult, run_trial

PLAN, RESULTS = "search.json", "results.csv"

#: How long to wait for a scheduler given by address before saying it cannot be reached.
CONNECT_SECONDS = 10


def trial_dir(number: int) -> str:
    return f"trial-{number:03d}"


@dataclass
class Search:
    """A search in its directory ``out``: ``plan`` (every trial's settings), ``searched``
    (the searched settings and how each is drawn: ``"log"``, ``"linear"`` or ``"choice"``),
    and ``results``, by trial number."""

    out: Path
    plan: list[Trial]
    searched: dict[str, str]
    seed: int
    results: dict[int, TrialResult]

    @classmethod
    def start(cls, out: Path, plan: list[Trial], searched: dict[str, str], seed: int) -> Search:
        """A new search: refuses a directory that already holds files (``--resume`` goes on
        with a search)."""
        out = Path(out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise UsageError(_("--out {out}: already exists and is not empty; give a new "
                               "directory, or continue a search there with 'dvzero search "
                               "--resume {out}'").format(out=out))
        out.mkdir(parents=True, exist_ok=True)
        search = cls(out, plan, searched, seed, {})
        state = {"seed": seed, "searched": searched,
                 "plan": [{"trial": trial.number, "settings": trial.settings} for trial in plan]}
        with atomic_write(out / PLAN, "w") as file:
            json.dump(state, file, indent=2)
        return search

    @classmethod
    def resume(cls, out: Path) -> Search:
        """The search in ``out`` with the trials it has finished or failed."""
        out = Path(out)
        try:
            state = json.loads((out / PLAN).read_text(encoding="utf-8"))
            plan = [Trial(int(one["trial"]), dict(one["settings"])) for one in state["plan"]]
            searched, seed = dict(state["searched"]), int(state["seed"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(_("--resume {out}: not a search directory ({reason})")
                             .format(out=out, reason=exc)) from None
        search = cls(out, plan, searched, seed, {})
        for row in search._rows_on_disk():
            search.results[row.number] = row
        return search

    def pending(self) -> list[Trial]:
        return [trial for trial in self.plan if trial.number not in self.results]

    def record(self, result: TrialResult) -> None:
        """Write a trial's run directory and the ranked table with it."""
        directory = self.out / trial_dir(result.number)
        if result.files:  # a failed trial has none
            directory.mkdir(exist_ok=True)
        for name, data in result.files.items():
            with atomic_write(directory / Path(name).name, "wb") as file:
                file.write(data)
        self.results[result.number] = TrialResult(result.number, result.status,
                                                  result.val_acc, result.reason,
                                                  result.seconds)
        with atomic_write(self.out / RESULTS, "w") as file:
            file.write(self.table())

    def ranked(self) -> list[TrialResult]:
        """The results, best validation accuracy first (the lower trial number first on a
        tie), then the failed ones by number."""
        return sorted(self.results.values(),
                      key=lambda r: (r.status != "finished", -(r.val_acc or 0.0), r.number))

    def table(self) -> str:
        """``results.csv``: ``trial``, a column per searched setting, ``val_acc``,
        ``status``, ``reason``."""
        settings = {trial.number: trial.settings for trial in self.plan}
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["trial", *self.searched, "val_acc", "status", "reason"])
        for result in self.ranked():
            writer.writerow([result.number,
                             *(show(settings[result.number].get(key)) for key in self.searched),
                             "" if result.val_acc is None else repr(result.val_acc),
                             result.status, result.reason])
        return text.getvalue()

    def finish(self, best_count: int = 5) -> dict[str, Any] | None:
        """Draw ``settings.png`` and ``best.png``, and measure the best trial's test accuracy,
        once; returns ``{"trial", "val_acc", "test_acc", "settings"}``, also kept in
        ``search.json`` (``None`` if no trial finished)."""
        from .. import plotting
        from ..apps.evaluate import evaluate

        finished = [result for result in self.ranked() if result.status == "finished"]
        if not finished:
            return None
        settings = {trial.number: trial.settings for trial in self.plan}
        plotting.plot_search_settings(self.out / "settings.png", [
            {"settings": settings[result.number], "val_acc": result.val_acc}
            for result in finished], self.searched)
        curves = []
        for result in finished[:best_count]:
            summary = json.loads((self.out / trial_dir(result.number) / "summary.json")
                                 .read_text(encoding="utf-8"))
            curves.append({"trial": result.number, "epoch_steps": summary["epoch_steps"],
                           "val_acc_list": summary["val_acc_list"]})
        plotting.plot_search_curves(self.out / "best.png", curves)
        best = finished[0]
        test = evaluate(self.out / trial_dir(best.number))  # the test set's only use
        chosen = {"trial": best.number, "val_acc": best.val_acc, "test_acc": test.accuracy,
                  "settings": settings[best.number]}
        state = json.loads((self.out / PLAN).read_text(encoding="utf-8"))
        with atomic_write(self.out / PLAN, "w") as file:
            json.dump({**state, "best": chosen}, file, indent=2)
        return chosen

    def _rows_on_disk(self) -> list[TrialResult]:
        try:
            text = (self.out / RESULTS).read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [TrialResult(int(row["trial"]), row["status"],
                            float(row["val_acc"]) if row["val_acc"] else None, row["reason"])
                for row in csv.DictReader(io.StringIO(text))]


def show(value: Any) -> str:
    """A setting as ``dvzero train`` takes it: ``100,100`` for a list of widths."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return "" if value is None else str(value)


def run_search(search: Search, client, on_result: Callable[[TrialResult], None]) -> None:
    """Run the search's pending trials on ``client``'s cluster, recording each as it comes
    back. A worker that dies mid-trial has its trial run again elsewhere (Dask's doing); a
    trial that fails by itself is recorded as failed. Ctrl-C cancels what is left."""
    from dask.distributed import as_completed

    token = uuid.uuid4().hex[:8]  # a resumed search's keys are new ones
    futures = {client.submit(run_trial, trial, key=f"dvzero-{trial_dir(trial.number)}-{token}",
                             pure=False): trial.number for trial in search.pending()}
    try:
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a trial's end, whatever ended it
                result = TrialResult(futures[future], "failed",
                                     reason=" ".join(f"{type(exc).__name__}: {exc}".split()))
            search.record(result)
            on_result(result)
    except BaseException:
        client.cancel(list(futures))
        raise


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: of ``workers`` local worker processes (one per core by default), each
    one thread, or of the cluster whose scheduler is at ``scheduler``."""
    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_SECONDS}s")
        except (OSError, TimeoutError, ValueError, TypeError) as exc:  # TypeError: tls:// alone
            raise DVZeroError(_("cannot reach the Dask scheduler at {address} within {seconds} "
                                "s ({reason}); is it running ('dask scheduler'), and is the "
                                "address right?").format(address=scheduler,
                                                         seconds=CONNECT_SECONDS,
                                                         reason=" ".join(str(exc).split()))
                              ) from None
        with client:
            yield client
        return
    from .._parallel import available_cores

    # Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536, which makes glibc give memory
    # back at every free: a training's many arrays of a mini-batch then cost 45% more time
    # (11.2 s against 7.7 s for the original post's job on the 2-core Xeon): left unset. Its
    # profiler samples the trials' stacks every 10 ms: off.
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                          "distributed.worker.profile.enabled": False}), \
            LocalCluster(n_workers=workers or available_cores(), threads_per_worker=1,
                         processes=True, dashboard_address=None,
                         silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client
