"""The original post's job on a busy machine: how much one other CPU-bound program slows it.

    python benchmarks/bench_busy.py [--repeats 3]

Runs ``dvzero train --seed 1`` (the original post's job) on an idle machine and beside one
busy process (a Python loop that never sleeps), with ``--threads 1`` and ``--threads 2``
(the default on 2 cores: the losses and accuracies measured on a second thread beside the
training, each matrix product on one thread), alternating so that drifts in the machine's
speed hit every case alike. Prints the median wall time of each case and the slowdown the
busy process causes. About 2 minutes on a 2-core machine with the default 3 repeats.
``--markdown DIR`` writes the table there as busy.md and busy.zh.md.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import (
    PEAK_LAUNCHER,
    add_markdown_option,
    amount,
    cpu_model,
    int_at_least,
    write_snippet,
)

BUSY = "while True:\n    pass\n"
#: The cases' labels in the Markdown table.
LABELS = {1: "`--threads 1`",
          2: ("`--threads 2` (the default on 2 cores)", "`--threads 2`（双核机器上的默认值）")}


def job_seconds(threads: int, out: Path) -> float:
    """Wall seconds of the whole ``dvzero train`` command."""
    result = subprocess.run([sys.executable, "-c", PEAK_LAUNCHER, sys.executable, "-m",
                             "dvzero.cli", "train", "--no-progress", "--seed", "1", "--threads",
                             str(threads), "--out", str(out)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"dvzero train failed (exit {result.returncode}):\n{result.stderr}")
    shutil.rmtree(out)
    return float(result.stdout.split()[-2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int_at_least(1), default=3,
                        help="runs of each case (default: 3)")
    add_markdown_option(parser)
    args = parser.parse_args()
    subprocess.run([sys.executable, "-c", "import dvzero; dvzero.load_mnist()"], check=True)
    print(f"CPU: {cpu_model()}; Python {platform.python_version()}; the original post's job, "
          f"dvzero train --seed 1; medians of {args.repeats}")
    times: dict[tuple[int, bool], list[float]] = {}
    workdir = Path(tempfile.mkdtemp(prefix="dvzero-busy-"))
    try:
        for repeat in range(args.repeats):
            for threads in (1, 2):
                for busy in (False, True):
                    competitor = subprocess.Popen([sys.executable, "-c", BUSY]) if busy else None
                    try:
                        seconds = job_seconds(threads, workdir / f"run{repeat}")
                    finally:
                        if competitor is not None:
                            competitor.kill()
                            competitor.wait()
                    times.setdefault((threads, busy), []).append(seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rows = []
    for threads in (1, 2):
        idle = statistics.median(times[threads, False])
        busy = statistics.median(times[threads, True])
        runs = ", ".join(f"{seconds:.1f}" for seconds in times[threads, True])
        print(f"--threads {threads}: idle {idle:5.2f} s, beside one busy process {busy:5.2f} s: "
              f"{busy / idle:.2f}x slower (busy runs: {runs} s)")
        rows.append([LABELS[threads], amount(f"{idle:.1f}", "s"), amount(f"{busy:.1f}", "s"),
                     (f"{busy / idle:.2f}×", f"{busy / idle:.2f} 倍")])
    write_snippet(args.markdown, "busy", ["", ("idle", "空闲"),
                                          ("beside one busy process", "旁边有一个满负荷的进程"),
                                          ("slowdown", "变慢")], rows)


if __name__ == "__main__":
    main()
