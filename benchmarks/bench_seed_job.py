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

from common import PEAK_LAUNCHER, cpu_model, int_at_least


def spread(values: list[float], digits: int) -> str:
    """``median (min-max)`` of ``values``."""
    return (f"{statistics.median(values):.{digits}f} "
            f"({min(values):.{digits}f}-{max(values):.{digits}f})")


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
    args, extra = parser.parse_known_args()
    for option in extra:
        name = option.split("=", 1)[0]
        # dvzero train takes abbreviations too: --se is --seed.
        if len(name) >= 4 and any(own.startswith(name) for own in ("--seed", "--out", "--resume")):
            parser.error(f"{option} is set by the benchmark for each run")

    command = [sys.executable, "-m", "dvzero.cli", "train", "--no-progress", *extra]
    subprocess.run([sys.executable, "-c", "import dvzero; dvzero.load_mnist()"], check=True)
    print(f"CPU: {cpu_model()}; Python {platform.python_version()}; "
          f"command: dvzero train {' '.join(extra) or '(defaults)'}")

    walls, peaks, tests, trains = [], [], [], []
    workdir = Path(tempfile.mkdtemp(prefix="dvzero-bench-"))
    try:
        for repeat in range(args.repeats):
            seed = args.first_seed + repeat
            out = workdir / f"run{repeat}"
            result = subprocess.run([sys.executable, "-c", PEAK_LAUNCHER, *command, "--seed",
                                     str(seed), "--out", str(out)],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                sys.exit(f"dvzero train failed (exit {result.returncode}):\n{result.stderr}")
            wall, peak_kib = result.stdout.split()[-2:]
            wall, peak = float(wall), int(peak_kib) / 1024
            summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
            walls.append(wall)
            peaks.append(peak)
            tests.append(summary["test_acc"])
            trains.append(summary["train_acc"])
            print(f"seed {seed}: {wall:5.2f} s wall (command), peak {peak:.0f} MiB, test acc "
                  f"{summary['test_acc']:.4f}, train acc {summary['train_acc']:.4f}, "
                  f"{summary['epochs_evaluated']} evaluation"
                  f"{'' if summary['epochs_evaluated'] == 1 else 's'}, "
                  f"{summary['steps_per_second']:.0f} steps/s")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"median (range) of {args.repeats} runs: wall {spread(walls, 2)} s for the whole "
          f"command, peak memory {spread(peaks, 0)} MiB, test acc {spread(tests, 4)}, "
          f"train acc {spread(trains, 4)}")
    print("the original post's figures, for scale: 45 s per numerical step, about 125 hours "
          "for the job")


if __name__ == "__main__":
    main()
