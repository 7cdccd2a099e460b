"""The types of the ``dvzero`` command's arguments: each turns a word into a value or refuses
it in one line that says what it expected and what it got."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..runs.config import INITS


def _number(convert, is_valid, requirement: str):
    """An argparse type: ``convert(text)``, which must satisfy ``is_valid``."""
    expected = "a whole number" if convert is int else "a number"

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not (math.isfinite(value) and is_valid(value)):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text}")
        return value

    return parse


positive_count = _number(int, lambda value: value >= 1, "at least 1")
port_number = _number(int, lambda value: 0 <= value <= 65535, "from 0 to 65535")
seed_int = _number(int, lambda value: value >= 0, ">= 0")
positive_float = _number(float, lambda value: value > 0, "a finite number > 0")
non_negative_float = _number(float, lambda value: value >= 0, "a finite number >= 0")
share = _number(float, lambda value: 0 < value < 1, "more than 0 and less than 1")


def hidden_sizes(text: str) -> list[int]:
    """``100`` or ``100,100,50``: the widths of the hidden layers."""
    parts = text.split(",")
    if not all(part.strip().isdigit() for part in parts):
        raise argparse.ArgumentTypeError(
            f"expected whole numbers separated by commas (e.g. 100,100), got {text!r}")
    if any(int(part) < 1 for part in parts):
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return [int(part) for part in parts]


def init_option(text: str) -> str | float:
    """``he``, ``xavier`` or a positive number: the scale of the initial weights."""
    if text in INITS:
        return text
    return _number(float, lambda value: value > 0,
                   f"'he', 'xavier' or a number > 0 (got {text})")(text)


def path(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return Path(text)
