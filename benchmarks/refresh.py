"""Refresh every figure of the documentation: one command.

    python benchmarks/refresh.py [--only NAME ...] [--torch-python PATH]

Runs each benchmark, one after the other, with the settings the documentation quotes, and
writes its tables into benchmarks/results (NAME.md in English and NAME.zh.md in Chinese,
each naming the CPU, the date and the command; the pages include them):

    autograd  python benchmarks/bench_autograd.py --repeats 7 --cnn-repeats 2   ~6 min
    seed_job  python benchmarks/bench_seed_job.py --repeats 5                   ~1 min
    gradient  python benchmarks/bench_gradient.py                               ~1 min
    sweep     python benchmarks/bench_sweep.py --plot docs/images/cost.png      ~30 s
    cnn       python benchmarks/bench_cnn.py --train                            ~16 min
    mlp       python benchmarks/bench_mlp.py --repeats 3                        ~4 min
    busy      python benchmarks/bench_busy.py --repeats 5                       ~3 min
    search    python benchmarks/bench_search.py --repeats 3                     ~10 min

About 40 minutes in all on a 2-core machine; about an hour with ``--torch-python PATH``
(a Python that has PyTorch, in an environment of its own), which goes to the three that
compare with PyTorch (seed_job, cnn and mlp: about 2, 35 and 6 minutes then). Without it
they measure dvzero's side only and their tables say that PyTorch was not measured.
``--only NAME ...`` refreshes those benchmarks only. Prints how long each took. Leave the
machine otherwise idle while it runs: the figures are times.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = "benchmarks/results"

#: Each benchmark's script and the settings the documentation quotes.
BENCHMARKS = {
    "autograd": ("bench_autograd.py", ["--repeats", "7", "--cnn-repeats", "2"]),
    "seed_job": ("bench_seed_job.py", ["--repeats", "5"]),
    "gradient": ("bench_gradient.py", []),
    "sweep": ("bench_sweep.py", ["--plot", "docs/images/cost.png"]),
    "cnn": ("bench_cnn.py", ["--train"]),
    "mlp": ("bench_mlp.py", ["--repeats", "3"]),
    "busy": ("bench_busy.py", ["--repeats", "5"]),
    "search": ("bench_search.py", ["--repeats", "3"]),
}
#: Those that compare with PyTorch; without --torch-python, bench_cnn.py and bench_mlp.py
#: are told "none" (their default is this Python), bench_seed_job.py is told nothing.
WITH_TORCH = {"seed_job": None, "cnn": "none", "mlp": "none"}


def command(name: str, torch_python: str | None) -> list[str]:
    """The command that refreshes ``name``'s tables, run from the repository's root."""
    script, settings = BENCHMARKS[name]
    words = [sys.executable, f"benchmarks/{script}", *settings]
    if name in WITH_TORCH and (torch_python or WITH_TORCH[name]):
        words += ["--torch-python", torch_python or WITH_TORCH[name]]
    return [*words, "--markdown", RESULTS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=BENCHMARKS,
                        help=f"refresh these only: {', '.join(BENCHMARKS)}")
    parser.add_argument("--torch-python", metavar="PATH",
                        help="a Python with PyTorch, for seed_job, cnn and mlp")
    args = parser.parse_args()
    names = [name for name in BENCHMARKS if not args.only or name in args.only]
    failed = []
    start = time.perf_counter()
    for name in names:
        words = command(name, args.torch_python)
        print(f"== {name}: python {' '.join(words[1:])}", flush=True)
        began = time.perf_counter()
        status = subprocess.run(words, cwd=ROOT).returncode
        minutes = (time.perf_counter() - began) / 60
        print(f"== {name}: {'done' if status == 0 else f'FAILED (exit {status})'} in "
              f"{minutes:.1f} minutes", flush=True)
        if status:
            failed.append(name)
    print(f"== all: {(time.perf_counter() - start) / 60:.1f} minutes; tables in {RESULTS}/"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
