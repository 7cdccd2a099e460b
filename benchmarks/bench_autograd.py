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

``--markdown DIR`` writes two tables there (see common.write_snippet): main-figures (the
job's whole command and the four steps) and autograd (the two ways side by side).
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

from common import (
    add_markdown_option,
    amount,
    cpu_model,
    int_at_least,
    measured,
    spread,
    write_snippet,
)

GRADIENTS = ("backprop", "autograd")


def run(command: list[str], out: Path) -> dict:
    """``command --out out``: the wall time, the peak memory and the run's summary."""
    wall, peak = measured([*command, "--out", str(out)])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    shutil.rmtree(out)
    return {"wall": wall, "peak": peak, "test": summary["test_acc"],
            "training": summary["train_seconds"]}


def side_by_side(label: str, command: list[str], repeats: int, workdir: Path) -> dict:
    """Run ``command`` with each gradient in turn, ``repeats`` pairs; print the figures and
    return each gradient's runs."""
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
    return runs


def step_time(seconds: float) -> tuple[str, str]:
    """A step's time as the tables write it: 0.25 ms, 60 ms, 12.7 s."""
    if seconds < 0.01:
        return amount(f"{seconds * 1e3:.2f}", "ms")
    if seconds < 1:
        return amount(f"{seconds * 1e3:.0f}", "ms")
    return amount(f"{seconds:.1f}", "s")


def write_main_figures(directory: Path | None, job: dict, steps: dict) -> None:
    """The main figures, the job's whole command and a step each way, as a Markdown snippet
    in ``directory``."""
    walls = [run["wall"] for run in job["backprop"]]
    middle, low, high = (f"{value:.2f}" for value in
                         (statistics.median(walls), min(walls), max(walls)))
    runs = f"{len(walls)} run{'' if len(walls) == 1 else 's'}"
    naive, timed = steps["naive"]
    write_snippet(directory, "main-figures", ["", ("time", "用时")], [
        [("the original post's whole job, `dvzero train --seed 1` (the whole command, Python "
          "start-up included)", "原文的整个任务，`dvzero train --seed 1`（整条命令，含 Python "
          "启动时间）"),
         (f"{middle} s, median of {runs} ({low}–{high} s)",
          f"{middle} 秒，{len(walls)} 次运行的中位数（{low}–{high} 秒）")],
        [("one step (784-50-10, batch 100), backpropagation, float32",
          "一步（784-50-10，batch 大小 100），反向传播，float32"),
         step_time(steps["backprop"][0])],
        [("one step by autograd, float32", "一步，自动微分，float32"),
         step_time(steps["autograd"][0])],
        [("one step by the structured numerical gradient, float64",
          "一步，结构化计算的数值微分，float64"), step_time(steps["structured"][0])],
        [("one step by the original post's loop, float64", "一步，原文的循环，float64"),
         (f"{step_time(naive)[0]} (timed on {timed:,} of its 79,520 loss evaluations and "
          "extrapolated)",
          f"{step_time(naive)[1]}（只测 79,520 次损失计算中的 {timed:,} 次，再外推）")],
    ])


def medians(runs: dict, key: str) -> tuple[float, float, str]:
    """The layers' and autograd's medians of ``key`` in ``runs``, and autograd / layers."""
    layers, autograd = (statistics.median(run[key] for run in runs[gradient])
                        for gradient in GRADIENTS)
    return layers, autograd, f"{autograd / layers:.2f}"


def write_side_by_side(directory: Path | None, job: dict, steps: dict,
                       cnn: dict | None) -> None:
    """Autograd against the layers, as a Markdown snippet in ``directory``."""
    layers, autograd = steps["backprop"][0], steps["autograd"][0]
    rows = [[("one step, 784-50-10, batch 100, float32",
              "一步，784-50-10，batch 大小 100，float32"),
             step_time(layers), step_time(autograd), f"{autograd / layers:.1f}"]]  # 2 digits
    layers, autograd, ratio = medians(job, "wall")
    rows.append([("the original post's job, whole command (`dvzero train --seed 1`)",
                  "原文的整个任务，整条命令（`dvzero train --seed 1`）"),
                 amount(f"{layers:.1f}", "s"), amount(f"{autograd:.1f}", "s"), ratio])
    layers, autograd, ratio = medians(job, "peak")
    rows.append([("its peak memory", "它的内存峰值"), f"{layers:.0f} MiB", f"{autograd:.0f} MiB",
                 ratio])
    layers, autograd, _ = medians(job, "test")
    rows.append([("its test accuracy", "它的测试精度"), f"{layers:.4f}", f"{autograd:.4f}", ""])
    if cnn:
        layers, autograd, ratio = medians(cnn, "training")
        rows.append([("SimpleConvNet, 2 epochs, training", "SimpleConvNet，2 个 epoch，训练"),
                     amount(f"{layers:.1f}", "s"), amount(f"{autograd:.1f}", "s"), ratio])
        layers, autograd, ratio = medians(cnn, "peak")
        rows.append([("its peak memory", "它的内存峰值"), f"{layers:.0f} MiB",
                     f"{autograd:.0f} MiB", ratio])
    write_snippet(directory, "autograd", ["", ("the layers (backprop)", "各层（反向传播）"),
                                          ("autograd", "自动微分"),
                                          ("autograd / layers", "自动微分 / 各层")], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int_at_least(1), default=5,
                        help="pairs of the original post's job (default: 5)")
    parser.add_argument("--cnn-repeats", type=int_at_least(0), default=1,
                        help="pairs of the 2-epoch SimpleConvNet run (default: 1; 0: none)")
    add_markdown_option(parser)
    args = parser.parse_args()
    subprocess.run([sys.executable, "-c", "import dvzero; dvzero.load_mnist()"], check=True)
    print(f"CPU: {cpu_model()}; Python {platform.python_version()}; NumPy {np.__version__}")
    train = [sys.executable, "-m", "dvzero.cli", "train", "--no-progress", "--seed", "1"]
    workdir = Path(tempfile.mkdtemp(prefix="dvzero-bench-"))
    try:
        job = side_by_side("the original post's job", train, args.repeats, workdir)
        print("one step, 784-50-10, batch 100, gradient and update:")
        steps = {}
        for method, dtype in (("backprop", np.float32), ("autograd", np.float32),
                              ("structured", np.float64), ("naive", np.float64)):
            seconds, timed = steps[method] = step_seconds(method, dtype)
            note = f" (timed on {timed:,} loss evaluations, extrapolated)" if timed else ""
            print(f"  {method:10} ({np.dtype(dtype).name}): {seconds * 1e3:12.3f} ms{note}")
        cnn = None
        if args.cnn_repeats:
            cnn = side_by_side("SimpleConvNet, 2 epochs",
                               [*train, "--net", "cnn", "--epochs", "2"], args.cnn_repeats,
                               workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    write_main_figures(args.markdown, job, steps)
    write_side_by_side(args.markdown, job, steps, cnn)


if __name__ == "__main__":
    main()
