"""The life of a training run in its directory, for any network and optimizer.

:meth:`Run.start` checks the settings and makes (or refuses) the directory;
:meth:`Run.resume` reopens an interrupted run from its checkpoint, with its checks;
:meth:`Run.load_data` and :meth:`Run.train` train with checkpoints (at the start, every
epoch, every minute of a slow run, and when stopped); :meth:`Run.finish` writes the
parameter files, metrics, summary and plots. Nothing here prints: the caller reports.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import storage
from .._i18n import _
from .._parallel import limit_threads
from .._version import __version__
from ..errors import CheckpointError, TrainingDiverged, UsageError
from ..networks import fit_params
from ..training import Callback, Trainer
from ..training.sampling import fixed_sample
from .checkpoints import checkpoint_callback
from .config import build_network, build_optimizer, check_settings, checked_saved, option, resolve
from .data import load_run_data, rows_of, validation_rows
from .directory import check_resumable, prepare_run_dir, remove_if_empty, remove_leftovers
from .files import CHECKPOINT_NAME, describe_data
from .lock import RunLock, check_unlocked
from .pictures import draw_curves, draw_filters, draw_test_pictures


@dataclass
class Outcome:
    """How :meth:`Run.train` ended: ``"finished"``, ``"stopped"`` or ``"diverged"``."""

    status: str
    #: The divergence, for ``"diverged"``.
    error: TrainingDiverged | None = None
    #: ``"stopped"``: whether the state at the stop was healthy and saved.
    saved: bool = False
    #: The step the kept checkpoint resumes at (0: the starting point), if one is kept.
    checkpoint_step: int | None = None
    #: A learning rate to continue with after a divergence: a tenth, at most 0.1.
    lower_lr: float | None = None


class Run:
    """One training run in its directory; see the module's description."""

    def __init__(self, run_dir: Path, config: dict[str, Any], *, created: Path | None = None,
                 resumed: tuple[dict, dict, dict] | None = None) -> None:
        self.run_dir, self.config, self.created = Path(run_dir), config, created
        self.checkpoint = self.run_dir / CHECKPOINT_NAME
        self._saved_params, self.saved_state, self._saved_meta = resumed or (None, None, {})
        self.previous_seconds = float(self._saved_meta.get("elapsed_seconds", 0.0))
        self.resumes = int(self._saved_meta.get("resumes", 0)) + (resumed is not None)
        self.trainer: Trainer | None = None
        self.files: list[str] = []
        #: This process's lock on the directory (see :mod:`dvzero.runs.lock`).
        self.lock: RunLock | None = None
        #: Warnings from opening the run, for the user (given back by :meth:`load_data`).
        self.notes: list[str] = []

    def release(self) -> None:
        """Let go of the directory's lock, so that another process may resume the run."""
        if self.lock is not None:
            self.lock.release()

    # ------------------------------------------------------------------ opening

    @classmethod
    def start(cls, given: Mapping[str, Any], out: Path | None = None) -> Run:
        """A new run: settings completed and checked, then the directory made."""
        config = resolve(given)
        check_settings(config, name=option)  # refusals before any directory is made
        if out is not None and Path(out).is_dir():
            check_unlocked(Path(out))  # a run in progress there: say so, before the rest
        run_dir, created = prepare_run_dir(out)
        notes: list[str] = []
        try:
            lock = RunLock.acquire(run_dir, notes)
        except BaseException:
            remove_if_empty(run_dir, created)
            raise
        run = cls(run_dir, config, created=created)
        run.lock, run.notes = lock, notes
        return run

    @classmethod
    def resume(cls, run_dir: Path, lr: float | None = None) -> Run:
        """An interrupted run, from its checkpoint; ``lr`` changes the learning rate."""
        run_dir = Path(run_dir)
        check_resumable(run_dir)  # refusals first: not a run, finished, not writable
        notes: list[str] = []
        lock = RunLock.acquire(run_dir, notes)
        try:
            remove_leftovers(run_dir)  # now that no other process can be writing
            run = cls._resume(run_dir, lr)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        run.lock, run.notes = lock, notes
        return run

    @classmethod
    def _resume(cls, run_dir: Path, lr: float | None) -> Run:
        checkpoint = check_resumable(run_dir)
        params, state, meta = storage.load_checkpoint(checkpoint)
        try:
            config = checked_saved(meta.get("run"), str(checkpoint))
        except ValueError as exc:
            raise CheckpointError(str(exc)) from None
        for key in ("elapsed_seconds", "resumes"):
            value = meta.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    math.isfinite(value) and value >= 0):
                raise CheckpointError(_("{checkpoint}: {key}={value!r} is not a number")
                                      .format(checkpoint=checkpoint, key=key, value=value))
        if lr is not None and lr != config["lr"]:
            config["lr_changes"] = [*config["lr_changes"], {"step": state["next_step"], "lr": lr}]
            config["lr"] = lr
        return cls(run_dir, config, resumed=(params, state, meta))

    @property
    def next_step(self) -> int:
        """The step training continues with: 0 for a new run."""
        return self.saved_state["next_step"] if self.saved_state else 0

    def load_data(self) -> list[str]:
        """Load and split the data, build the network and trainer; returns the warnings. A
        new run that fails here removes the directory it made; a resumed run refuses data
        files that differ from those it was trained on."""
        try:
            return self.notes + self._load_data()
        except BaseException:
            self.release()
            remove_if_empty(self.run_dir, self.created)  # leave no empty run directory behind
            raise

    def _load_data(self) -> list[str]:
        config = self.config
        (x_train, t_train), (x_test, t_test), self.fingerprint = load_run_data(config)
        if self.saved_state is not None and self._saved_meta.get("data_sha256") != self.fingerprint:
            raise CheckpointError(_("{checkpoint}: the data files differ from those the run was "
                                    "trained on ({data}); resuming on other data would not "
                                    "continue the same run")
                                  .format(checkpoint=self.checkpoint,
                                          data=describe_data(config["data_dir"])))
        self.input_size = x_train[0].size
        seeds = np.random.SeedSequence(config["seed"]).spawn(3)  # the third: validation_rows
        #: The test set, and the validation set if the run keeps one.
        self.test, self.val = (x_test, t_test), None
        if config["val_split"]:
            if x_train.shape[0] < 2:
                raise UsageError(_("--val-split: {count} training image leaves none to train "
                                   "on or none to validate with; it needs 2")
                                 .format(count=x_train.shape[0]))
            val, kept = validation_rows(x_train.shape[0], config["val_split"], config["seed"])
            self.val = rows_of(x_train, val), t_train[val]
            x_train, t_train = rows_of(x_train, kept), t_train[kept]
        self.train_size = len(x_train)
        network = build_network(config, x_train.shape[1:], 10, np.random.default_rng(seeds[0]))
        rng = np.random.default_rng(seeds[1])
        evaluate = {"train": fixed_sample(x_train, t_train, config["train_eval_sample"], rng),
                    **({"test": self.test} if config["measure_test"] else {}),
                    **({"val": self.val} if self.val else {})}
        self.trainer = Trainer(
            network, x_train, t_train, evaluate,
            step_num=config["steps"] or 1,
            batch_size=config["batch_size"],
            optimizer=build_optimizer(config),
            gradient="structured" if config["numerical"] == "structured" else config["gradient"],
            rng=rng,
            sampling=config["sampling"],
            lr_schedule=config["lr_schedule"],
        )
        if config["steps"] is None:  # --epochs: now the length of an epoch is known
            config["steps"] = config["epochs"] * self.trainer.iter_per_epoch
            self.trainer.step_num = config["steps"]
        if self.saved_state is not None:
            self._restore(network)
        return check_settings(config, train_size=self.train_size, name=option,
                              refuse=self.saved_state is None)

    @property
    def held_out(self) -> tuple[str, tuple[Any, Any]]:
        """The labelled images the pictures of the network's answers are drawn on, and their
        name: the test set, or the validation set of a run that does not measure the test
        set (a search's trial)."""
        return ("test", self.test) if self.config["measure_test"] else ("validation", self.val)

    def _restore(self, network: Any) -> None:
        # The parameters; the running averages come back with the trainer's state.
        network.params = fit_params(self._saved_params, network.params, str(self.checkpoint))
        try:
            self.trainer.load_state_dict(self.saved_state)
            for name, arrays in self.trainer.optimizer.state.items():
                for key, array in arrays.items():
                    if key not in network.params or array.shape != network.params[key].shape:
                        raise ValueError(_("the optimizer's {name}/{key} has shape {shape}, "
                                           "which fits no parameter")
                                         .format(name=name, key=key, shape=array.shape))
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(_("{checkpoint}: does not fit the run ({reason})")
                                  .format(checkpoint=self.checkpoint, reason=exc)) from None

    # ------------------------------------------------------------------ training

    def elapsed(self) -> float:
        """Seconds of work on this run, earlier sessions included."""
        return self.previous_seconds + time.perf_counter() - self._session_start

    def save_checkpoint(self) -> None:
        trainer = self.trainer
        storage.save_checkpoint(self.checkpoint, trainer.network.params, trainer.state_dict(),
                                {"run": self.config, "network": trainer.network.config(),
                                 "data_sha256": self.fingerprint,
                                 "elapsed_seconds": self.elapsed(), "resumes": self.resumes})

    def save_metrics(self) -> None:
        history = self.trainer.history
        storage.save_metrics_csv(self.run_dir / "metrics.csv", history.train_loss_list,
                                 history.epoch_steps, history.train_acc_list, history.test_acc_list)

    def wrote(self, exc: OSError) -> bool:
        """Whether ``exc`` came from writing a file of this run's directory."""
        if not exc.filename:
            return False
        try:
            return Path(os.fsdecode(exc.filename)).resolve().parent == self.run_dir.resolve()
        except (OSError, TypeError, ValueError):
            return False

    def write_error(self, exc: OSError) -> str:
        """What a failure to write the run directory (a full disk, a permission taken
        away, a read-only file system) means for the run, in one line: the file, the
        checkpoint kept, and how to finish once the cause is gone."""
        what = _("could not write {file}: {reason}").format(
            file=exc.filename or _("a file of the run"), reason=exc.strerror or exc)
        try:
            done = storage.load_checkpoint(self.checkpoint)[1]["next_step"]
        except (OSError, ValueError, KeyError, TypeError):
            return _("{failure}; no checkpoint could be kept, so the run must start "
                     "again").format(failure=what)
        return _("{failure}; the last checkpoint ({done} of {steps} steps done) is kept in "
                 "{checkpoint}; once the cause is fixed (free space, give write permission "
                 "back), finish the run with 'dvzero train --resume {run_dir}'").format(
            failure=what, done=done, steps=self.config["steps"], checkpoint=self.checkpoint,
            run_dir=self.run_dir)

    def request_stop(self) -> None:
        """Ask training to stop after the step in progress (safe from a signal handler)."""
        self.trainer.request_stop()

    def train(self, callbacks: Sequence[Callback] = (), beside: bool = False) -> Outcome:
        """Train to the end, or until stopped or diverged, with checkpoints on the way. With
        ``beside``, what the training only measures runs on a second thread where that pays
        (backprop or autograd, two threads or more, a network whose ``measured_beside`` says
        so). A run that stops here lets go of its directory's lock (a finished one, in
        :meth:`finish`)."""
        by_gradient = self.config["gradient"] in ("backprop", "autograd")
        beside = beside and self.trainer.network.measured_beside and by_gradient and \
            (self.config["threads"] or 1) > 1
        try:
            outcome = self._train(callbacks, beside)
        except BaseException:
            self.release()
            raise
        if outcome.status != "finished":
            self.release()
        return outcome

    def threads(self):
        """A ``with`` block on the run's threads: as parts of its network's work, or BLAS's."""
        return limit_threads(self.config["threads"], self.trainer.network.splits_work)

    def _train(self, callbacks: Sequence[Callback], beside: bool) -> Outcome:
        self._session_start = time.perf_counter()
        trainer = self.trainer
        lower_lr = min(self.config["lr"] / 10, 0.1)
        try:
            # A diverging run overflows on its way to NaN; the trainer reports it in one line.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"), self.threads():
                trainer.run([*callbacks, checkpoint_callback(self.save_checkpoint)], beside)
        except TrainingDiverged as exc:
            for callback in callbacks:
                callback.on_train_end(trainer.history)  # close a progress bar
            self.save_metrics()  # the losses up to the blow-up, for a look at what happened
            kept = (storage.load_checkpoint(self.checkpoint)[1]["next_step"]
                    if self.checkpoint.exists() else None)
            return Outcome("diverged", error=exc, checkpoint_step=kept, lower_lr=lower_lr)
        self.train_seconds = time.perf_counter() - self._session_start
        if not trainer.stopped:
            return Outcome("finished")
        self.save_metrics()
        if trainer.is_healthy():
            self.save_checkpoint()
            return Outcome("stopped", saved=True, checkpoint_step=trainer.next_step)
        # Do not replace the last good checkpoint with an exploding state.
        return Outcome("stopped", saved=False, lower_lr=lower_lr)

    # ------------------------------------------------------------------ finishing

    def finish(self, start: float | None = None) -> dict[str, Any]:
        """Write the parameter files, metrics, plots and summary; returns the summary.

        ``start`` (a :func:`time.perf_counter` value) is when the command began, for the
        summary's ``wall_seconds``. Once the summary has the final accuracies, the trainer
        lets go of the training images (see :meth:`Trainer.release_training_data`).
        """
        trainer, config = self.trainer, self.config
        network, history = trainer.network, trainer.history
        hidden = config["hidden"] if isinstance(config["hidden"], list) else [config["hidden"]]
        shape = f"{'-'.join(map(str, [self.input_size, *hidden, 10]))} {config['activation']}"
        if network.takes_images:  # its convolutions are its class's; the rest is set
            shape = f"{'x'.join(map(str, trainer.x_train.shape[1:]))} images, affine {hidden[0]}"
        title = f"{network.name} {shape}, {config['optimizer']} lr {config['lr']}"
        with self.threads():
            summary = self._summary(start)  # first: if it fails, it fails before any file
            trainer.release_training_data()
            self.files = ["params.npz"]
            if network.post_params_file:
                self.files.append(network.post_params_file)
            for name in self.files:
                network.save_params(self.run_dir / name)
            self.save_metrics()
            self.files += draw_filters(self.run_dir, network, config["seed"], title)
            curves = draw_curves(self.run_dir, summary, history.train_loss_list, title)
            held_out, (x_held, t_held) = self.held_out
            pictures = draw_test_pictures(self.run_dir, network, x_held, t_held, title, held_out)
            storage.save_json(self.run_dir / "summary.json", summary)
            self.files += ["metrics.csv", "summary.json", *curves, *pictures]
            self.checkpoint.unlink(missing_ok=True)  # the run is complete
            self.release()
            return summary

    def _summary(self, start: float | None) -> dict[str, Any]:
        trainer, config = self.trainer, self.config
        network, history = trainer.network, trainer.history
        session_steps = config["steps"] - self.next_step
        x_test, t_test = self.test
        summary: dict[str, Any] = {
            "dvzero_version": __version__,
            "config": {
                "network": network.name, **network.config(),
                **{key: config[key] for key in (
                    "net", "gradient", "numerical", "threads", "steps", "epochs", "batch_size",
                    "lr", "lr_changes", "lr_schedule", "sampling", "val_split",
                    "train_eval_sample", "seed", "data_dir")},
                # a search's trial says that it left the test set unmeasured; other runs, nothing
                **({} if config["measure_test"] else {"measure_test": False}),
                "optimizer": type(trainer.optimizer).__name__,
                "iter_per_epoch": trainer.iter_per_epoch,
                "loss_recorded": ("after the update, on the same batch"
                                  if trainer.loss_after_update
                                  else "in the forward pass that gave the gradient"),
                "dataset": "MNIST (shipped)" if config["data_dir"] is None else "IDX files",
                "data_sha256": self.fingerprint,
                "train_size": int(self.train_size),
                "test_size": int(x_test.shape[0]),
                "val_size": len(self.val[0]) if self.val else 0,
            },
            "train_acc": network.accuracy(trainer.x_train, trainer.t_train),
            "test_acc": network.accuracy(x_test, t_test) if config["measure_test"] else None,
            "final_loss": history.train_loss_list[-1] if history.train_loss_list else None,
            "epochs_evaluated": len(history.epoch_steps),
            "train_acc_list": history.train_acc_list,
            "test_acc_list": history.test_acc_list,
            "epoch_steps": history.epoch_steps,
            "train_seconds": self.train_seconds,
            "steps_per_second": (session_steps / self.train_seconds
                                 if self.train_seconds > 0 else None),
            "wall_seconds": (time.perf_counter() - (start or self._session_start)
                             + self.previous_seconds),
            "resumes": self.resumes,
            "finished": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        if self.val:
            summary["val_acc"] = network.accuracy(*self.val)
            summary["val_acc_list"] = history.val_acc_list
        return summary
