"""What the benchmark scripts share: the CPU's name, argument types, the MNIST file for
the PyTorch sides, and the launcher that measures a command from outside."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

from dvzero import load_mnist
from dvzero.apps.bench import cpu_model  # noqa: F401  (the scripts' CPU name)


def write_mnist(path: Path) -> None:
    """The MNIST bytes dvzero ships (uint8 images, labels) into the ``.npz`` file ``path``,
    for a PyTorch side to read (torch_data.mnist_tensors): both sides see the same bytes."""
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False)
    np.savez(path, x_train=x_train, t_train=t_train, x_test=x_test, t_test=t_test)


def int_at_least(low: int):
    """An argparse type: a whole number >= ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


#: Runs the command in its argv, then prints its wall time in seconds and its peak resident
#: memory in KiB. A child's peak counts the memory of the process that forked it (Linux
#: keeps the higher of the two across exec), so a small launcher, not the big benchmark
#: process, starts the run.
PEAK_LAUNCHER = ("import os, subprocess, sys, time\n"
                 "start = time.perf_counter()\n"
                 "child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
                 "_, status, usage = os.wait4(child.pid, 0)\n"
                 "print(time.perf_counter() - start, usage.ru_maxrss)\n"
                 "sys.exit(os.waitstatus_to_exitcode(status))\n")


def measured(command: list[str]) -> tuple[float, float]:
    """Run ``command``; its wall seconds and peak memory in MiB, measured from outside."""
    result = subprocess.run([sys.executable, "-c", PEAK_LAUNCHER, *command],
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command[:4])} ... failed (exit {result.returncode}):\n"
                 f"{result.stderr}")
    wall, peak_kib = result.stdout.split()[-2:]
    return float(wall), int(peak_kib) / 1024


def spread(values: list[float], digits: int) -> str:
    """``median (min-max)`` of ``values``."""
    return (f"{statistics.median(values):.{digits}f} "
            f"({min(values):.{digits}f}-{max(values):.{digits}f})")
