"""Train 784-100-100-100-100-10 (ReLU, He, Adam, 20 epochs) with dvzero and PyTorch, side by side.

    python benchmarks/bench_mlp.py [--repeats 1] [--epochs 20] [--torch-python PATH]

dvzero runs the README's command in a fresh process:

    dvzero train --net mlp --hidden 100,100,100,100 --activation relu --init he \\
                 --optimizer adam --lr 0.001 --epochs 20 [--lr-schedule cosine] [--batchnorm]

PyTorch (benchmarks/torch_mlp.py, run by --torch-python, a Python that has torch: dvzero
never imports it) trains the same network on the same bytes with the same settings: He
initialisation, Adam at 0.001, batches of 100 drawn with replacement, 600 steps an epoch,
the full training and test sets measured every epoch. Runs alternate between the two, and
the medians over --repeats are printed with the ratio of the training times. Takes about
2 minutes a repeat on 2 cores. ``--markdown DIR`` writes the table of medians there as
mlp.md and mlp.zh.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import (
    NO_TORCH,
    add_markdown_option,
    amount,
    cpu_model,
    int_at_least,
    write_mnist,
    write_snippet,
)

HERE = Path(__file__).resolve().parent
COMMAND = ["--net", "mlp", "--hidden", "100,100,100,100", "--activation", "relu", "--init",
           "he", "--optimizer", "adam", "--lr", "0.001"]
#: The rows of the Markdown table, in its order.
LABELS = {
    ("dvzero", "constant"): ("dvzero, constant learning rate", "dvzero，学习率不变"),
    ("dvzero", "cosine"): ("dvzero, `--lr-schedule cosine`", "dvzero，`--lr-schedule cosine`"),
    ("dvzero", "batchnorm"): ("dvzero, `--batchnorm`", "dvzero，`--batchnorm`"),
    ("torch", "constant"): ("PyTorch, constant learning rate", "PyTorch，学习率不变"),
    ("torch", "cosine"): ("PyTorch, cosine decay", "PyTorch，余弦衰减"),
}


def first_epoch_reaching(test_acc_list: list[float], level: float) -> int | None:
    """The first epoch after which the test accuracy reached ``level`` (index 0 = step 0)."""
    return next((epoch for epoch, acc in enumerate(test_acc_list) if acc >= level), None)


def run_dvzero(extra: list[str], epochs: int, seed: int, out: Path) -> dict:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dvzero.cli", "train", *COMMAND, "--epochs",
                    str(epochs), "--seed", str(seed), "--out", str(out), "--no-progress", *extra],
                   check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"test_acc": summary["test_acc"], "test_acc_list": summary["test_acc_list"],
            "train_seconds": summary["train_seconds"], "wall": wall}


def run_torch(python: str, data: Path, extra: list[str], epochs: int, seed: int) -> dict:
    start = time.perf_counter()
    result = subprocess.run([python, str(HERE / "torch_mlp.py"), str(data), "--epochs",
                             str(epochs), "--seed", str(seed), *extra],
                            check=True, capture_output=True, text=True)
    return {**json.loads(result.stdout.splitlines()[-1]), "wall": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int_at_least(1), default=1)
    parser.add_argument("--epochs", type=int_at_least(1), default=20)
    parser.add_argument("--torch-python", default=sys.executable,
                        help="a Python with PyTorch installed (default: this one); 'none' "
                        "skips PyTorch")
    add_markdown_option(parser)
    args = parser.parse_args()

    print(f"CPU: {cpu_model()}; Python {platform.python_version()}, NumPy {np.__version__}; "
          f"784-100x4-10 ReLU, He, Adam lr 0.001, batch 100, {args.epochs} epochs")
    workdir = Path(tempfile.mkdtemp(prefix="dvzero-bench-mlp-"))
    data = workdir / "mnist.npz"
    write_mnist(data)
    use_torch = args.torch_python != "none"
    cases = {"constant": [], "cosine": ["--lr-schedule", "cosine"], "batchnorm": ["--batchnorm"]}
    results: dict[tuple[str, str], list[dict]] = {}
    try:
        for repeat in range(args.repeats):
            seed = repeat + 1
            for name, extra in cases.items():
                ours = run_dvzero(extra, args.epochs, seed, workdir / f"{name}-{seed}")
                results.setdefault(("dvzero", name), []).append(ours)
                print(f"seed {seed}, dvzero {name}: test acc {ours['test_acc']:.4f}, training "
                      f"{ours['train_seconds']:.1f} s, command {ours['wall']:.1f} s", flush=True)
                if use_torch and name != "batchnorm":
                    theirs = run_torch(args.torch_python, data, extra, args.epochs, seed)
                    results.setdefault(("torch", name), []).append(theirs)
                    print(f"seed {seed}, PyTorch {theirs['torch']} {name} ({theirs['threads']} "
                          f"threads): test acc {theirs['test_acc']:.4f}, training "
                          f"{theirs['train_seconds']:.1f} s", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(results, args.repeats, use_torch)
    write_table(args.markdown, results, args.epochs, use_torch)


def medians(runs: list[dict]) -> tuple[float, float | None, float, float]:
    """The median test accuracy, epoch reaching 0.97 (None: never), training and command
    seconds of ``runs``."""
    epochs = [first_epoch_reaching(r["test_acc_list"], 0.97) for r in runs]
    reached = [e for e in epochs if e is not None]
    return (statistics.median(r["test_acc"] for r in runs),
            statistics.median(reached) if reached else None,
            statistics.median(r["train_seconds"] for r in runs),
            statistics.median(r["wall"] for r in runs))


def report(results: dict, repeats: int, use_torch: bool) -> None:
    print(f"\nmedians of {repeats} run(s):")
    print(f"{'':22} {'test acc':>9} {'epochs to 0.97':>15} {'training s':>11} {'command s':>10}")
    for (who, name), runs in results.items():
        test, epoch, training, wall = medians(runs)
        print(f"{who + ' ' + name:22} {test:9.4f} {'never' if epoch is None else epoch:>15} "
              f"{training:11.1f} {wall:10.1f}")
    if use_torch:
        for name in ("constant", "cosine"):
            ours = statistics.median(r["train_seconds"] for r in results[("dvzero", name)])
            theirs = statistics.median(r["train_seconds"] for r in results[("torch", name)])
            print(f"training time dvzero / PyTorch, {name}: {ours / theirs:.2f}")


def write_table(directory: Path | None, results: dict, epochs: int, use_torch: bool) -> None:
    """The medians as a Markdown snippet in ``directory``."""
    rows = []
    for key, label in LABELS.items():
        if key in results:
            test, epoch, training, _ = medians(results[key])
            reached = ("never", "未达到") if epoch is None else f"{epoch:g}"
            rows.append([label, f"{test:.4f}", reached, amount(f"{training:.1f}", "s")])
    write_snippet(directory, "mlp", [
        (f"784-100-100-100-100-10, ReLU, He, Adam, {epochs} epoch{'' if epochs == 1 else 's'}",
         f"784-100-100-100-100-10，ReLU，He，Adam，{epochs} 个 epoch"),
        ("test accuracy", "测试精度"), ("epochs to 0.97", "达到 0.97 所需的 epoch 数"),
        ("training time", "训练时间"),
    ], rows, note=None if use_torch else NO_TORCH)


if __name__ == "__main__":
    main()
