"""``dvzero search`` on Dask against the same trials one after another.

    python benchmarks/bench_search.py [--trials 8] [--workers 2] [--repeats 2] [--markdown DIR]

The trials are the original post's job (``dvzero train``'s defaults: 10,000 steps of 100
images) with the learning rate searched between 0.05 and 0.2, each judged on a validation
split of 10%. In each repeat, in turn:

1. one after another: each trial's settings given to ``dvzero train`` (its default threads),
   a fresh process each, as a learner would run them by hand;
2. ``dvzero search`` on ``--workers`` local worker processes (one thread each), the whole
   command, and the same on one worker, for scale;
3. the search in this process on ``--workers`` workers, to see Dask's own cost: the
   cluster's start, then for each trial the wall time beyond the trial's own time measured
   inside its worker: ``(wall after the start x workers - the trials' own time) / trials``.

Prints each figure, the medians and the ratio search / one after another. About 3 minutes a
repeat on a 2-core machine.
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

from dvzero.search.runner import Search, dask_client, run_search

from common import add_markdown_option, amount, cpu_model, int_at_least, write_snippet

SEARCH = ["--lr", "0.05:0.2", "--seed", "1", "--no-progress"]


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def dvzero(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvzero.cli", *args]


def one_after_another(plan: list[dict], workdir: Path) -> float:
    """The trials' settings with ``dvzero train``, one process after another."""
    total = 0.0
    for number, settings in enumerate(plan):
        total += wall(dvzero("train", "--lr", str(settings["lr"]), "--seed",
                             str(settings["seed"]), "--val-split", "0.1", "--no-progress",
                             "--out", str(workdir / f"train-{number}")))
    return total


def in_process(plan_dir: Path, workers: int, workdir: Path) -> tuple[float, float]:
    """The planned search again, here: the cluster's start and Dask's cost per trial."""
    out = workdir / f"library-{time.monotonic_ns()}"
    source = Search.resume(plan_dir)
    search = Search.start(out, source.plan, source.searched, source.seed)
    own: list[float] = []
    start = time.perf_counter()
    with dask_client(workers) as client:
        started = time.perf_counter()
        run_search(search, client, lambda result: own.append(result.seconds))
        after = time.perf_counter() - started
    return started - start, (after * workers - sum(own)) / len(own)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int_at_least(1), default=8)
    parser.add_argument("--workers", type=int_at_least(1), default=2)
    parser.add_argument("--repeats", type=int_at_least(1), default=2)
    add_markdown_option(parser)
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}; {args.trials} trials of the original post's job")
    subprocess.run([sys.executable, "-c", "import dvzero; dvzero.load_mnist()"], check=True)
    workdir = Path(tempfile.mkdtemp(prefix="dvzero-bench-search-"))
    figures: dict[str, list[float]] = {"alone": [], "search": [], "one": [], "start": [],
                                       "overhead": []}
    try:
        for repeat in range(args.repeats):
            out = workdir / f"search-{repeat}"
            figures["search"].append(wall(dvzero("search", "--trials", str(args.trials),
                                                 "--workers", str(args.workers),
                                                 "--out", str(out), *SEARCH)))
            plan = json.loads((out / "search.json").read_text(encoding="utf-8"))["plan"]
            figures["alone"].append(one_after_another([one["settings"] for one in plan],
                                                      workdir / f"alone-{repeat}"))
            figures["one"].append(wall(dvzero("search", "--trials", str(args.trials),
                                              "--workers", "1",
                                              "--out", str(workdir / f"one-{repeat}"),
                                              *SEARCH)))
            start, overhead = in_process(out, args.workers, workdir)
            figures["start"].append(start)
            figures["overhead"].append(overhead)
            print(f"repeat {repeat + 1}: one after another {figures['alone'][-1]:.1f} s, "
                  f"search on {args.workers} workers {figures['search'][-1]:.1f} s, on 1 "
                  f"worker {figures['one'][-1]:.1f} s; cluster start {start:.2f} s, Dask's "
                  f"cost {overhead:.3f} s a trial", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    median = {key: statistics.median(values) for key, values in figures.items()}
    ratio, single = median["search"] / median["alone"], median["one"] / median["alone"]
    print(f"medians of {args.repeats}: one after another {median['alone']:.1f} s; search on "
          f"{args.workers} workers {median['search']:.1f} s = {ratio:.2f}x; on 1 worker "
          f"{median['one']:.1f} s = {single:.2f}x; cluster start {median['start']:.2f} s; "
          f"Dask's cost {median['overhead']:.3f} s a trial")
    write_snippet(args.markdown, "search", [
        ("", ""), ("whole command", "整条命令"), ("/ one after another", "/ 逐个运行")], [
        [(f"{args.trials} trials one after another (`dvzero train`)",
          f"{args.trials} 次试验逐个运行（`dvzero train`）"),
         amount(f"{median['alone']:.1f}", "s"), "1"],
        [(f"`dvzero search`, {args.workers} workers", f"`dvzero search`，{args.workers} 个 worker"),
         amount(f"{median['search']:.1f}", "s"), f"{ratio:.2f}"],
        [("`dvzero search`, 1 worker", "`dvzero search`，1 个 worker"),
         amount(f"{median['one']:.1f}", "s"), f"{single:.2f}"],
        [("the cluster's start", "集群启动"), amount(f"{median['start']:.2f}", "s"), ""],
        [("Dask's cost a trial, beyond the trial's own time",
          "Dask 每次试验的额外开销（试验自身时间之外）"),
         amount(f"{median['overhead']:.3f}", "s"), ""],
    ], note=(f"Medians of {args.repeats} repeats.", f"{args.repeats} 轮的中位数。"))


if __name__ == "__main__":
    main()
