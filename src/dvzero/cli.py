"""The ``dvzero`` command: ``dvzero train`` and ``dvzero evaluate``.

This is the only module that prints or exits. Library errors (bad data, bad files, a
diverging run) become one clear line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import math
import os
import re
import sys
import textwrap
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import UsageError
from .runs import CHECKPOINT_NAME, RUN_FILES, check_settings, describe_data

POST_DEFAULTS = {
    "steps": 10000,
    "batch_size": 100,
    "lr": 0.1,
    "hidden": 50,
    "weight_init_std": 0.01,
    "activation": "sigmoid",
}

#: The values the run options take (the checkpoint of a run is checked against them too).
GRADIENTS = ("backprop", "numerical")
ACTIVATIONS = ("sigmoid", "relu")
DTYPES = ("float32", "float64")

EXIT_USAGE = 2
EXIT_FAILURE = 1

#: The files --data-dir expects, for the help.
DATA_FILES_HELP = ("train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                   "t10k-labels-idx1-ubyte, plain or .gz; Kaggle's names "
                   "(train-images.idx3-ubyte, ...) work too")


# --------------------------------------------------------------------------- parsing


def _number(convert, is_valid, requirement: str):
    """An argparse type: ``convert(text)``, which must satisfy ``is_valid``."""
    expected = "a whole number" if convert is int else "a number"

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not (math.isfinite(value) and is_valid(value)):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text}")
        return value

    return parse


_positive_int = _number(int, lambda value: value >= 1, "at least 1")
_seed = _number(int, lambda value: value >= 0, ">= 0")
_positive_float = _number(float, lambda value: value > 0, "a finite number > 0")
_non_negative_float = _number(float, lambda value: value >= 0, "a finite number >= 0")


def _path(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return Path(text)


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps at spaces only, so file names stay whole, and keeps the examples' layout."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return text
        return textwrap.fill(" ".join(text.split()), width, initial_indent=indent,
                             subsequent_indent=indent, break_on_hyphens=False)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (with a pointer to ``--help``)."""

    def error(self, message: str) -> None:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


MAIN_EXAMPLES = """\
examples:
  dvzero train                          train the original post's network (seconds)
  dvzero train --seed 1 --out runs/a    the same run, bit for bit, whenever seed 1 is given
  dvzero train --gradient numerical --steps 3
                                        the original post's slow method, with a time projection
  dvzero evaluate runs/a                test accuracy of a run, on the data it was trained on
  dvzero train --resume runs/a          continue an interrupted run
"""

TRAIN_EXAMPLES = """\
examples:
  dvzero train                                   the original post's settings
  dvzero train --hidden 100 --activation relu    a wider network with ReLU
  dvzero train --data-dir ~/fashion-mnist        any four IDX files in MNIST's format
  dvzero train --resume runs/a --lr 0.01         continue runs/a with a lower learning rate
"""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dvzero",
        description="DeepVision Zero: train and evaluate neural networks written from scratch "
        "in NumPy. 'The original post' is the Chinese blog post dvzero implements: a "
        "two-layer network that learns the MNIST digits.",
        epilog=MAIN_EXAMPLES,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dvzero {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    train = commands.add_parser(
        "train",
        help="train the original post's two-layer network on MNIST",
        description="Train DeepVisionZeroNet with the original post's settings (784-50-10, "
        "sigmoid, 10,000 steps of 100 random images, learning rate 0.1) unless told "
        "otherwise, and write a run directory with parameters, metrics, a summary and plots.",
        epilog=TRAIN_EXAMPLES,
        formatter_class=_HelpFormatter,
    )
    train.add_argument(
        "--gradient",
        choices=GRADIENTS,
        default=None,
        help="how gradients are computed: backpropagation, or the original post's numerical "
        "differentiation (very slow: the projected time is printed after the first step) "
        "(default: backprop)",
    )
    train.add_argument("--steps", type=_positive_int, default=None,
                       help=f"number of gradient-descent steps (default: {POST_DEFAULTS['steps']})")
    train.add_argument("--batch-size", type=_positive_int, default=None,
                       help="images per mini-batch, drawn at random with replacement "
                       f"(default: {POST_DEFAULTS['batch_size']})")
    train.add_argument("--lr", type=_positive_float, default=None,
                       help=f"learning rate (default: {POST_DEFAULTS['lr']}); may be given with "
                       "--resume to change it for the rest of the run")
    train.add_argument("--hidden", type=_positive_int, default=None,
                       help=f"neurons in the hidden layer (default: {POST_DEFAULTS['hidden']})")
    train.add_argument("--activation", choices=ACTIVATIONS, default=None,
                       help=f"hidden-layer activation (default: {POST_DEFAULTS['activation']})")
    train.add_argument("--weight-init-std", type=_non_negative_float, default=None,
                       help="standard deviation of the initial weights "
                       f"(default: {POST_DEFAULTS['weight_init_std']})")
    train.add_argument("--dtype", choices=DTYPES, default=None,
                       help="float type of the computation (default: float32 for backprop, "
                       "float64 for numerical gradients, which need the precision)")
    train.add_argument("--seed", type=_seed, default=None,
                       help="random seed; the same seed gives the same run bit for bit "
                       "(default: a fresh one, recorded in summary.json)")
    train.add_argument("--data-dir", type=_path, default=None,
                       help=f"directory with the four IDX files: {DATA_FILES_HELP} (default: "
                       "the MNIST copy shipped with dvzero)")
    train.add_argument("--out", type=_path, default=None,
                       help="run directory to write (default: runs/<timestamp>); nothing is "
                       "ever overwritten: a directory holding a run or any file a run writes "
                       "is refused")
    train.add_argument("--resume", type=_path, default=None, metavar="RUN_DIR",
                       help="continue an interrupted run from its checkpoint, with its own "
                       "settings (only --lr may be given, e.g. after a divergence); the result "
                       "is bit for bit that of an uninterrupted run")
    train.add_argument("--no-progress", action="store_true",
                       help="no progress bar (the per-epoch lines are still printed)")

    evaluate = commands.add_parser(
        "evaluate",
        help="print the test accuracy of a trained network",
        description="Rebuild a network from a run directory or a parameter file (.npz, or the "
        "original post's .pkl) and print its accuracy on a test set: the data the run was "
        "trained on, unless --data-dir names other data.",
        formatter_class=_HelpFormatter,
    )
    evaluate.add_argument("source", type=_path, metavar="RUN_DIR_OR_PARAMS",
                          help="a run directory written by 'dvzero train', or a parameter file")
    evaluate.add_argument("--data-dir", type=_path, default=None,
                          help=f"directory with the four IDX files: {DATA_FILES_HELP} (default: "
                          "the data the run was trained on, as its summary.json records; the "
                          "shipped MNIST for a parameter file outside a run directory)")
    return parser


# --------------------------------------------------------------------------- checks


def _check_data_dir(data_dir: Path | None) -> None:
    if data_dir is None:
        return
    if not data_dir.exists():
        raise UsageError(f"--data-dir {data_dir}: no such directory")
    if not data_dir.is_dir():
        raise UsageError(f"--data-dir {data_dir}: not a directory")
    if not os.access(data_dir, os.R_OK | os.X_OK):
        raise UsageError(f"--data-dir {data_dir}: permission denied")


def _prepare_run_dir(out: Path | None) -> tuple[Path, Path | None]:
    """Check (and create) the run directory before any long work.

    Returns ``(run_dir, created)``: ``created`` is the topmost directory that did not exist
    before (``None`` if ``run_dir`` did), so that a run failing before it writes anything
    can remove what it made.
    """
    if out is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("runs") / stamp
        suffix = 1
        while out.exists():
            suffix += 1
            out = Path("runs") / f"{stamp}-{suffix}"
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    if (out / "summary.json").exists():
        raise UsageError(
            f"--out {out}: already holds a finished run; choose another directory so that "
            f"nothing is overwritten"
        )
    if (out / CHECKPOINT_NAME).exists():
        raise UsageError(
            f"--out {out}: holds an interrupted run; continue it with "
            f"'dvzero train --resume {out}' or choose another directory"
        )
    existing = [name for name in RUN_FILES if (out / name).exists()]
    if existing:
        raise UsageError(
            f"--out {out}: would overwrite {', '.join(existing)}; choose another directory"
        )
    created = out
    while not created.parent.exists():
        created = created.parent  # the topmost directory this run creates
    if created.exists():
        created = None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create the directory ({exc.strerror})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: directory is not writable")
    return out, created


def _remove_if_empty(run_dir: Path, created: Path | None) -> None:
    """Remove ``run_dir`` and its parents up to ``created``, as long as they are empty."""
    if created is None:
        return
    directory = run_dir
    while True:
        try:
            directory.rmdir()  # only succeeds on an empty directory
        except OSError:
            return
        if directory == created or directory.parent == directory:
            return
        directory = directory.parent


def _lower_lr(lr: float) -> float:
    """A learning rate to suggest after a divergence: a tenth, at most the original post's 0.1."""
    return min(lr / 10, POST_DEFAULTS["lr"])


def _option(key: str) -> str:
    """The command-line option of a run setting: ``batch_size`` -> ``--batch-size``."""
    return f"--{key.replace('_', '-')}"


def _count(number: int, noun: str) -> str:
    """``1 step``, ``2 steps``."""
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _rate(steps: int, seconds: float) -> str:
    """Steps per second for fast runs (2 a second or more), seconds per step for slow ones."""
    if steps == 0 or seconds <= 0:
        return "no steps timed"
    if steps >= 2 * seconds:
        return f"{steps / seconds:.0f} steps/s"
    return f"{_format_duration(seconds / steps)} per step"


def _format_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


# --------------------------------------------------------------------------- train

#: The options that define a run; ``--resume`` takes them from the checkpoint.
RUN_OPTIONS = (
    "gradient", "steps", "batch_size", "lr", "hidden", "activation", "weight_init_std",
    "dtype", "seed", "data_dir", "out",
)
EXIT_SIGNALS = {"SIGINT": 130, "SIGTERM": 143}


def _run_config(args: argparse.Namespace) -> dict[str, Any]:
    """The run's settings from the command line, the original post's defaults filling the gaps."""
    import numpy as np

    gradient = args.gradient or "backprop"
    return {
        "gradient": gradient,
        "steps": args.steps or POST_DEFAULTS["steps"],
        "batch_size": args.batch_size or POST_DEFAULTS["batch_size"],
        "lr": args.lr if args.lr is not None else POST_DEFAULTS["lr"],
        "hidden": args.hidden or POST_DEFAULTS["hidden"],
        "activation": args.activation or POST_DEFAULTS["activation"],
        "weight_init_std": (args.weight_init_std if args.weight_init_std is not None
                            else POST_DEFAULTS["weight_init_std"]),
        "dtype": args.dtype or ("float64" if gradient == "numerical" else "float32"),
        "seed": (args.seed if args.seed is not None
                 else int(np.random.SeedSequence().entropy % 2**32)),
        "data_dir": None if args.data_dir is None else str(args.data_dir.resolve()),
    }


def _progress_callback(args: argparse.Namespace, config: dict[str, Any]):
    from tqdm import tqdm

    from .training import Callback

    total_steps = config["steps"]

    class Progress(Callback):
        """Progress bar, the original post's epoch lines, and the numerical-gradient projection."""

        def on_train_begin(self, trainer) -> None:
            self.bar = tqdm(
                total=total_steps,
                initial=trainer.next_step,
                unit="step",
                dynamic_ncols=True,
                disable=args.no_progress,
                file=sys.stderr,
            )
            self.step_start = time.perf_counter()

        def on_epoch_end(self, epoch: int, step: int, train_acc: float, test_acc: float) -> None:
            # The original post's line: "i  train acc, test acc | a, b"
            self.bar.write(f"{step}  train acc, test acc | {train_acc}, {test_acc}",
                           file=sys.stdout)

        def on_step_end(self, step: int, loss: float) -> None:
            if step == 0 and config["gradient"] == "numerical" and total_steps > 1:
                first = time.perf_counter() - self.step_start
                self.bar.write(
                    f"numerical gradient: the first step took {_format_duration(first)}; "
                    f"{total_steps} steps will take about {_format_duration(first * total_steps)}"
                    f" (backpropagation: try --gradient backprop)",
                    file=sys.stdout,
                )
            self.bar.update(1)
            if step % 50 == 0 or step == total_steps - 1:
                self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

        def on_train_end(self, history) -> None:
            self.bar.close()

    return Progress()


def _checkpoint_callback(save, every_seconds: float = 60.0):
    """Checkpoints: at the start, every epoch and every ``every_seconds`` (for slow runs).

    Only a healthy state is saved (see :meth:`~dvzero.training.Trainer.is_healthy`), so
    that after a divergence the checkpoint left is one worth continuing from.
    """
    from .training import Callback

    class Checkpoints(Callback):
        def on_train_begin(self, trainer) -> None:
            self.trainer = trainer
            if trainer.next_step == 0:
                save()  # the starting point: a diverging first epoch can restart from it
            self.last = time.monotonic()

        def save_if_healthy(self) -> None:
            if self.trainer.is_healthy():
                save()
            self.last = time.monotonic()

        def on_epoch_end(self, epoch: int, step: int, train_acc: float, test_acc: float) -> None:
            self.save_if_healthy()

        def on_step_end(self, step: int, loss: float) -> None:
            if time.monotonic() - self.last >= every_seconds:
                self.save_if_healthy()

    return Checkpoints()


class _StopOnSignal:
    """While active, SIGINT and SIGTERM ask the trainer to stop after the current step.

    A second signal gets the default behaviour back (Ctrl-C twice ends at once; the files
    are still whole, since every write is atomic).
    """

    def __init__(self, trainer) -> None:
        import signal

        self.signal = signal
        self.trainer = trainer
        self.received: str | None = None
        self.previous: dict[int, Any] = {}

    def _handle(self, signum, frame) -> None:
        self.received = self.signal.Signals(signum).name
        self.trainer.request_stop()
        for number, handler in self.previous.items():
            self.signal.signal(number, handler)
        if self.trainer.next_step < self.trainer.step_num:
            # A numerical step can take many seconds: say at once that the signal was heard.
            # os.write, not print: the signal may have interrupted a print to stderr, and
            # the buffered stream would refuse the reentrant call.
            message = (f"\n{self.received}: stopping after the step in progress "
                       f"(again to quit at once)\n")
            try:
                os.write(sys.stderr.fileno(), message.encode())
            except (AttributeError, OSError, ValueError):  # stderr is not a real file
                pass

    def __enter__(self) -> _StopOnSignal:
        for number in (self.signal.SIGINT, self.signal.SIGTERM):
            self.previous[number] = self.signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for number, handler in self.previous.items():
            self.signal.signal(number, handler)


def _load_resume(run_dir: Path):
    from . import storage
    from .errors import CheckpointError

    if not run_dir.is_dir():
        raise UsageError(f"--resume {run_dir}: no such run directory")
    if (run_dir / "summary.json").is_file():
        raise UsageError(f"--resume {run_dir}: this run has finished; nothing to resume")
    checkpoint = run_dir / CHECKPOINT_NAME
    if not checkpoint.is_file():
        raise UsageError(f"--resume {run_dir}: no {CHECKPOINT_NAME} in this directory")
    if not os.access(run_dir, os.W_OK | os.X_OK):
        raise UsageError(f"--resume {run_dir}: directory is not writable")
    # A process killed outright (SIGKILL, power loss) cannot remove the temporary file of a
    # write in progress; the real files are whole, so the leftovers can go.
    for name in (*RUN_FILES, CHECKPOINT_NAME):
        for leftover in run_dir.glob(f".{name}.*.tmp"):
            if re.fullmatch(rf"\.{re.escape(name)}\.[0-9a-f]{{8}}\.tmp", leftover.name):
                leftover.unlink(missing_ok=True)
    params, state, meta = storage.load_checkpoint(checkpoint)
    config = meta.get("run")
    if not isinstance(config, dict) or any(key not in config for key in CONFIG_CHECKS):
        raise CheckpointError(f"{checkpoint}: the run's settings are missing or incomplete")
    for key, valid in CONFIG_CHECKS.items():
        if not valid(config[key]):
            raise CheckpointError(f"{checkpoint}: the run's setting {key}={config[key]!r} is "
                                  f"not valid; the checkpoint was damaged or edited")
    for key in ("elapsed_seconds", "resumes"):
        if not _is_number(meta.get(key, 0)):
            raise CheckpointError(f"{checkpoint}: {key}={meta[key]!r} is not a number")
    return params, state, meta


def _is_int(value: Any, low: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


#: What each setting of a checkpointed run must look like.
CONFIG_CHECKS = {
    "gradient": lambda v: v in GRADIENTS,
    "steps": _is_int,
    "batch_size": _is_int,
    "lr": lambda v: _is_number(v) and v > 0,
    "hidden": _is_int,
    "activation": lambda v: v in ACTIVATIONS,
    "weight_init_std": _is_number,
    "dtype": lambda v: v in DTYPES,
    "seed": lambda v: _is_int(v, low=0),
    "data_dir": lambda v: v is None or isinstance(v, str),
}


def _load_data(config: dict[str, Any]):
    """The run's data, checked for what training needs, and its fingerprint."""
    from .data import load_mnist
    from .data.mnist import dataset_fingerprint
    from .errors import DataError

    data_dir = None if config["data_dir"] is None else Path(config["data_dir"])
    (x_train, t_train), (x_test, t_test) = load_mnist(
        normalize=True, one_hot_label=False, data_dir=data_dir
    )
    where = "the shipped MNIST" if data_dir is None else str(data_dir)
    if x_train.shape[0] == 0 or x_test.shape[0] == 0:
        raise DataError(f"{where}: {x_train.shape[0]} training and {x_test.shape[0]} test "
                        f"images; training needs at least one of each")
    if x_train.shape[1] == 0:
        raise DataError(f"{where}: the images have no pixels")
    dtype = config["dtype"]
    return ((x_train.astype(dtype, copy=False), t_train),
            (x_test.astype(dtype, copy=False), t_test), dataset_fingerprint(data_dir))


def command_train(args: argparse.Namespace, start: float) -> int:
    if args.resume is not None:
        given = [f"--{name.replace('_', '-')}" for name in RUN_OPTIONS
                 if name != "lr" and getattr(args, name) is not None]
        if given:
            raise UsageError(
                f"--resume continues a run with the settings it started with; leave out "
                f"{', '.join(given)} (only --lr may change, e.g. after a divergence)"
            )
        run_dir, created = args.resume, None
        params, state, meta = _load_resume(run_dir)
        config = dict(meta["run"])
        if args.lr is not None and args.lr != config["lr"]:
            config["lr_changes"] = [*config.get("lr_changes", []),
                                    {"step": state["next_step"], "lr": args.lr}]
            config["lr"] = args.lr
        previous_seconds = float(meta.get("elapsed_seconds", 0.0))
        resumes = int(meta.get("resumes", 0)) + 1
    else:
        _check_data_dir(args.data_dir)
        config = _run_config(args)
        check_settings(config, name=_option)  # refusals before any directory is made
        run_dir, created = _prepare_run_dir(args.out)
        params = state = meta = None
        previous_seconds, resumes = 0.0, 0

    import numpy as np

    from . import plotting, storage
    from .errors import CheckpointError, TrainingDiverged
    from .networks import DeepVisionZeroNet, fit_params
    from .optimizers import SGD
    from .training import Trainer

    checkpoint = run_dir / CHECKPOINT_NAME
    if state is None:
        print(f"dvzero {__version__}: training into {run_dir}")
    else:
        print(f"dvzero {__version__}: resuming {run_dir} at step {state['next_step']} "
              f"of {config['steps']}" + (f" with lr {args.lr}" if args.lr is not None else ""))
    try:
        (x_train, t_train), (x_test, t_test), fingerprint = _load_data(config)
    except BaseException:
        _remove_if_empty(run_dir, created)  # leave no empty run directory behind
        raise
    source = describe_data(config["data_dir"])
    print(f"data: {x_train.shape[0]} training and {x_test.shape[0]} test images of "
          f"{x_train.shape[1]} pixels ({source})")
    # A resumed run was checked when it began; one begun before a refusal still finishes.
    for warning in check_settings(config, train_size=x_train.shape[0], name=_option,
                                  refuse=state is None):
        print(f"dvzero train: warning: {warning}", file=sys.stderr)
    if meta is not None and meta.get("data_sha256") != fingerprint:
        raise CheckpointError(
            f"{checkpoint}: the data files differ from those the run was trained on "
            f"({source}); resuming on other data would not continue the same run"
        )

    seeds = np.random.SeedSequence(config["seed"]).spawn(2)
    network = DeepVisionZeroNet(
        input_size=x_train.shape[1],
        hidden_size=config["hidden"],
        output_size=10,
        weight_init_std=config["weight_init_std"],
        activation=config["activation"],
        dtype=config["dtype"],
        rng=np.random.default_rng(seeds[0]),
    )
    trainer = Trainer(
        network, x_train, t_train, x_test, t_test,
        step_num=config["steps"],
        batch_size=config["batch_size"],
        optimizer=SGD(lr=config["lr"]),
        gradient=config["gradient"],
        rng=np.random.default_rng(seeds[1]),
    )
    if state is not None:
        network.params = fit_params(params, network.params, str(checkpoint))
        try:
            trainer.load_state_dict(state)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{checkpoint}: does not fit the run ({exc})") from None

    session_start = time.perf_counter()

    def elapsed() -> float:
        return previous_seconds + time.perf_counter() - session_start

    def save_checkpoint() -> None:
        storage.save_checkpoint(
            checkpoint, network.params, trainer.state_dict(),
            {"run": config, "network": network.config(), "data_sha256": fingerprint,
             "elapsed_seconds": elapsed(), "resumes": resumes},
        )

    def save_metrics() -> None:
        history = trainer.history
        storage.save_metrics_csv(run_dir / "metrics.csv", history.train_loss_list,
                                 history.epoch_steps, history.train_acc_list,
                                 history.test_acc_list)

    # From here to the last file written, SIGINT and SIGTERM stop training cleanly after the
    # step in progress; once training is done they wait for the files to be complete.
    with _StopOnSignal(trainer) as stop:
        progress = _progress_callback(args, config)
        trainer.callbacks = [progress, _checkpoint_callback(save_checkpoint)]
        train_start = time.perf_counter()
        try:
            # A diverging run overflows on its way to NaN; the trainer reports it in one line.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                history = trainer.run()
        except TrainingDiverged as exc:
            progress.on_train_end(trainer.history)  # close the progress bar
            save_metrics()  # the losses up to the blow-up, for a look at what happened
            advice = ""
            if checkpoint.exists():
                _, kept, _ = storage.load_checkpoint(checkpoint)
                where = (f"the checkpoint after step {kept['next_step'] - 1}" if kept["next_step"]
                         else "the starting checkpoint")
                advice = (f" The last good checkpoint is kept; continue from {where} with "
                          f"'dvzero train --resume {run_dir} --lr {_lower_lr(config['lr']):g}'")
            print(f"dvzero train: error: {exc}{advice}", file=sys.stderr)
            return EXIT_FAILURE
        train_seconds = time.perf_counter() - train_start

        if trainer.stopped:
            save_metrics()
            stopped = (f"\nstopped by {stop.received} after step {trainer.next_step - 1} of "
                       f"{config['steps']}")
            if trainer.is_healthy():
                save_checkpoint()
                print(f"{stopped}; checkpoint saved in {checkpoint}.\n"
                      f"Resume with: dvzero train --resume {run_dir}", file=sys.stderr)
            else:  # do not replace the last good checkpoint with an exploding state
                print(f"{stopped}, with the loss exploding; the last good checkpoint is kept in "
                      f"{checkpoint}.\nResume from it with a lower learning rate: dvzero train "
                      f"--resume {run_dir} --lr {_lower_lr(config['lr']):g}", file=sys.stderr)
            return EXIT_SIGNALS.get(stop.received or "", 130)

        network.save_params(run_dir / "params.npz")
        network.save_params(run_dir / "params_two_layer.pkl")
        save_metrics()
        title = (f"{x_train.shape[1]}-{config['hidden']}-10 {config['activation']}, "
                 f"lr {config['lr']}")
        plotting.plot_accuracy(run_dir / "accuracy.png", history.train_acc_list,
                               history.test_acc_list, title=title)
        plotting.plot_loss(run_dir / "loss.png", history.train_loss_list, title=title)

        final_train_acc = network.accuracy(x_train, t_train)
        final_test_acc = network.accuracy(x_test, t_test)
        session_steps = config["steps"] - (state["next_step"] if state else 0)
        summary: dict[str, Any] = {
            "dvzero_version": __version__,
            "config": {
                "network": "DeepVisionZeroNet",
                **network.config(),
                "gradient": config["gradient"],
                "steps": config["steps"],
                "batch_size": config["batch_size"],
                "lr": config["lr"],
                "lr_changes": config.get("lr_changes", []),
                "optimizer": "SGD",
                "iter_per_epoch": trainer.iter_per_epoch,
                "seed": config["seed"],
                "data_dir": config["data_dir"],
                "dataset": "MNIST (shipped)" if config["data_dir"] is None else "IDX files",
                "data_sha256": fingerprint,
                "train_size": int(x_train.shape[0]),
                "test_size": int(x_test.shape[0]),
            },
            "train_acc": final_train_acc,
            "test_acc": final_test_acc,
            "final_loss": history.train_loss_list[-1] if history.train_loss_list else None,
            "epochs_evaluated": len(history.epoch_steps),
            "train_acc_list": history.train_acc_list,
            "test_acc_list": history.test_acc_list,
            "epoch_steps": history.epoch_steps,
            "train_seconds": train_seconds,
            "steps_per_second": session_steps / train_seconds if train_seconds > 0 else None,
            "wall_seconds": time.perf_counter() - start + previous_seconds,
            "resumes": resumes,
            "finished": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        storage.save_json(run_dir / "summary.json", summary)
        checkpoint.unlink(missing_ok=True)  # the run is complete
        print(f"final: train acc {final_train_acc:.4f}, test acc {final_test_acc:.4f}; "
              f"{_count(session_steps, 'step')} in {_format_duration(train_seconds)} "
              f"({_rate(session_steps, train_seconds)}), "
              f"{_format_duration(summary['wall_seconds'])} in all")
        print(f"wrote {run_dir}/: {', '.join(RUN_FILES)}")
        return 0


# --------------------------------------------------------------------------- evaluate


def command_evaluate(args: argparse.Namespace) -> int:
    _check_data_dir(args.data_dir)
    from .runs import evaluate

    result = evaluate(args.source, args.data_dir)
    why = {"given": "given with --data-dir", "run": "the data the run was trained on",
           "default": "the default; the file does not record its training data"}
    print(f"data: {result.test_size} test images of {result.input_size} pixels "
          f"({describe_data(result.data_dir)}: {why[result.origin]})")
    for warning in result.warnings:
        print(f"dvzero evaluate: warning: {warning}", file=sys.stderr)
    print(f"test acc {result.accuracy:.4f} ({result.test_size} images, {result.params_file})")
    return 0


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 on success)."""
    start = time.perf_counter()
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):
        parser.print_help(sys.stderr)  # a bare "dvzero": show what it can do
        raise SystemExit(EXIT_USAGE)
    args = parser.parse_args(argv)

    from .errors import DVZeroError

    previous_sigterm = _terminate_as_interrupt()
    try:
        with _one_line_warnings(args.command):
            if args.command == "train":
                return command_train(args, start)
            return command_evaluate(args)
    except _Terminated:
        print(f"\ndvzero {args.command}: terminated", file=sys.stderr)
        return EXIT_SIGNALS["SIGTERM"]
    except UsageError as exc:
        print(f"dvzero {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (DVZeroError, OSError, ValueError) as exc:
        # ValueError: the library's word for input it cannot use (shapes, labels, sizes).
        print(f"dvzero {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"\ndvzero {args.command}: interrupted", file=sys.stderr)
        return EXIT_SIGNALS["SIGINT"]
    finally:
        if previous_sigterm is not None:
            import signal

            signal.signal(signal.SIGTERM, previous_sigterm)


@contextlib.contextmanager
def _one_line_warnings(command: str) -> Iterator[None]:
    """Show dvzero's own warnings as ``dvzero COMMAND: warning: ...``.

    Which warnings are shown is left to Python's filters (``-W``, ``PYTHONWARNINGS``);
    warnings raised from other packages' code keep their usual form.
    """
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if os.path.abspath(filename).startswith(package):
            print(f"dvzero {command}: warning: {message}", file=sys.stderr)
        else:
            original(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        original = warnings.showwarning
        warnings.showwarning = show
        yield


class _Terminated(KeyboardInterrupt):
    """SIGTERM outside training: unwinds like Ctrl-C, so half-made run directories go."""


def _terminate_as_interrupt():
    """Make SIGTERM raise :class:`_Terminated`; returns the previous handler (or ``None``)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None  # signal handlers can only be set from the main thread

    def terminate(signum, frame):
        raise _Terminated()

    return signal.signal(signal.SIGTERM, terminate)


if __name__ == "__main__":
    sys.exit(main())
