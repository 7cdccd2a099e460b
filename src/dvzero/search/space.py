"""The space of a hyper-parameter search: the settings it varies, how, and each trial's values.

A dimension is one setting searched: a range (:class:`LogUniform` for the learning rate and
the weight decay, :class:`Uniform` for other floats, :class:`IntRange` for whole numbers) or
values to choose from (:class:`Choice`). A :class:`Space` holds them by the keys of a run's
settings (``weight_init_std`` for ``--init``, ``sampling`` for ``--shuffle``) and gives each
trial's values, drawn at random or the points of a grid. Ranges come from the command line
(``--lr 1e-4:1e-1``, :func:`range_option`) or a space file (:mod:`~.spacefile`).

Notes
-----
Trial ``i``'s values depend only on the search's seed, ``i`` and the space: they are drawn
from ``np.random.default_rng(np.random.SeedSequence([seed, i]))``, one draw per dimension
in the order of the settings' names. A resumed search, or trials run in any order on any
number of machines, get the same table. NumPy's generators give the same draws on every
machine, and drawn floats are rounded to 4 significant digits, so the values are the same
everywhere and read well in ``results.csv``; the figures a trial trains to may still round
differently on another machine.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._i18n import N_, _
from ..errors import UsageError
from ..runs.config import CONFIG_CHECKS, option

#: The settings a space may search, by their keys in a run's settings.
SEARCHABLE = ("lr", "weight_decay", "dropout", "hidden", "optimizer", "batch_size", "net",
              "activation", "weight_init_std", "lr_schedule", "epochs", "steps", "batchnorm",
              "sampling", "train_eval_sample", "dtype", "gradient")
#: Settings a space file may fix but not search; and those the search sets itself.
_FIXED_ONLY = ("numerical",)
OWN = ("out", "seed", "resume", "data_dir", "threads", "val_split", "no_progress")
#: The settings searched on a log scale; those that take whole numbers.
_LOG = ("lr", "weight_decay")
_INTS = ("batch_size", "epochs", "steps", "train_eval_sample", "hidden")
#: The settings that may have a range: what its ends must be, and the refusal that says so.
_RANGES = {
    "lr": (lambda low, high: low > 0, N_("{given}: the learning rate is searched on a log "
                                         "scale, so both ends must be > 0")),
    "weight_decay": (lambda low, high: low > 0, N_(
        "{given}: the weight decay is searched on a log scale, so both ends must be > 0 (to "
        "try 0 too, list the values in a space file)")),
    "dropout": (lambda low, high: low >= 0 and high < 1,
                N_("{given}: both ends must be at least 0 and below 1")),
    "weight_init_std": (lambda low, high: low > 0, N_("{given}: both ends must be > 0")),
    **dict.fromkeys(_INTS, (lambda low, high: low >= 1,
                            N_("{given}: both ends must be whole numbers of at least 1"))),
}
#: Options whose setting has another name; and names users may mean, for suggestions.
_ALIASES = {"init": "weight_init_std", "shuffle": "sampling"}
_MEANT = {"learning_rate": "lr", "sampling": "shuffle", "hidden_size": "hidden",
          "network": "net", "weight_init": "init"}
METHODS = ("random", "grid")


def setting(name: str) -> str | None:
    """The setting an option names in any spelling (``--weight-decay``, ``weight-decay``,
    ``weight_decay``; ``init``, ``shuffle``), or ``None`` for no option of a run."""
    key = name.lstrip("-").replace("-", "_")
    key = _ALIASES.get(key, key)
    return key if key in SEARCHABLE + _FIXED_ONLY + OWN else None


def option_name(key: str) -> str:
    """The option of setting ``key``, as users know it: ``--weight-decay``, ``--init``."""
    return {"weight_init_std": "--init", "sampling": "--shuffle"}.get(key, option(key))


def _file_name(key: str) -> str:
    """How a space file names setting ``key``: ``batch_size``, ``init``, ``shuffle``."""
    return option_name(key)[2:].replace("-", "_")


def _round4(value: float) -> float:
    """``value`` to 4 significant digits (Python's formatting rounds the same everywhere)."""
    return float(f"{value:.4g}")


class Dimension:
    """One setting searched: ``draw(rng)`` a value, ``points()`` for a grid, ``table()`` as
    written in a space file."""


@dataclass(frozen=True)
class Uniform(Dimension):
    """Floats from ``low`` to ``high``, evenly spread; ``num`` points in a grid."""

    low: float
    high: float
    num: int | None = None

    def draw(self, rng: np.random.Generator) -> Any:
        return self._within(rng.uniform(self.low, self.high))

    def points(self) -> list[Any]:
        return [self._within(value) for value in np.linspace(self.low, self.high, self.num)]

    def _within(self, value: float) -> float:
        return min(max(_round4(float(value)), self.low), self.high)

    def table(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, **({"num": self.num} if self.num else {})}


@dataclass(frozen=True)
class LogUniform(Uniform):
    """Floats from ``low`` to ``high`` (both > 0), as many in each decade: uniform in log
    space; a grid's points are spaced evenly on a log scale."""

    def draw(self, rng: np.random.Generator) -> Any:
        return self._within(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def points(self) -> list[Any]:
        return [self._within(value) for value in np.geomspace(self.low, self.high, self.num)]


@dataclass(frozen=True)
class IntRange(Uniform):
    """Whole numbers from ``low`` to ``high``, both included; a grid's points are rounded."""

    def draw(self, rng: np.random.Generator) -> Any:
        return int(rng.integers(self.low, self.high, endpoint=True))

    def points(self) -> list[Any]:
        spaced = np.rint(np.linspace(self.low, self.high, self.num))
        return list(dict.fromkeys(int(value) for value in spaced))


@dataclass(frozen=True)
class Choice(Dimension):
    """One of ``values``, each as likely; a grid takes each."""

    values: tuple[Any, ...]

    def draw(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]

    def points(self) -> list[Any]:
        return list(self.values)

    def table(self) -> list[Any]:
        return list(self.values)


@dataclass
class Space:
    """The space a search explores.

    Parameters
    ----------
    dimensions
        The dimensions by setting, in any spelling of its option (``"--weight-decay"``,
        ``"init"``); kept by key, in the order of the keys.
    method
        ``"random"`` draws each trial's values; ``"grid"`` tries every combination of the
        dimensions' points (each range needs ``num``).
    """

    dimensions: dict[str, Dimension]
    method: str = "random"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        keys = {name: _searchable(name) for name in self.dimensions}
        self.dimensions = dict(sorted((keys[name], dim) for name, dim in self.dimensions.items()))
        if self.method == "grid":
            if not self.dimensions:
                raise UsageError(_("--grid: nothing to search; give a range with its number of "
                                   "points (e.g. --lr 1e-4:1e-1:4) or a space file (--space)"))
            for key, dim in self.dimensions.items():
                if isinstance(dim, Uniform) and dim.num is None:
                    raise UsageError(_("{option} {low}:{high}: a grid needs the number of points "
                                       "of each range (LOW:HIGH:N, or num = N in a space file)")
                                     .format(option=option_name(key), low=dim.low, high=dim.high))

    @property
    def size(self) -> int | None:
        """The number of a grid's trials; ``None`` for a random search."""
        if self.method != "grid":
            return None
        return math.prod(len(dim.points()) for dim in self.dimensions.values())

    def trial(self, number: int, seed: int) -> dict[str, Any]:
        """Trial ``number``'s values (from 0), by setting: drawn from ``seed`` and
        ``number`` alone, or the grid's point ``number`` (the last dimension varies fastest)."""
        if self.method == "random":
            rng = np.random.default_rng(np.random.SeedSequence([seed, number]))
            values = {key: dim.draw(rng) for key, dim in self.dimensions.items()}
        else:
            points = [dim.points() for dim in self.dimensions.values()]
            indices = np.unravel_index(number, [len(each) for each in points])
            values = {key: each[int(index)]
                      for key, each, index in zip(self.dimensions, points, indices, strict=True)}
        return {key: list(value) if isinstance(value, list) else value
                for key, value in values.items()}

    def trials(self, count: int | None, seed: int) -> list[dict[str, Any]]:
        """The values of trials 0 to ``count - 1``; a grid's every point (``count`` may be
        ``None`` or its size)."""
        if self.method == "grid":
            check_grid_count(self.size, count, f"--trials {count}")
            count = self.size
        elif count is None:
            raise UsageError(_("--trials: a random search needs the number of trials"))
        return [self.trial(number, seed) for number in range(count)]

    def table(self) -> dict[str, Any]:
        """The dimensions as a space file's ``[space]`` table (plain JSON values), which
        :meth:`from_table` reads back."""
        table = {_file_name(key): dim.table() for key, dim in self.dimensions.items()}
        if "shuffle" in table:  # --shuffle is a flag: true or false in a space file
            table["shuffle"] = [value == "shuffle" for value in table["shuffle"]]
        return table

    @classmethod
    def from_table(cls, table: Mapping[str, Any], method: str = "random") -> Space:
        """A space from a space file's ``[space]`` table (see the module's docstring)."""
        dimensions: dict[str, Dimension] = {}
        check_names(table, "[space]")
        for name, given in table.items():
            key = _searchable(name)
            if isinstance(given, list):
                if not given:
                    raise UsageError(_("{option}: an empty list; give at least one value")
                                     .format(option=option_name(key)))
                dimensions[key] = Choice(tuple(setting_value(key, value) for value in given))
            elif isinstance(given, dict):
                dimensions[key] = _table_range(key, given)
            else:
                raise UsageError(_("{name} = {value!r}: give a list of values or a range such as "
                                   "{{low = 0.001, high = 0.1}}; a single value goes in [fixed]")
                                 .format(name=name, value=given))
        return cls(dimensions, method)


def trial_seed(seed: int, number: int) -> int:
    """The ``--seed`` of trial ``number``'s run, from 0 to 2**32 - 1.

    Notes
    -----
    It comes from the same seed sequence as the trial's values, spawned, so that it is as
    independent of them as of the other trials' seeds, and depends on nothing else.
    """
    child = np.random.SeedSequence([seed, number]).spawn(1)[0]
    return int(child.generate_state(1)[0])


def range_option(name: str, text: str) -> Dimension | None:
    """The range a command-line option gives, or ``None`` for a plain value (fixed).

    Parameters
    ----------
    name
        A setting, in any spelling of its option: ``"lr"``, ``"--batch-size"``, ``"init"``.
    text
        The option's word: ``LOW:HIGH``, or ``LOW:HIGH:N`` for N points of a grid.

    Notes
    -----
    Raises :class:`~dvzero.errors.UsageError`, one line naming the option, for an empty
    range, ends out of bounds (both > 0 for the log-scaled ``--lr`` and ``--weight-decay``),
    words that are not numbers, a range of an option that is not a number, and the options
    the search sets itself (``--seed``, ``--threads``, ...).
    """
    key = setting(name)
    if key is None:
        raise ValueError(f"not an option of a run: {name!r}")
    if ":" not in text or key in ("out", "resume", "data_dir"):
        return None
    given = f"{option_name(key)}{'=' if text.startswith('-') else ' '}{text}"
    _has_range(_searchable(key), given)
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise UsageError(_("{given}: expected LOW:HIGH, or LOW:HIGH:N for N points of a grid")
                         .format(given=given))
    kind = int if key in _INTS else float
    low, high = (_number(kind, end, given) for end in parts[:2])
    num = _number(int, parts[2], given) if len(parts) == 3 else None
    return _range(key, low, high, num, given)


def _has_range(key: str, given: str) -> None:
    if key not in _RANGES:
        raise UsageError(_("{given}: {option} is not a number, so it has no range; list the "
                           "values to try in a space file (--space)")
                         .format(given=given, option=option_name(key)))


def _number(kind: type, text: str, given: str) -> float:
    try:
        value = kind(text)
        if math.isfinite(value):
            return value
    except ValueError:
        pass
    raise _not_number(kind, text, given)


def _not_number(kind: type, text: str, given: str) -> UsageError:
    message = (_("{given}: expected whole numbers, got {text!r}") if kind is int else
               _("{given}: expected numbers, got {text!r}"))
    return UsageError(message.format(given=given, text=text))


def _range(key: str, low: float, high: float, num: int | None, given: str) -> Dimension:
    """The range of setting ``key`` from ``low`` to ``high``, checked; ``given`` is how the
    user wrote it, for the refusals."""
    if not low < high:
        raise UsageError(_("{given}: an empty range (the low end must be below the high end)")
                         .format(given=given))
    valid, refusal = _RANGES[key]
    if not valid(low, high):
        raise UsageError(_(refusal).format(given=given))
    if num is not None and (not isinstance(num, int) or isinstance(num, bool) or num < 2):
        raise UsageError(_("{given}: the number of points must be a whole number of at least "
                           "2, got {num!r}").format(given=given, num=num))
    kind = IntRange if key in _INTS else LogUniform if key in _LOG else Uniform
    return kind(low, high, num)


def _table_range(key: str, given: dict[str, Any]) -> Dimension:
    """A range written ``{low = ..., high = ...[, num = N]}`` in a space file."""
    if set(given) - {"low", "high", "num"} or not {"low", "high"} <= set(given):
        raise UsageError(_("{option} = {value}: a range takes low, high and, for a grid, num")
                         .format(option=option_name(key), value=given))
    low, high = given["low"], given["high"]
    text = f"{option_name(key)} {low}:{high}"
    _has_range(key, text)
    kind = int if key in _INTS else float
    for end in (low, high):
        if not isinstance(end, (kind, int)) or isinstance(end, bool) or not math.isfinite(end):
            raise _not_number(kind, str(end), text)
    return _range(key, low, high, given.get("num"), text)


def setting_value(key: str, value: Any) -> Any:
    """A value of setting ``key`` written in a space file, as a run's settings hold it."""
    if key == "sampling" and isinstance(value, bool):
        value = "shuffle" if value else "replacement"
    elif key == "hidden" and isinstance(value, str):
        widths = [part.strip() for part in value.split(",")]
        value = [int(part) for part in widths] if all(map(str.isdecimal, widths)) else value
    if not CONFIG_CHECKS[key](value) or value == []:
        raise UsageError(_("{option} {value!r}: not a valid value (see 'dvzero train --help')")
                         .format(option=option_name(key), value=value))
    return value


def _searchable(name: str) -> str:
    key = setting(name)
    if key is None:
        raise ValueError(f"not an option of a run: {name!r}")
    if key in OWN:
        raise UsageError(_("{option} is the search's own and cannot be searched")
                         .format(option=option_name(key)))
    if key in _FIXED_ONLY:
        raise UsageError(_("{option} cannot be searched; give it in [fixed]")
                         .format(option=option_name(key)))
    return key


def check_names(table: Mapping[str, Any], where: str) -> None:
    """Refuses names in ``table`` (the TOML table ``where``) that are not options of a run,
    or name one twice (``weight-decay`` and ``weight_decay``)."""
    keys: dict[str, str] = {}
    for name in table:
        key = setting(name)
        if key is None:
            known = [_file_name(each) for each in SEARCHABLE]
            meant = difflib.get_close_matches(name.lstrip("-").replace("-", "_"),
                                              known + list(_MEANT), n=1)
            raise UsageError(_("unknown option {name!r} (did you mean {option}?)")
                             .format(name=name, option=_MEANT.get(meant[0], meant[0]))
                             if meant else
                             _("unknown option {name!r}; a space file takes {options}")
                             .format(name=name, options=", ".join(known)))
        if key in keys:
            raise UsageError(_("{option} is given twice, as {first} and as {second}")
                             .format(option=option_name(key), first=f"{where} {keys[key]}",
                                     second=f"{where} {name}"))
        keys[key] = name


def check_grid_count(size: int | None, count: Any, given: str) -> None:
    if count is not None and count != size:
        raise UsageError(_("{given}: a grid search tries each of the grid's {size} points; "
                           "leave out the number of trials").format(given=given, size=size))
