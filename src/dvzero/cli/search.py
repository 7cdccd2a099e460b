"""``dvzero search``: its options — ``dvzero train``'s, each number also a range
``LOW:HIGH`` to search — and the command, which plans the trials, runs them on Dask
(:mod:`dvzero.search.runner`) and prints a line a trial and the ranked table."""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
from pathlib import Path

from .._i18n import _
from ..errors import UsageError
from .helptext import HelpFormatter
from .progress import bar_class
from .types import non_negative_float, path, positive_count, positive_float, seed_int, share
from .words import comma

#: The options of ``dvzero train`` that the search sets itself.
SEARCH_OWN = ("--val-split", "--seed", "--data-dir", "--out", "--resume", "--threads",
              "--no-progress")
#: The argument types whose options may be given as a range.
NUMBERS = (positive_float, non_negative_float, share, positive_count)
#: The options that may come with --resume.
WITH_RESUME = ("resume", "workers", "scheduler", "no_progress")


class Range(str):
    """A range given on the command line, ``LOW:HIGH`` (or ``LOW:HIGH:N`` for a grid): read
    by :func:`dvzero.search.range_option` once every option is known."""


def _number_or_range(convert):
    def parse(text: str):
        return Range(text) if ":" in text else convert(text)

    return parse


def add_search(commands, option_groups) -> None:
    """The parser of ``dvzero search``; ``option_groups`` add ``dvzero train``'s options."""
    search = commands.add_parser(
        "search", help=_("search for good settings: many runs, on Dask"),
        description=_("Train many runs with settings drawn from a space and rank them by "
                      "their accuracy on a validation split: any option of 'dvzero train' "
                      "given as LOW:HIGH is searched (the learning rate and the weight decay "
                      "on a log scale), the others are fixed. The trials run on worker "
                      "processes on this computer, or on a Dask cluster (--scheduler). The "
                      "test set is used once, for the best trial."),
        formatter_class=HelpFormatter,
        epilog=_("examples:\n"
                 "  dvzero search --net mlp --trials 20 --lr 1e-4:1e-1 --weight-decay "
                 "1e-8:1e-3 --epochs 5\n"
                 "  dvzero search --space space.toml --scheduler tcp://10.0.0.5:8786\n"
                 "  dvzero search --resume runs/search-a\n"))
    dests: list[str] = []

    def add(name: str, **options) -> None:
        if name in SEARCH_OWN:
            return
        if options.get("type") in NUMBERS:
            options["type"] = _number_or_range(options["type"])
        dests.append(search.add_argument(name, **options).dest)

    for add_options in option_groups:
        add_options(add)
    search.set_defaults(train_settings=tuple(dests))
    own = search.add_argument
    own("--space", type=path, metavar="FILE.toml", help=_(
        "the space as a TOML file: ranges, choices (lists), grids, fixed settings"))
    own("--trials", type=positive_count, help=_("trials of a random search (default: 20)"))
    own("--grid", action="store_true", help=_(
        "a grid search: every combination of the ranges' points (LOW:HIGH:N) and choices"))
    own("--workers", type=positive_count, help=_(
        "worker processes on this computer, one thread each (default: one per core)"))
    own("--scheduler", metavar="tcp://HOST:PORT", help=_(
        "the address of a running Dask scheduler: the trials run on its workers"))
    own("--val-split", type=share, metavar="SHARE", help=_(
        "the share of the training images each trial is judged on (default: 0.1)"))
    own("--seed", type=seed_int, help=_(
        "the search's seed: every trial's settings and seed come from it and the trial's "
        "number (default: a fresh one, recorded in search.json)"))
    own("--data-dir", type=path, help=_(
        "directory with the four IDX files, as the workers see it (default: the MNIST copy "
        "shipped with dvzero)"))
    own("--out", type=path, help=_("the search's directory (default: runs/search-<timestamp>)"))
    own("--resume", type=path, metavar="DIR", help=_(
        "run the trials a stopped search has not finished"))
    own("--no-progress", action="store_true", help=_("no progress bar"))


def _planned(args: argparse.Namespace):
    """The search asked for: its directory, its trials, the searched settings' scales."""
    from ..search import Choice, LogUniform, Space, load_space, range_option, setting
    from ..search.space import trial_seed
    from ..search.trial import Trial

    space, fixed, options = (load_space(args.space) if args.space is not None
                             else (Space({}), {}, {}))
    dimensions = dict(space.dimensions)
    for dest in args.train_settings:
        value, key = getattr(args, dest), setting(dest)
        if value is None or value is False:
            continue
        if key in dimensions or key in fixed:
            raise UsageError(_("{option} is given twice: on the command line and in {file}")
                             .format(option="--" + dest.replace("_", "-"), file=args.space))
        if isinstance(value, Range):
            dimensions[key] = range_option(dest, str(value))
        else:
            fixed[key] = "shuffle" if key == "sampling" else value
    method = "grid" if args.grid else options.get("method", "random")
    space = Space(dimensions, method)
    if not space.dimensions:
        raise UsageError(_("nothing to search: give an option as a range LOW:HIGH (e.g. --lr "
                           "1e-4:1e-1) or a space file (--space)"))
    count = args.trials or options.get("trials") or (None if method == "grid" else 20)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    data_dir = None if args.data_dir is None else str(args.data_dir.resolve())
    plan = [Trial(index + 1, {**fixed, **values, "seed": trial_seed(seed, index),
                              "val_split": args.val_split or 0.1, "data_dir": data_dir})
            for index, values in enumerate(space.trials(count, seed))]
    scales = {key: "choice" if isinstance(dimension, Choice) else
              "log" if isinstance(dimension, LogUniform) else "linear"
              for key, dimension in space.dimensions.items()}
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out if args.out is not None else Path("runs") / f"search-{stamp}"
    return out, plan, scales, seed


def command_search(args: argparse.Namespace) -> int:
    from ..search.runner import Search, dask_client, run_search, show

    if args.resume is not None:
        given = [name for name in vars(args) if name not in (*WITH_RESUME, "command",
                                                             "train_settings")
                 and getattr(args, name) not in (None, False)]
        if given:
            raise UsageError(_("--resume goes on with the search as it was planned; leave out "
                               "{options}").format(options=comma().join(
                                   "--" + name.replace("_", "-") for name in given)))
        search = Search.resume(args.resume)
    else:
        out, plan, scales, seed = _planned(args)  # every refusal before any trial runs
        search = Search.start(out, plan, scales, seed)
    total, done = len(search.plan), len(search.results)
    print(_("dvzero search: {total} trials into {out} ({done} done), on {where}").format(
        total=total, out=search.out, done=done,
        where=args.scheduler or _("worker processes on this computer")))
    settings = {trial.number: trial.settings for trial in search.plan}
    bar = bar_class()(total=total, initial=done, unit=_("trial"), disable=args.no_progress,
                      dynamic_ncols=True, file=sys.stderr)

    def report(result) -> None:
        values = comma().join(f"{key} {show(settings[result.number].get(key))}"
                              for key in search.searched)
        line = (_("trial {number}: val acc {acc:.4f} ({values}), {seconds:.1f} s")
                if result.status == "finished" else
                _("trial {number}: failed ({values}): {reason}"))
        bar.write(line.format(number=result.number, acc=result.val_acc or 0.0, values=values,
                              seconds=result.seconds, reason=result.reason), file=sys.stdout)
        bar.update(1)
        best = search.ranked()[0]
        if best.val_acc is not None:
            bar.set_postfix_str(_("best val acc {acc:.4f}").format(acc=best.val_acc))

    try:
        with dask_client(args.workers, args.scheduler) as client:
            run_search(search, client, report)
    except KeyboardInterrupt:
        bar.close()
        print(_("dvzero search: interrupted; {done} of {total} trials are kept in {out}; "
                "'dvzero search --resume {out}' runs the rest")
              .format(done=len(search.results), total=total, out=search.out), file=sys.stderr)
        return 130
    bar.close()
    return _report(search)




def _report(search, shown: int = 10) -> int:
    """Print the best trials as a table, and the best one's test accuracy."""
    from ..search.runner import show

    best = search.finish()
    settings = {trial.number: trial.settings for trial in search.plan}
    rows = [["trial", *search.searched, "val_acc", "status"]]
    rows += [[str(result.number), *(show(settings[result.number].get(key))
                                    for key in search.searched),
              "" if result.val_acc is None else f"{result.val_acc:.4f}", result.status]
             for result in search.ranked()[:shown]]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
              .rstrip())
    if best is None:
        print(_("no trial finished: see the reasons in {file}")
              .format(file=search.out / "results.csv"), file=sys.stderr)
        return 1
    print(_("best: trial {number}, val acc {val:.4f}; its test accuracy, measured once: "
            "{test:.4f}").format(number=best["trial"], val=best["val_acc"],
                                 test=best["test_acc"]))
    print(_("wrote {directory}/: results.csv, settings.png, best.png, search.json, {trials} "
            "trial directories").format(directory=search.out, trials=len(search.results)))
    return 0
