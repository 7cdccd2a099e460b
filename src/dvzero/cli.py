"""The ``dvzero`` command: ``dvzero train`` and ``dvzero evaluate``.

This is the only module that prints or exits. Library errors (bad data, bad files, a
diverging run) become one clear line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._version import __version__

SEED_DEFAULTS = {
    "steps": 10000,
    "batch_size": 100,
    "lr": 0.1,
    "hidden": 50,
    "weight_init_std": 0.01,
    "activation": "sigmoid",
}

EXIT_USAGE = 2
EXIT_FAILURE = 1


class UsageError(Exception):
    """A command-line argument is out of range or names an unusable path."""


# --------------------------------------------------------------------------- parsing


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (with a pointer to ``--help``)."""

    def error(self, message: str) -> None:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dvzero",
        description="DeepVision Zero: train and evaluate neural networks written from scratch "
        "in NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"dvzero {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    train = commands.add_parser(
        "train",
        help="train the seed's two-layer network on MNIST",
        description="Train DeepVisionZeroNet with the seed's settings (784-50-10, sigmoid, "
        "10,000 steps of 100 random images, learning rate 0.1) unless told otherwise, and "
        "write a run directory with parameters, metrics, a summary and plots.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    train.add_argument(
        "--gradient",
        choices=("backprop", "numerical"),
        default="backprop",
        help="how gradients are computed: backpropagation, or the seed's numerical "
        "differentiation (very slow: the projected time is printed after the first step)",
    )
    train.add_argument("--steps", type=_positive_int, default=SEED_DEFAULTS["steps"],
                       help="number of gradient-descent steps")
    train.add_argument("--batch-size", type=_positive_int, default=SEED_DEFAULTS["batch_size"],
                       help="images per mini-batch (drawn at random, with replacement)")
    train.add_argument("--lr", type=_positive_float, default=SEED_DEFAULTS["lr"],
                       help="learning rate")
    train.add_argument("--hidden", type=_positive_int, default=SEED_DEFAULTS["hidden"],
                       help="neurons in the hidden layer")
    train.add_argument("--activation", choices=("sigmoid", "relu"),
                       default=SEED_DEFAULTS["activation"], help="hidden-layer activation")
    train.add_argument("--weight-init-std", type=_non_negative_float,
                       default=SEED_DEFAULTS["weight_init_std"],
                       help="standard deviation of the initial weights")
    train.add_argument("--dtype", choices=("float32", "float64"), default=None,
                       help="float type of the computation (default: float32 for backprop, "
                       "float64 for numerical gradients, which need the precision)")
    train.add_argument("--seed", type=_seed, default=None,
                       help="random seed; the same seed gives the same run bit for bit "
                       "(default: a fresh one, recorded in summary.json)")
    train.add_argument("--data-dir", type=Path, default=None,
                       help="directory with the four MNIST-format IDX files (default: the "
                       "MNIST copy shipped with dvzero)")
    train.add_argument("--out", type=Path, default=None,
                       help="run directory to write (default: runs/<timestamp>)")
    train.add_argument("--no-progress", action="store_true",
                       help="no progress bar (the per-epoch lines are still printed)")

    evaluate = commands.add_parser(
        "evaluate",
        help="print the test accuracy of a trained network",
        description="Rebuild a network from a run directory or a parameter file (.npz or the "
        "seed's .pkl) and print its accuracy on the test set.",
    )
    evaluate.add_argument("source", type=Path, metavar="RUN_DIR_OR_PARAMS",
                          help="a run directory written by 'dvzero train', or a parameter file")
    evaluate.add_argument("--data-dir", type=Path, default=None,
                          help="directory with the four MNIST-format IDX files")
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


def _prepare_run_dir(out: Path | None) -> Path:
    """Create (and check) the run directory before any long work starts."""
    if out is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("runs") / stamp
        suffix = 1
        while out.exists():
            suffix += 1
            out = Path("runs") / f"{stamp}-{suffix}"
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    if out.is_dir() and any((out / name).exists() for name in ("summary.json", "params.npz")):
        raise UsageError(
            f"--out {out}: already holds a finished run; choose another directory so that "
            f"nothing is overwritten"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create the directory ({exc.strerror})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: directory is not writable")
    return out


def _format_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


# --------------------------------------------------------------------------- train


def _progress_callback(args: argparse.Namespace, total_steps: int, start: float):
    from tqdm import tqdm

    from .training import Callback

    class Progress(Callback):
        """Progress bar, the seed's epoch lines, and the numerical-gradient projection."""

        def __init__(self) -> None:
            self.bar = tqdm(
                total=total_steps,
                unit="step",
                dynamic_ncols=True,
                disable=args.no_progress,
                file=sys.stderr,
            )
            self.step_start = time.perf_counter()

        def on_epoch_end(self, epoch: int, step: int, train_acc: float, test_acc: float) -> None:
            # The seed's line: "i  train acc, test acc | a, b"
            self.bar.write(f"{step}  train acc, test acc | {train_acc}, {test_acc}",
                           file=sys.stdout)

        def on_step_end(self, step: int, loss: float) -> None:
            if step == 0 and args.gradient == "numerical":
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


def command_train(args: argparse.Namespace, start: float) -> int:
    _check_data_dir(args.data_dir)
    run_dir = _prepare_run_dir(args.out)

    import numpy as np

    from . import plotting, storage
    from .data import load_mnist
    from .networks import DeepVisionZeroNet
    from .optimizers import SGD
    from .training import Trainer

    dtype = args.dtype or ("float64" if args.gradient == "numerical" else "float32")
    seed = args.seed if args.seed is not None else int(np.random.SeedSequence().entropy % 2**32)
    print(f"dvzero {__version__}: training into {run_dir}")

    (x_train, t_train), (x_test, t_test) = load_mnist(
        normalize=True, one_hot_label=False, data_dir=args.data_dir
    )
    x_train = x_train.astype(dtype, copy=False)
    x_test = x_test.astype(dtype, copy=False)
    source = "MNIST, shipped with dvzero" if args.data_dir is None else args.data_dir
    print(f"data: {x_train.shape[0]} training and {x_test.shape[0]} test images of "
          f"{x_train.shape[1]} pixels ({source})")

    seeds = np.random.SeedSequence(seed).spawn(2)
    network = DeepVisionZeroNet(
        input_size=x_train.shape[1],
        hidden_size=args.hidden,
        output_size=10,
        weight_init_std=args.weight_init_std,
        activation=args.activation,
        dtype=dtype,
        rng=np.random.default_rng(seeds[0]),
    )
    trainer = Trainer(
        network, x_train, t_train, x_test, t_test,
        step_num=args.steps,
        batch_size=args.batch_size,
        optimizer=SGD(lr=args.lr),
        gradient=args.gradient,
        rng=np.random.default_rng(seeds[1]),
        callbacks=[_progress_callback(args, args.steps, start)],
    )
    train_start = time.perf_counter()
    # A diverging run overflows on its way to NaN; the loss check reports it in one line.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        history = trainer.run()
    train_seconds = time.perf_counter() - train_start

    network.save_params(run_dir / "params.npz")
    network.save_params(run_dir / "params_two_layer.pkl")
    storage.save_metrics_csv(
        run_dir / "metrics.csv",
        history.train_loss_list,
        history.epoch_steps,
        history.train_acc_list,
        history.test_acc_list,
    )
    title = f"{x_train.shape[1]}-{args.hidden}-10 {args.activation}, lr {args.lr}"
    plotting.plot_accuracy(run_dir / "accuracy.png", history.train_acc_list,
                           history.test_acc_list, title=title)
    plotting.plot_loss(run_dir / "loss.png", history.train_loss_list, title=title)

    final_train_acc = network.accuracy(x_train, t_train)
    final_test_acc = network.accuracy(x_test, t_test)
    wall_seconds = time.perf_counter() - start
    summary: dict[str, Any] = {
        "dvzero_version": __version__,
        "config": {
            "network": "DeepVisionZeroNet",
            **network.config(),
            "gradient": args.gradient,
            "steps": args.steps,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "optimizer": "SGD",
            "iter_per_epoch": trainer.iter_per_epoch,
            "seed": seed,
            "data_dir": None if args.data_dir is None else str(args.data_dir.resolve()),
            "dataset": "MNIST (shipped)" if args.data_dir is None else "IDX files",
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
        "steps_per_second": args.steps / train_seconds if train_seconds > 0 else None,
        "wall_seconds": wall_seconds,
        "finished": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    storage.save_json(run_dir / "summary.json", summary)
    print(f"final: train acc {final_train_acc:.4f}, test acc {final_test_acc:.4f}; "
          f"{args.steps} steps in {train_seconds:.1f} s "
          f"({args.steps / train_seconds:.0f} steps/s), {wall_seconds:.1f} s in all")
    print(f"wrote {run_dir}/: params.npz, params_two_layer.pkl, metrics.csv, summary.json, "
          f"accuracy.png, loss.png")
    return 0


# --------------------------------------------------------------------------- evaluate


def command_evaluate(args: argparse.Namespace) -> int:
    _check_data_dir(args.data_dir)
    source: Path = args.source
    if source.is_dir():
        candidates = [source / "params.npz", source / "params_two_layer.pkl"]
        found = [path for path in candidates if path.is_file()]
        if not found:
            raise UsageError(f"{source}: no params.npz or params_two_layer.pkl in this directory")
        source = found[0]
    elif not source.exists():
        raise UsageError(f"{source}: no such file or directory")

    from .data import load_mnist
    from .networks import load_network

    network = load_network(source)
    _, (x_test, t_test) = load_mnist(normalize=True, data_dir=args.data_dir)
    if x_test.shape[1] != network.input_size:
        raise UsageError(
            f"{source}: the network takes {network.input_size} inputs but the test images "
            f"have {x_test.shape[1]} pixels"
        )
    accuracy = network.accuracy(x_test.astype(network.dtype, copy=False), t_test)
    print(f"test acc {accuracy:.4f} ({x_test.shape[0]} images, {source})")
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

    try:
        if args.command == "train":
            return command_train(args, start)
        return command_evaluate(args)
    except UsageError as exc:
        print(f"dvzero {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (DVZeroError, OSError) as exc:
        print(f"dvzero {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"\ndvzero {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
