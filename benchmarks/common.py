"""What the benchmark scripts share: the CPU's name, argument types, the MNIST file for
the PyTorch sides, the launcher that measures a command from outside, and the Markdown
snippets the documentation includes."""

from __future__ import annotations

import argparse
import platform
import shlex
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from dvzero import load_mnist
from dvzero.apps.bench import cpu_model


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


#: A table cell: one text for both languages, or (English, Chinese).
Cell = str | tuple[str, str]

#: The units of the tables, in Chinese.
UNITS_ZH = {"s": "秒", "ms": "毫秒", "minutes": "分钟", "hours": "小时", "MiB": "MiB"}


def amount(number: str, unit: str) -> tuple[str, str]:
    """``number unit`` in English and in Chinese: ``amount("0.25", "ms")`` is
    ``("0.25 ms", "0.25 毫秒")``."""
    return f"{number} {unit}", f"{number} {UNITS_ZH[unit]}"


#: The note of a table whose PyTorch side was not run.
NO_TORCH = ("PyTorch was not measured: `--torch-python PATH` measures it too.",
            "这次没有测量 PyTorch：加上 `--torch-python PATH` 即可一并测量。")


def add_markdown_option(parser: argparse.ArgumentParser) -> None:
    """The scripts' ``--markdown DIR``: without it no snippet is written."""
    parser.add_argument("--markdown", metavar="DIR", type=Path,
                        help="also write the table(s) as Markdown into DIR: NAME.md in English, "
                        "NAME.zh.md in Chinese (the documentation's benchmarks/results)")


def command_line() -> str:
    """The command that ran this benchmark, as a reader would type it again: ``python
    benchmarks/SCRIPT.py`` and its options, less ``--markdown DIR`` (where the tables go
    changes no figure), with ``--torch-python PATH`` for the measuring machine's own path."""
    words = [f"benchmarks/{Path(sys.argv[0]).name}"]
    rest = iter(sys.argv[1:])
    for word in rest:
        option, equals, value = word.partition("=")
        if option not in ("--markdown", "--torch-python"):
            words.append(word)
            continue
        value = value if equals else next(rest, "")
        if option == "--torch-python":
            words += [option, value if value == "none" else "PATH"]
    return "python " + shlex.join(words)


def write_snippet(directory: Path | None, name: str, header: list[Cell],
                  rows: list[list[Cell]], note: Cell | None = None) -> None:
    """Write a table for the documentation to include: ``directory/name.md`` in English and
    ``directory/name.zh.md`` in Simplified Chinese, each the table, then ``note`` if any,
    then one line naming the command, the date (UTC), the CPU, Python and NumPy. Each cell
    is one text for both languages or a pair (English, Chinese). Without a directory (no
    ``--markdown``) nothing is written."""
    if directory is None:
        return
    command = f"`{command_line()}`"
    date = datetime.now(timezone.utc).date().isoformat()
    python, numpy = f"Python {platform.python_version()}", f"NumPy {np.__version__}"
    footer = (f"Measured with {command} on {date} (UTC); CPU: {cpu_model()}, {python}, "
              f"{numpy}.",
              f"用 {command} 于 {date}（UTC）测得；CPU：{cpu_model()}，{python}，{numpy}。")
    directory.mkdir(parents=True, exist_ok=True)
    for language, suffix in ((0, ".md"), (1, ".zh.md")):
        lines = [table_line([in_language(cell, language) for cell in header]),
                 table_line(["---"] * len(header)),
                 *(table_line([in_language(cell, language) for cell in row]) for row in rows)]
        text = "\n".join(lines) + "\n\n"
        if note:
            text += in_language(note, language) + "\n\n"
        text += footer[language] + "\n"
        (directory / f"{name}{suffix}").write_text(text, encoding="utf-8")


def in_language(cell: Cell, language: int) -> str:
    """The cell's text in ``language``: 0 English, 1 Chinese."""
    return cell if isinstance(cell, str) else cell[language]


def table_line(texts: list[str]) -> str:
    """One line of a Markdown table: an empty cell stays empty, a | in a text is escaped."""
    return "|" + "|".join(f" {text} ".replace("|", r"\|") if text else " "
                          for text in texts) + "|"
