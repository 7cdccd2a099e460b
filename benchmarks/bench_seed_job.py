"""Run the whole job of the original post -- ``dvzero train`` with its defaults -- and time it.

    python benchmarks/bench_seed_job.py [--repeats 10] [--first-seed 1] [train options]

Each repeat runs ``dvzero train --seed K`` in a fresh process, K = first seed, first seed
+ 1, ... (10,000 steps, 17 full-set evaluations, run directory and plots), and measures
the wall time of the whole command and its peak resident memory from outside (as
``/usr/bin/time -v`` does). Prints each run, then the median and the range of the wall
time, the peak memory and the final accuracies. Fixed seeds make the accuracies
repeatable; the dataset cache is warmed first, as it is after the first run on any
machine. About 5 s a run on a 2-core machine: under a minute with the default 10.

Any other option is passed to ``dvzero train``, e.g. ``--hidden 100`` or ``--dtype
float64`` (``--seed`` and ``--out`` are the benchmark's own).

``--torch-python PATH`` (a Python that has PyTorch; dvzero never imports it) runs the same
job in PyTorch too, after each dvzero run with the same seed (benchmarks/torch_seed_job.py:
the same network, settings and bytes, the images made float32 once as a tutorial does,
parameters and metrics written but no pictures), and prints both sides' medians and their
ratios: the whole command, the training (steps and evaluations) and the peak memory.

``--markdown DIR`` writes the table of medians (and ratios) there as seed-job.md and
seed-job.zh.md.
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

from common import (
    NO_TORCH,
    add_markdown_option,
    amount,
    cpu_model,
    int_at_least,
    measured,
    spread,
    write_mnist,
    write_snippet,
)


def run_dvzero(command: list[str], seed: int, out: Path) -> dict:
    wall, peak = measured([*command, "--seed", str(seed), "--out", str(out)])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    print(f"seed {seed}: {wall:5.2f} s wall (command), peak {peak:.0f} MiB, test acc "
          f"{summary['test_acc']:.4f}, train acc {summary['train_acc']:.4f}, "
          f"{summary['epochs_evaluated']} evaluation"
          f"{'' if summary['epochs_evaluated'] == 1 else 's'}, "
          f"{summary['steps_per_second']:.0f} steps/s", flush=True)
    return {"wall": wall, "peak": peak, "test": summary["test_acc"],
            "train": summary["train_acc"], "training": summary["train_seconds"]}


def run_torch(python: str, data: Path, seed: int, out: Path) -> dict:
    wall, peak = measured([python, str(Path(__file__).with_name("torch_seed_job.py")),
                           str(data), str(out), "--seed", str(seed)])
    figures = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    print(f"seed {seed}: PyTorch {figures['torch']} ({figures['threads']} threads) "
          f"{wall:5.2f} s wall (command), peak {peak:.0f} MiB, test acc "
          f"{figures['test_acc']:.4f}, training {figures['train_seconds']:.2f} s", flush=True)
    return {"wall": wall, "peak": peak, "test": figures["test_acc"],
            "train": figures["train_acc"], "training": figures["train_seconds"],
            "torch": figures["torch"]}


def report(who: str, runs: list[dict]) -> None:
    column = lambda key: [run[key] for run in runs]  # noqa: E731
    print(f"{who}, median (range) of {len(runs)} runs: wall {spread(column('wall'), 2)} s "
          f"for the whole command, training {spread(column('training'), 2)} s, peak memory "
          f"{spread(column('peak'), 0)} MiB, test acc {spread(column('test'), 4)}, train acc "
          f"{spread(column('train'), 4)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Other options are passed to dvzero train.",
        allow_abbrev=False,  # an abbreviation may be meant for dvzero train
    )
    parser.add_argument("--repeats", type=int_at_least(1), default=10,
                        help="runs, each with its own seed (default: 10)")
    parser.add_argument("--first-seed", type=int_at_least(0), default=1,
                        help="seed of the first run; the others count up from it (default: 1)")
    parser.add_argument("--torch-python", metavar="PATH",
                        help="a Python with PyTorch: run the same job in PyTorch too")
    add_markdown_option(parser)
    args, extra = parser.parse_known_args()
    for option in extra:
        name = option.split("=", 1)[0]
        # dvzero train takes abbreviations too: --se is --seed.
        if len(name) >= 4 and any(own.startswith(name) for own in ("--seed", "--out", "--resume")):
            parser.error(f"{option} is set by the benchmark for each run")
    if args.torch_python and extra:
        parser.error("--torch-python runs the original post's job: no dvzero train options")

    command = [sys.executable, "-m", "dvzero.cli", "train", "--no-progress", *extra]
    subprocess.run([sys.executable, "-c", "import dvzero; dvzero.load_mnist()"], check=True)
    print(f"CPU: {cpu_model()}; Python {platform.python_version()}; "
          f"command: dvzero train {' '.join(extra) or '(defaults)'}")

    ours, theirs = [], []
    workdir = Path(tempfile.mkdtemp(prefix="dvzero-bench-"))
    try:
        if args.torch_python:
            data = workdir / "mnist.npz"
            write_mnist(data)
        for repeat in range(args.repeats):
            seed = args.first_seed + repeat
            ours.append(run_dvzero(command, seed, workdir / f"run{repeat}"))
            if args.torch_python:
                theirs.append(run_torch(args.torch_python, data, seed, workdir / f"torch{repeat}"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report("dvzero", ours)
    if theirs:
        report("PyTorch", theirs)
        for what, key in (("whole command", "wall"), ("training", "training"),
                          ("peak memory", "peak")):
            ratio = statistics.median(run[key] for run in ours) / \
                statistics.median(run[key] for run in theirs)
            print(f"dvzero / PyTorch, {what}: {ratio:.2f}")
    print("the original post's figures, for scale: 45 s per numerical step, about 125 hours "
          "for the job")
    write_table(args.markdown, ours, theirs)


def write_table(directory: Path | None, ours: list[dict], theirs: list[dict]) -> None:
    """The medians of both sides (PyTorch's if it ran) and their ratios, as a Markdown
    snippet in ``directory``."""
    keys = ("wall", "training", "peak", "test")
    middle = {who: {key: statistics.median(run[key] for run in runs) for key in keys}
              for who, runs in (("dvzero", ours), ("PyTorch", theirs)) if runs}

    def row(label: str, figures: dict) -> list:
        return [label, amount(f"{figures['wall']:.1f}", "s"),
                amount(f"{figures['training']:.1f}", "s"), f"{figures['peak']:.0f} MiB",
                f"{figures['test']:.4f}"]

    rows = [row("dvzero", middle["dvzero"])]
    if theirs:
        rows.append(row(f"PyTorch {theirs[0]['torch']}", middle["PyTorch"]))
        ratios = (middle["dvzero"][key] / middle["PyTorch"][key] for key in keys[:3])
        rows.append(["dvzero / PyTorch", *(f"{ratio:.2f}" for ratio in ratios), ""])
    write_snippet(directory, "seed-job", [
        "", ("whole command", "整条命令"),
        ("training (steps and evaluations)", "训练（各步和评估）"),
        ("peak memory", "内存峰值"), ("test accuracy", "测试精度"),
    ], rows, note=None if theirs else NO_TORCH)


if __name__ == "__main__":
    main()
