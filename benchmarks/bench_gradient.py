"""Time one training step of the original post's network: numerical gradients (the
original post's naive loop, and the structured one) vs backprop.

    python benchmarks/bench_gradient.py [--repeats 3] [--batch-size 100]

One "step" is what the original post's loop does per iteration: gradient of the loss on a
mini-batch of 100 MNIST images for the 784-50-10 sigmoid network, then the SGD update.
Prints the median over repeats of each and their ratios, plus the 10,000-step projection.

It takes about --repeats numerical steps (10-15 s each on a 2-core machine: 30-40 s with
the default 3) plus a few seconds of backprop steps. Only the backprop steps are warmed up
first: a numerical step is 79,520 loss evaluations, warm from the second one on.

``--markdown DIR`` writes the table of steps and 10,000-step projections there as
gradient.md and gradient.zh.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

from dvzero import SGD, DeepVisionZeroNet, load_mnist

from common import add_markdown_option, amount, cpu_model, int_at_least, write_snippet


def time_step(network, method, x_batch, t_batch, optimizer) -> float:
    start = time.perf_counter()
    if method == "structured":
        grad = network.numerical_gradient(x_batch, t_batch, method="structured")
    else:
        grad = getattr(network, method)(x_batch, t_batch)
    optimizer.update(network.params, grad)
    return time.perf_counter() - start


def median_step(dtype, method, x_batch, t_batch, repeats: int, inner: int,
                warm_up: bool = True) -> float:
    network = DeepVisionZeroNet(784, 50, 10, dtype=dtype, rng=0)
    optimizer = SGD(lr=0.1)
    x_batch = x_batch.astype(dtype)
    if warm_up:
        time_step(network, method, x_batch, t_batch, optimizer)
    samples = []
    for _ in range(repeats):
        samples.append(sum(time_step(network, method, x_batch, t_batch, optimizer)
                           for _ in range(inner)) / inner)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int_at_least(1), default=3,
                        help="timed numerical steps, about 10 s each (default: 3)")
    parser.add_argument("--batch-size", type=int_at_least(1), default=100,
                        help="images per mini-batch (default: 100)")
    add_markdown_option(parser)
    args = parser.parse_args()

    (x_train, t_train), _ = load_mnist(normalize=True, one_hot_label=True)
    rng = np.random.default_rng(0)
    batch_mask = rng.choice(x_train.shape[0], args.batch_size)
    x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]

    print(f"machine: {platform.machine()} ({cpu_model()}), Python {platform.python_version()}, "
          f"NumPy {np.__version__}; network 784-50-10 sigmoid, batch {args.batch_size}")
    backprop64 = median_step(np.float64, "gradient", x_batch, t_batch, 7, 200)
    backprop32 = median_step(np.float32, "gradient", x_batch, t_batch, 7, 200)
    print(f"backprop step, float64:  {backprop64 * 1e3:8.3f} ms (median of 7 x 200 steps)")
    print(f"backprop step, float32:  {backprop32 * 1e3:8.3f} ms (median of 7 x 200 steps)")
    structured = median_step(np.float64, "structured", x_batch, t_batch, 7, 5)
    print(f"structured numerical step, float64: {structured:8.3f} s  (median of 7 x 5 steps)")
    numerical = median_step(np.float64, "numerical_gradient", x_batch, t_batch,
                            args.repeats, 1, warm_up=False)
    print(f"naive numerical step, float64:      {numerical:8.2f} s  (median of {args.repeats}; "
          f"the original post's loop)")
    print(f"ratio naive / structured numerical: {numerical / structured:,.0f}x")
    print(f"ratio naive numerical / backprop (float64): {numerical / backprop64:,.0f}x")
    print(f"ratio naive numerical / backprop (float32): {numerical / backprop32:,.0f}x")
    print(f"10,000 steps: naive numerical {numerical * 10000 / 3600:.1f} hours, structured "
          f"numerical {structured * 10000 / 60:.1f} minutes, backprop "
          f"{backprop32 * 10000:.1f} s (float32; without the evaluations)")
    original_post = [("the original post, numerical gradient (the author's computer)",
                      "原文，数值微分（作者的电脑）"), amount("45", "s"),
                     ("about 125 hours", "约 125 小时")]
    write_snippet(args.markdown, "gradient", [
        "", (f"one step (784-50-10, batch {args.batch_size})",
             f"一步（784-50-10，batch 大小 {args.batch_size}）"),
        ("10,000 steps", "10,000 步"),
    ], [
        *([original_post] if args.batch_size == 100 else []),  # its batch
        [("dvzero, numerical gradient (the original post's method, float64)",
          "dvzero，数值微分（原文的方法，float64）"),
         amount(f"{numerical:.1f}", "s"), amount(f"{numerical * 10000 / 3600:.0f}", "hours")],
        [("dvzero, the same numerical gradient, structured (`--numerical structured`, float64)",
          "dvzero，同样的数值微分，结构化计算（`--numerical structured`，float64）"),
         amount(f"{structured * 1e3:.0f}", "ms"),
         amount(f"{structured * 10000 / 60:.1f}", "minutes")],
        [("dvzero, backpropagation, float64", "dvzero，反向传播，float64"),
         amount(f"{backprop64 * 1e3:.2f}", "ms"), amount(f"{backprop64 * 10000:.1f}", "s")],
        [("dvzero, backpropagation, float32", "dvzero，反向传播，float32"),
         amount(f"{backprop32 * 1e3:.2f}", "ms"), amount(f"{backprop32 * 10000:.1f}", "s")],
    ])


if __name__ == "__main__":
    main()
