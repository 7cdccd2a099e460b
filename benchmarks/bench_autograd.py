"""Autograd against the hand-written layers: the original post's job, a step, and a CNN.

    python benchmarks/bench_autograd.py [--repeats 5] [--cnn-repeats 1]

1. The original post's job, ``dvzero train --seed K`` with ``--gradient backprop`` and
   ``--gradient autograd``, each in a fresh process, alternating (backprop, autograd,
   backprop, ...) so that drifts in the machine's speed hit both alike: the wall time of the
   whole command and the peak resident memory, measured from outside, and the test
   accuracy. Prints each pair, the medians and the ratios autograd / backprop (the median
   of the pairs' ratios too). About 15 s a pair on a 2-core machine.
2. One step of the original post's network (784-50-10, a batch of 100, the gradient and
   the SGD update), in this process: the layers and autograd in float32, the structured
   numerical gradient in float64, and the original post's loop (timed on a part and
   extrapolated), the four ways ``dvzero bench`` times.
3. With ``--cnn-repeats N`` (default 1; 0 skips it): ``dvzero train --net cnn --epochs 2``
   both ways, alternating, N pairs: the training's own seconds (from ``summary.json``) and
   the whole command. About 2 minutes a pair.
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
from pathlib import Path

import numpy as np

from dvzero.apps.bench import step_seconds

from common import cpu_model, int_at_least, measured, spread

GRADIENTS = ("backprop", "autograd")


def run(command: list[str], out: Path) -> dict:
    """``command --out out``: the wall time, the peak memory and the run's summary."""
    wall, peak = measured([*command, "--out", str(out)])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    shutil.rmtree(out)
    return {"wall": wall, "peak": peak, "test": summary["test_acc"],
            "training": summary["train_seconds"]}


def side_by_side(label: str, command: list[str], repeats: int, workdir: Path) -> None:
    """Run ``command`` with each gradient in turn, ``repeats`` pairs; print the figures."""
    runs: dict[str, list[dict]] = {gradient: [] for gradient in GRADIENTS}
    for repeat in range(repeats):
        for gradient in GRADIENTS:
            figures = run([*command, "--gradient", gradient], workdir / f"{gradient}{repeat}")
            runs[gradient].append(figures)
            print(f"{label}, pair {repeat + 1}, {gradient:8}: {figures['wall']:6.2f} s wall, "
                  f"training {figures['training']:6.2f} s, peak {figures['peak']:4.0f} MiB, "
                  f"test acc {figures['test']:.4f}", flush=True)
    for gradient, figures in runs.items():
        spreads = {key: spread([run[key] for run in figures], digits)
                   for key, digits in (("wall", 2), ("training", 2), ("peak", 0), ("test", 4))}
        print(f"{label}, {gradient}, median (range) of {repeats}: wall {spreads['wall']} s, "
              f"training {spreads['training']} s, peak {spreads['peak']} MiB, test acc "
              f"{spreads['test']}")
    for what, key in (("whole command", "wall"), ("training", "training"),
                      ("peak memory", "peak")):
        ours, theirs = ([figures[key] for figures in runs[gradient]] for gradient in
                        ("autograd", "backprop"))
        ratio = statistics.median(ours) / statistics.median(theirs)
        pairs = statistics.median(a / b for a, b in zip(ours, theirs, strict=True))
        print(f"{label}, autograd / backprop, {what}: {ratio:.2f} (median of the pairs' "
              f"ratios {pairs:.2f})")
    pairs = zip(runs["autograd"], runs["backprop"], strict=True)
    gap = max(abs(a["test"] - b["test"]) for a, b in pairs)
    print(f"{label}, largest test accuracy difference in a pair: {gap:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int_at_least(1), default=5,
                        help="pairs of the original post's job (default: 5)")
    parser.add_argument("--cnn-repeats", type=int_at_least(0), default=1,
                        help="pairs of the 2-epoch SimpleConvNet run (default: 1; 0: none)")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-c", "import dvzero; dvzero.load_mnist()"], check=True)
    print(f"CPU: {cpu_model()}; Python {platform.python_version()}; NumPy {np.__version__}")
    train = [sys.executable, "-m", "dvzero.cli", "train", "--no-progress", "--seed", "1"]
    workdir = Path(tempfile.mkdtemp(prefix="dvzero-bench-"))
    try:
        side_by_side("the original post's job", train, args.repeats, workdir)
        print("one step, 784-50-10, batch 100, gradient and update:")
        for method, dtype in (("backprop", np.float32), ("autograd", np.float32),
                              ("structured", np.float64), ("naive", np.float64)):
            seconds, timed = step_seconds(method, dtype)
            note = f" (timed on {timed:,} loss evaluations, extrapolated)" if timed else ""
            print(f"  {method:10} ({np.dtype(dtype).name}): {seconds * 1e3:12.3f} ms{note}")
        if args.cnn_repeats:
            side_by_side("SimpleConvNet, 2 epochs", [*train, "--net", "cnn", "--epochs", "2"],
                         args.cnn_repeats, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
