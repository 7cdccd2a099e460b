"""A search's space file: TOML with the tables ``[space]`` (what the search varies),
``[fixed]`` (the same in every trial) and ``[search]`` (what the command line also says)::

    [space]                                  # what the search varies
    lr = {low = 1e-4, high = 0.1}            # log-uniform (lr, weight_decay)
    dropout = {low = 0.0, high = 0.5, num = 3}   # num: the points of a grid search
    batch-size = {low = 32, high = 256}      # whole numbers, both ends included
    optimizer = ["sgd", "adam"]              # a choice
    hidden = [50, "100,100"]                 # one width, or several layers

    [fixed]                                  # the same in every trial
    net = "mlp"
    epochs = 5

    [search]                                 # optional: what the command line also says
    method = "random"                        # or "grid"
    trials = 20

Each refusal is one line naming the file and what is wrong.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from .._i18n import _
from ..errors import UsageError
from .space import (
    METHODS,
    OWN,
    Space,
    check_grid_count,
    check_names,
    option_name,
    setting,
    setting_value,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def load_space(path: str | Path) -> tuple[Space, dict[str, Any], dict[str, Any]]:
    """The space, the fixed settings (by setting) and the ``[search]`` options (``method``,
    ``trials``: those the file gives) of the space file at ``path``.

    Raises
    ------
    UsageError
        One line naming the file and what is wrong: a file missing, not TOML (with the line
        of the error), an unknown option (with the nearest known), a bad value.
    """
    source = str(path)
    try:
        with open(path, "rb") as file:
            document = tomllib.load(file)
    except FileNotFoundError:
        raise UsageError(_("{path}: no such file or directory").format(path=source)) from None
    except OSError as exc:
        raise UsageError(_("{path}: cannot be read ({reason})")
                         .format(path=source, reason=exc.strerror or exc)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        error, line = re.fullmatch(r"(.*?)(?: \(at line (\d+), column \d+\))?", str(exc),
                                   re.DOTALL).groups()
        message = (_("{path}: not valid TOML: {error} (line {line})") if line else
                   _("{path}: not valid TOML: {error}"))
        raise UsageError(message.format(path=source, error=error, line=line)) from None
    try:
        return _read_document(document)
    except UsageError as exc:
        raise UsageError(_("{path}: {message}").format(path=source, message=exc)) from None


def _read_document(document: dict[str, Any]) -> tuple[Space, dict[str, Any], dict[str, Any]]:
    """What :func:`load_space` returns, from the parsed file; refusals without its name."""
    for name, table in document.items():
        if name not in ("space", "fixed", "search") or not isinstance(table, dict):
            raise UsageError(_("{name} = ...: a space file holds only the tables [space], "
                               "[fixed] and [search]").format(name=name))
    options = document.get("search", {})
    for name in set(options) - {"method", "trials"}:
        raise UsageError(_("[search] {name} = ...: the table [search] takes method and trials")
                         .format(name=name))
    method, trials = options.get("method", "random"), options.get("trials")
    if method not in METHODS:
        raise UsageError(_("[search] method = {method!r}: choose from {choices}")
                         .format(method=method, choices=", ".join(METHODS)))
    if trials is not None and (not isinstance(trials, int) or isinstance(trials, bool)
                               or trials < 1):
        raise UsageError(_("[search] trials = {trials!r}: must be a whole number of at least 1")
                         .format(trials=trials))
    space = Space.from_table(document.get("space", {}), method)
    fixed: dict[str, Any] = {}
    check_names(document.get("fixed", {}), "[fixed]")
    for name, value in document.get("fixed", {}).items():
        key = setting(name)
        if key in OWN:
            raise UsageError(_("{option} is the search's own and cannot be set in a space file")
                             .format(option=option_name(key)))
        if key in space.dimensions:
            searched = next(other for other in document["space"] if setting(other) == key)
            raise UsageError(_("{option} is given twice, as {first} and as {second}")
                             .format(option=option_name(key), first=f"[space] {searched}",
                                     second=f"[fixed] {name}"))
        fixed[key] = setting_value(key, value)
    if space.method == "grid":
        check_grid_count(space.size, trials, f"[search] trials = {trials}")
    return space, fixed, options
