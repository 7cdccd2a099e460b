"""How the cost of a training step grows: hidden size 50 ... 2000, batch size 1 ... 1000.

    python benchmarks/bench_sweep.py [--threads 1] [--plot docs/images/cost.png]

Times one backprop step (gradient and SGD update, float32) of the two-layer network
784-H-10 for each hidden size H at batch 100, and for each batch size at H = 50, on
``--threads`` threads (default 1, as ``dvzero train``). Prints the time per step against
the floating-point operations per step and the speed reached, and draws both sweeps on
log-log axes with the line of the fastest matrix-product speed measured: where the points
lie on the flat part, a step costs its fixed overhead (Python, small arrays); where they
follow the line, the matrix products (BLAS) set the cost. About 30 seconds.
``--markdown DIR`` writes both sweeps as one table there, sweep.md and sweep.zh.md.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np

from dvzero import DeepVisionZeroNet, load_mnist
from dvzero._parallel import limit_threads
from dvzero.apps.bench import median_seconds

from common import add_markdown_option, amount, cpu_model, int_at_least, write_snippet

HIDDEN_SIZES = (50, 100, 200, 500, 1000, 2000)
BATCH_SIZES = (1, 3, 10, 30, 100, 300, 1000)


def step_flops(batch: int, hidden: int, inputs: int = 784, outputs: int = 10) -> int:
    """Multiply-adds x2 of a step's products: x@W1, a@W2; dW2, da, dW1."""
    forward = batch * (inputs * hidden + hidden * outputs)
    backward = hidden * batch * outputs + batch * outputs * hidden + inputs * batch * hidden
    return 2 * (forward + backward)


def step_seconds(x: np.ndarray, t: np.ndarray, hidden: int, batch: int) -> float:
    network = DeepVisionZeroNet(784, hidden, 10, dtype=np.float32, rng=0)
    rows = np.random.default_rng(0).choice(len(x), batch)
    x_batch, t_batch = x[rows], t[rows]

    def step() -> None:
        for key, grad in network.gradient(x_batch, t_batch).items():
            network.params[key] -= 0.1 * grad

    return median_seconds(step, least=0.05, samples=5)


def plot(path: Path, sweeps: dict[str, list[tuple[int, float, str]]], peak: float,
         title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.8), dpi=100)
    axes = figure.add_subplot()
    everything = [point for points in sweeps.values() for point in points]
    low = min(flops for flops, _, _ in everything) / 2
    high = max(flops for flops, _, _ in everything) * 2
    axes.plot([low, high], [low / peak, high / peak], color="grey", linestyle="--",
              label=f"the matrix products alone at {peak / 1e9:.0f} GFLOP/s")
    for (name, points), marker in zip(sweeps.items(), ("o", "s"), strict=True):
        flops, seconds, labels = zip(*points, strict=True)
        axes.plot(flops, seconds, marker=marker, label=name)
        for x_value, y_value, label in points:
            axes.annotate(label, (x_value, y_value), textcoords="offset points",
                          xytext=(4, -10), fontsize=7)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("floating-point operations per step")
    axes.set_ylabel("seconds per step")
    axes.set_title(title, fontsize=9)
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int_at_least(1), default=1,
                        help="threads for the matrix products (default: 1, as dvzero train)")
    parser.add_argument("--plot", type=Path, help="also draw the sweeps into this PNG")
    add_markdown_option(parser)
    args = parser.parse_args()
    (x, t), _ = load_mnist(normalize=True)
    print(f"CPU: {cpu_model()}; Python {platform.python_version()}; NumPy {np.__version__}; "
          f"{args.threads} thread(s); one backprop step of 784-H-10, float32")
    sweeps: dict[str, list[tuple[int, float, str]]] = {}
    with limit_threads(args.threads):
        for name, cases in (("hidden size H, batch 100", [(100, h) for h in HIDDEN_SIZES]),
                            ("batch size B, H = 50", [(b, 50) for b in BATCH_SIZES])):
            print(f"\n{name}:\n  {'case':>8} {'MFLOP/step':>11} {'ms/step':>9} {'GFLOP/s':>8}")
            points = sweeps.setdefault(name, [])
            for batch, hidden in cases:
                seconds = step_seconds(x, t, hidden, batch)
                flops = step_flops(batch, hidden)
                label = f"H={hidden}" if name.startswith("hidden") else f"B={batch}"
                points.append((flops, seconds, label))
                print(f"  {label:>8} {flops / 1e6:11.2f} {seconds * 1e3:9.3f} "
                      f"{flops / seconds / 1e9:8.1f}")
    peak = max(flops / seconds for points in sweeps.values() for flops, seconds, _ in points)
    fixed = min(seconds for points in sweeps.values() for _, seconds, _ in points)
    print(f"\nfastest: {peak / 1e9:.1f} GFLOP/s; the cheapest step: {fixed * 1e6:.0f} µs, "
          f"its fixed overhead")
    if args.plot:
        plot(args.plot, sweeps, peak, f"One backprop step of 784-H-10 (float32, "
             f"{args.threads} thread{'s' if args.threads > 1 else ''}, {cpu_model()})")
        print(f"wrote {args.plot}")
    write_table(args.markdown, sweeps)


#: The sweeps' names in the Markdown table.
SWEEP_NAMES = {"hidden size H, batch 100": ("hidden size H, batch 100",
                                            "隐藏层大小 H，batch 大小 100"),
               "batch size B, H = 50": ("batch size B, H = 50", "batch 大小 B，H = 50")}


def write_table(directory: Path | None, sweeps: dict[str, list[tuple[int, float, str]]]) -> None:
    """Both sweeps, one row a case, as a Markdown snippet in ``directory``."""
    rows = []
    for name, points in sweeps.items():
        for number, (flops, seconds, label) in enumerate(points):
            rows.append([SWEEP_NAMES[name] if number == 0 else "", label.replace("=", " = "),
                         f"{flops / 1e6:.2f}", amount(f"{seconds * 1e3:.3f}", "ms"),
                         f"{flops / seconds / 1e9:.1f}"])
    write_snippet(directory, "sweep", [
        "", "", ("MFLOP a step", "每步 MFLOP"), ("time a step", "每步用时"), "GFLOP/s",
    ], rows)


if __name__ == "__main__":
    main()
