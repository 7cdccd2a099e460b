"""Run the whole seed job — ``dvzero train`` with its defaults — and time the command.

    python benchmarks/bench_seed_job.py [--repeats 5] [-- extra dvzero train options]

Each repeat runs ``dvzero train`` in a fresh process (10,000 steps, 17 full-set
evaluations, run directory and plots) and measures the wall time of the whole command from
outside. Prints each run and the medians of wall time and final accuracies. The dataset
cache is warmed first, as it is after the first run on any machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("extra", nargs="*", help="extra options for dvzero train")
    args = parser.parse_args()

    command = [sys.executable, "-m", "dvzero.cli", "train", "--no-progress", *args.extra]
    subprocess.run([sys.executable, "-c", "import dvzero; dvzero.load_mnist()"], check=True)

    walls, tests, trains, rates = [], [], [], []
    workdir = Path(tempfile.mkdtemp(prefix="dvzero-bench-"))
    try:
        for repeat in range(args.repeats):
            out = workdir / f"run{repeat}"
            start = time.perf_counter()
            subprocess.run([*command, "--out", str(out)], check=True,
                           stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - start
            summary = json.loads((out / "summary.json").read_text())
            walls.append(wall)
            tests.append(summary["test_acc"])
            trains.append(summary["train_acc"])
            rates.append(summary["steps_per_second"])
            print(f"run {repeat + 1}: {wall:5.2f} s wall (command), test acc "
                  f"{summary['test_acc']:.4f}, train acc {summary['train_acc']:.4f}, "
                  f"{summary['epochs_evaluated']} evaluations, "
                  f"{summary['steps_per_second']:.0f} steps/s")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"median of {args.repeats}: {statistics.median(walls):.2f} s wall for the whole "
          f"command, test acc {statistics.median(tests):.4f}, train acc "
          f"{statistics.median(trains):.4f}, {statistics.median(rates):.0f} steps/s "
          f"(min {min(tests):.4f} test acc)")
    print("seed's figures for scale: 45 s per numerical step, about 125 hours for the job")


if __name__ == "__main__":
    main()
