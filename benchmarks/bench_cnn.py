"""SimpleConvNet and DeepConvNet: dvzero and PyTorch side by side, speed and accuracy.

    python benchmarks/bench_cnn.py [--steps 30] [--rounds 3] [--torch-python PATH]
    python benchmarks/bench_cnn.py --train [--torch-python PATH]    # the long runs too

Speed: each network trains --steps steps of 100 images (Adam, float32) in this process,
on the threads ``dvzero train`` uses (every core, each batch cut in parts), each layer's
forward and backward timed; then PyTorch (benchmarks/torch_cnn.py, run by
--torch-python: dvzero never imports it) the same steps, its operators' shares from its
profiler. dvzero and PyTorch take turns, --rounds times, so that a change in the shared
machine's load hits both. Prints the median time per step and per 600-step epoch over all
rounds, and the median and range of the rounds' ratios.

--train adds the accuracy runs, alternating with PyTorch: ``dvzero train --net cnn
--epochs 20`` and ``dvzero train --net deep-cnn --epochs 12`` (their default: Adam with
cosine decay, which PyTorch gets too; each epoch's test accuracy on all 10,000 images),
and the peak memory of each dvzero process. About 35 minutes on 2 cores; the speed part
takes 3.

``--markdown DIR`` writes the table there as cnn.md and cnn.zh.md: each network's step,
dvzero and PyTorch, and with --train the test accuracies after the last epoch.
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
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from dvzero import load_mnist
from dvzero._parallel import limit_threads
from dvzero.networks import DeepConvNet, SimpleConvNet
from dvzero.optimizers import Adam
from dvzero.runs.config import default_threads

from common import (
    NO_TORCH,
    PEAK_LAUNCHER,
    add_markdown_option,
    amount,
    cpu_model,
    int_at_least,
    write_snippet,
)

HERE = Path(__file__).resolve().parent
NETS = {"simple": (SimpleConvNet, "cnn", 20), "deep": (DeepConvNet, "deep-cnn", 12)}


def timed(layer, method: str, label: str, seconds: dict) -> None:
    """Wrap ``layer.method`` so that its time is added to ``seconds[label]``."""
    original = getattr(layer, method)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds[label] += time.perf_counter() - start

    setattr(layer, method, wrapper)


def dvzero_speed(name: str, steps: int, x: np.ndarray, t: np.ndarray) -> dict:
    """Steps on the threads ``dvzero train`` takes by default: each batch cut in parts."""
    net = NETS[name][1]
    with limit_threads(default_threads(net), split_batches=True):  # as dvzero train
        return _dvzero_steps(name, steps, x, t)


def _dvzero_steps(name: str, steps: int, x: np.ndarray, t: np.ndarray) -> dict:
    network = NETS[name][0](dtype=np.float32, rng=1)
    optimizer = Adam(0.001)
    seconds: dict[str, float] = defaultdict(float)
    for i, layer in enumerate(network._layers):
        label = f"{i + 1:>2} {type(layer).__name__}"
        timed(layer, "forward", label, seconds)
        timed(layer, "backward", label, seconds)
    rng = np.random.default_rng(1)
    times = []
    for step in range(steps + 3):
        batch = rng.integers(0, len(x), 100)
        start = time.perf_counter()
        grads = network.gradient(x[batch], t[batch])
        optimizer.update(network.params, grads)
        if step == 2:
            seconds.clear()  # the first steps allocate the buffers
        elif step > 2:
            times.append(time.perf_counter() - start)
    total = sum(seconds.values())
    shares = sorted(((label, value / total) for label, value in seconds.items()),
                    key=lambda item: -item[1])
    return {"step_seconds": statistics.median(times), "shares": shares[:8]}


def torch_run(python: str, data: Path, name: str, *options: str) -> dict:
    result = subprocess.run([python, str(HERE / "torch_cnn.py"), str(data), "--net", name,
                             *options], check=True, capture_output=True, text=True)
    return json.loads(result.stdout.splitlines()[-1])


def dvzero_train(name: str, epochs: int, out: Path) -> dict:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PEAK_LAUNCHER, sys.executable, "-m",
                             "dvzero.cli", "train", "--net", NETS[name][1], "--epochs",
                             str(epochs), "--seed", "1", "--out", str(out), "--no-progress"],
                            capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"dvzero train --net {NETS[name][1]} failed (exit {result.returncode}):\n"
                 f"{result.stderr}")
    wall = time.perf_counter() - start
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"test_acc_list": summary["test_acc_list"][1:] + [summary["test_acc"]],
            "epoch_seconds": summary["train_seconds"] / epochs, "wall": wall,
            "peak_mib": int(result.stdout.split()[-1]) / 1024}  # the launcher's last word


def print_speed(name: str, rounds: list[tuple[dict, dict | None]]) -> None:
    ours = statistics.median(r[0]["step_seconds"] for r in rounds)
    print(f"\n{NETS[name][0].__name__}, batch 100, Adam, float32, {len(rounds)} rounds:")
    print(f"  dvzero : {ours * 1e3:7.1f} ms a step, {ours * 600:6.1f} s an epoch of 600 steps")
    print("           " + ", ".join(f"{label.strip()} {share:.0%}"
                                    for label, share in rounds[-1][0]["shares"]))
    if rounds[0][1] is None:
        return
    theirs = statistics.median(r[1]["step_seconds"] for r in rounds)
    last = rounds[-1][1]
    print(f"  PyTorch: {theirs * 1e3:7.1f} ms a step, {theirs * 600:6.1f} s an epoch "
          f"({last['torch']}, {last['threads']} threads)")
    print("           " + ", ".join(f"{op} {share:.0%}" for op, share in last["shares"]))
    ratios = sorted(r[0]["step_seconds"] / r[1]["step_seconds"] for r in rounds)
    print(f"  dvzero / PyTorch: {statistics.median(ratios):.2f} (rounds: "
          f"{', '.join(f'{ratio:.2f}' for ratio in ratios)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int_at_least(5), default=30)
    parser.add_argument("--rounds", type=int_at_least(1), default=3,
                        help="turns of dvzero and PyTorch, one after the other")
    parser.add_argument("--train", action="store_true", help="run the long trainings too")
    parser.add_argument("--torch-python", default=sys.executable,
                        help="a Python with PyTorch (default: this one); 'none' skips it")
    add_markdown_option(parser)
    args = parser.parse_args()

    use_torch = args.torch_python != "none"
    print(f"CPU: {cpu_model()}; Python {platform.python_version()}, NumPy {np.__version__}")
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False, flatten=False)
    workdir = Path(tempfile.mkdtemp(prefix="dvzero-bench-cnn-"))
    data = workdir / "mnist.npz"
    np.savez(data, x_train=x_train, t_train=t_train, x_test=x_test, t_test=t_test)
    x = x_train.astype(np.float32) / 255
    speeds, trainings = {}, {}
    try:
        for name in NETS:
            rounds = speeds[name] = [
                (dvzero_speed(name, args.steps, x, t_train),
                 torch_run(args.torch_python, data, name, "--steps", str(args.steps))
                 if use_torch else None) for _ in range(args.rounds)]
            print_speed(name, rounds)
        if args.train:
            for name, (_, _, epochs) in NETS.items():
                ours = dvzero_train(name, epochs, workdir / name)
                theirs = torch_run(args.torch_python, data, name, "--epochs", str(epochs),
                                   "--lr-schedule", "cosine") if use_torch else None
                trainings[name] = ours, theirs
                print_training(name, epochs, ours, theirs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    write_table(args.markdown, speeds, trainings, use_torch)


def write_table(directory: Path | None, speeds: dict, trainings: dict, use_torch: bool) -> None:
    """Each network's step, dvzero's and PyTorch's, and their test accuracies after the
    long runs (if run), as a Markdown snippet in ``directory``."""
    header = ["", ("dvzero, one step", "dvzero，每步")]
    if use_torch:
        header += [("PyTorch, one step", "PyTorch，每步"), "dvzero / PyTorch"]
    if trainings:
        header.append(("test accuracy, dvzero", "dvzero 的测试精度"))
        if use_torch:
            header.append(("test accuracy, PyTorch", "PyTorch 的测试精度"))
    rows = []
    for name, rounds in speeds.items():
        network, _, epochs = NETS[name]
        label = network.__name__
        if trainings:
            label = (f"{label}, {epochs} epochs", f"{label}，{epochs} 个 epoch")
        ours = statistics.median(r[0]["step_seconds"] for r in rounds)
        row = [label, amount(f"{ours * 1e3:.1f}", "ms")]
        if use_torch:
            theirs = statistics.median(r[1]["step_seconds"] for r in rounds)
            ratio = statistics.median(r[0]["step_seconds"] / r[1]["step_seconds"]
                                      for r in rounds)
            row += [amount(f"{theirs * 1e3:.1f}", "ms"), f"{ratio:.2f}"]
        if trainings:
            row += [f"{side['test_acc_list'][-1]:.4f}" for side in trainings[name] if side]
        rows.append(row)
    write_snippet(directory, "cnn", header, rows, note=None if use_torch else NO_TORCH)


def print_training(name: str, epochs: int, ours: dict, theirs: dict | None) -> None:
    print(f"\n{NETS[name][0].__name__}, {epochs} epochs (dvzero train --net {NETS[name][1]} "
          f"--epochs {epochs} --seed 1):")
    print(f"  dvzero : test acc by epoch {', '.join(f'{a:.4f}' for a in ours['test_acc_list'])}")
    print(f"           best {max(ours['test_acc_list']):.4f}, final "
          f"{ours['test_acc_list'][-1]:.4f}; {ours['epoch_seconds']:.1f} s an epoch with its "
          f"evaluation, {ours['wall']:.0f} s in all"
          + f", peak memory {ours['peak_mib']:.0f} MiB")
    if theirs:
        epoch = statistics.median(theirs["epoch_seconds"])
        print(f"  PyTorch: test acc by epoch "
              f"{', '.join(f'{a:.4f}' for a in theirs['test_acc_list'])}")
        print(f"           best {max(theirs['test_acc_list']):.4f}, final "
              f"{theirs['test_acc_list'][-1]:.4f}; {epoch:.1f} s an epoch (training only)")


if __name__ == "__main__":
    main()
