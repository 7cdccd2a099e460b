"""The types of the ``dvzero`` command's arguments: each turns a word into a value or refuses
it in one line that says what it expected and what it got."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from .._i18n import N_, _
from ..runs.config import INITS


def _number(convert, is_valid, refusal: str):
    """An argparse type: ``convert(text)``, which must satisfy ``is_valid``; ``refusal``
    (marked with ``N_``, with ``{text}`` for the word given) says what it must be."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            expected = (_("expected a whole number, got {text!r}") if convert is int
                        else _("expected a number, got {text!r}"))
            raise argparse.ArgumentTypeError(expected.format(text=text)) from None
        if not (math.isfinite(value) and is_valid(value)):
            raise argparse.ArgumentTypeError(_(refusal).format(text=text))
        return value

    return parse


positive_count = _number(int, lambda value: value >= 1, N_("must be at least 1, got {text}"))
port_number = _number(int, lambda value: 0 <= value <= 65535,
                      N_("must be from 0 to 65535, got {text}"))
seed_int = _number(int, lambda value: value >= 0, N_("must be >= 0, got {text}"))
positive_float = _number(float, lambda value: value > 0,
                         N_("must be a finite number > 0, got {text}"))
non_negative_float = _number(float, lambda value: value >= 0,
                             N_("must be a finite number >= 0, got {text}"))
share = _number(float, lambda value: 0 < value < 1,
                N_("must be more than 0 and less than 1, got {text}"))
_scale = _number(float, lambda value: value > 0,
                 N_("must be 'he', 'xavier' or a number > 0 (got {text})"))


def hidden_sizes(text: str) -> list[int]:
    """``100`` or ``100,100,50``: the widths of the hidden layers."""
    parts = text.split(",")
    if not all(part.strip().isdigit() for part in parts):
        raise argparse.ArgumentTypeError(
            _("expected whole numbers separated by commas (e.g. 100,100), got {text!r}")
            .format(text=text))
    if any(int(part) < 1 for part in parts):
        raise argparse.ArgumentTypeError(_("must be at least 1, got {text}").format(text=text))
    return [int(part) for part in parts]


def init_option(text: str) -> str | float:
    """``he``, ``xavier`` or a positive number: the scale of the initial weights."""
    if text in INITS:
        return text
    return _scale(text)


def path(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError(_("expected a path, got an empty string"))
    return Path(text)
