"""What each ``dvzero`` command does: call the library, print what it gives back."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from typing import Any

from .._atomic import atomic_write
from .._format import count, duration, rate
from .._version import __version__
from ..errors import UsageError
from ..runs.config import option
from ..runs.directory import check_data_dir
from ..runs.files import describe_data
from .parser import RUN_OPTIONS, build_parser
from .progress import progress
from .words import listed

EXIT_FAILURE = 1
EXIT_SIGNALS = {"SIGINT": 130, "SIGTERM": 143}


def _announce(name: str) -> None:
    """Say on stderr that signal ``name`` stops training after the step in progress. With
    ``os.write``, not print: the signal may have interrupted a print to stderr, and the
    buffered stream would refuse the reentrant call."""
    again = "Ctrl-C" if name == "SIGINT" else name
    with contextlib.suppress(AttributeError, OSError, ValueError):  # not a real file
        os.write(sys.stderr.fileno(), f"\ndvzero train: {name}: stopping after the step in "
                                      f"progress ({again} again to quit at once)\n".encode())


def _run_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line (``None`` where the defaults apply)."""
    if args.init is not None and args.weight_init_std is not None:
        raise UsageError("--init and --weight-init-std set the same thing; give one")
    check_data_dir(args.data_dir)
    settings = {name: getattr(args, name) for name in RUN_OPTIONS
                if name not in ("init", "shuffle", "data_dir", "out")}
    settings["weight_init_std"] = args.init if args.init is not None else args.weight_init_std
    settings["lr"] = args.lr
    settings["sampling"] = "shuffle" if args.shuffle else None
    settings["data_dir"] = None if args.data_dir is None else str(args.data_dir.resolve())
    return settings


def command_train(args: argparse.Namespace, start: float) -> int:
    from ..runs import Run, StopOnSignal

    if args.resume is not None:
        given = [option(name) for name in RUN_OPTIONS if getattr(args, name) is not None]
        if given:
            raise UsageError(f"--resume continues a run with the settings it started with; "
                             f"leave out {', '.join(given)} (only --lr may change, e.g. after "
                             f"a divergence)")
        run = Run.resume(args.resume, lr=args.lr)
    else:
        run = Run.start(_run_settings(args), args.out)
    warned = run.load_data()  # before the run is announced: the data may be refused
    if args.resume is not None:
        print(f"dvzero {__version__}: resuming {run.run_dir} at step {run.next_step} of "
              f"{run.config['steps']}" + (f" with lr {args.lr}" if args.lr is not None else ""))
    else:
        print(f"dvzero {__version__}: training into {run.run_dir}")
    _print_data(run)
    for warning in warned:
        print(f"dvzero train: warning: {warning}", file=sys.stderr)
    # From here to the last file written, SIGINT and SIGTERM stop training cleanly after the
    # step in progress; once training is done they wait for the files to be complete.
    try:
        with StopOnSignal(run, announce=_announce) as stop:
            outcome = run.train([progress(run.config["steps"], args.no_progress,
                                          numerical=run.config["numerical"])], beside=True)
            if outcome.status == "finished":
                summary = run.finish(start)
    except OSError as exc:  # writing the run directory: a full disk, a permission lost
        if not run.wrote(exc):
            raise  # not the run's files (a closed pipe, ...): the usual one line
        print(f"dvzero train: error: {run.write_error(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        run.release()
    if outcome.status != "finished":
        return _report_unfinished(run, outcome, stop.received)
    steps = run.config["steps"] - run.next_step
    print(f"final: train acc {summary['train_acc']:.4f}, test acc {summary['test_acc']:.4f}; "
          f"{count(steps, 'step')} in {duration(summary['train_seconds'])} "
          f"({rate(steps, summary['train_seconds'])}), "
          f"{duration(summary['wall_seconds'])} in all")
    print(f"wrote {run.run_dir}/: {', '.join(run.files)}")
    return 0


def _print_data(run) -> None:
    """Print which images the run trains, validates and tests on."""
    test_size = len(run.test[0])
    sets = f"{run.train_size} training and {test_size} test images" if not run.val else \
        f"{run.train_size} training, {len(run.val[0])} validation and {test_size} test images"
    print(f"data: {sets} of {run.input_size} pixels ({describe_data(run.config['data_dir'])})")


def _report_unfinished(run, outcome, signal_name: str | None) -> int:
    """Say why training stopped before its last step, and how to go on; the exit code."""
    if outcome.status == "diverged":
        advice = ""
        if outcome.checkpoint_step is not None:
            where = (f"the checkpoint after step {outcome.checkpoint_step - 1}"
                     if outcome.checkpoint_step else "the starting checkpoint")
            advice = (f" The last good checkpoint is kept; continue from {where} with "
                      f"'dvzero train --resume {run.run_dir} --lr {outcome.lower_lr:g}'")
        print(f"dvzero train: error: {outcome.error}{advice}", file=sys.stderr)
        return EXIT_FAILURE
    stopped = (f"dvzero train: stopped by {signal_name} after step "
               f"{run.trainer.next_step - 1} of {run.config['steps']}")
    if outcome.saved:
        print(f"{stopped}; checkpoint saved in {run.checkpoint}; resume with 'dvzero train "
              f"--resume {run.run_dir}'", file=sys.stderr)
    else:
        print(f"{stopped}, with the loss exploding; the last good checkpoint is kept in "
              f"{run.checkpoint}; resume from it with a lower learning rate: 'dvzero train "
              f"--resume {run.run_dir} --lr {outcome.lower_lr:g}'", file=sys.stderr)
    return EXIT_SIGNALS.get(signal_name or "", 130)


def command_evaluate(args: argparse.Namespace) -> int:
    check_data_dir(args.data_dir)
    from ..apps.evaluate import evaluate

    result = evaluate(args.source, args.data_dir)
    why = {"given": "given with --data-dir", "run": "the data the run was trained on",
           "default": "the default; the file does not record its training data"}
    print(f"data: {result.test_size} test images of {result.input_size} pixels "
          f"({describe_data(result.data_dir)}: {why[result.origin]})")
    for warning in result.warnings:
        print(f"dvzero evaluate: warning: {warning}", file=sys.stderr)
    print(f"test acc {result.accuracy:.4f} ({result.test_size} images, {result.params_file})")
    return 0


def _refuse_to_replace(paths, force: bool, advice: str) -> None:
    """The rule of every file a command writes: one that exists is replaced only with
    --force. ``advice``: the other way to proceed."""
    existing = [str(path) for path in paths if os.path.lexists(path)]
    if existing and not force:
        one = len(existing) == 1
        raise UsageError(f"{listed(existing)} already exist{'s' if one else ''}; add --force "
                         f"to replace {'it' if one else 'them'}, {advice}")


def command_predict(args: argparse.Namespace) -> int:
    from ..apps.predict import (
        bar_chart,
        load_predictor,
        predict_files,
        show_predictions,
        shown_names,
    )

    predictor = load_predictor(args.model)
    predictions, errors = predict_files(predictor, args.images)
    if args.show:
        _refuse_to_replace(shown_names(predictions, os.getcwd(), args.images), args.force,
                           "or run the command in another directory")
    if args.json:
        print(json.dumps([prediction.as_json() for prediction in predictions]))
    else:
        print(f"model: {predictor.params_file} ({predictor.name})")
        for prediction in predictions:
            print(f"{prediction.file}: {prediction.digit} "
                  f"(probability {max(prediction.probabilities):.3f})")
            print("\n".join(bar_chart(prediction.probabilities)))
    for error in errors:
        print(f"dvzero predict: error: {error}", file=sys.stderr)
    if args.show:
        written, failed = show_predictions(predictor, predictions, os.getcwd(), args.images)
        for error in failed:
            print(f"dvzero predict: error: {error}", file=sys.stderr)
        errors += failed
        if written:
            print(f"wrote {', '.join(map(str, written))}", file=sys.stderr if args.json
                  else sys.stdout)
    return 1 if errors else 0


def command_plot(args: argparse.Namespace) -> int:
    check_data_dir(args.data_dir)
    from ..apps.plot import plot_run
    from ..runs.pictures import PICTURES

    existing = [name for name in PICTURES if os.path.lexists(args.run_dir / name)]
    if existing and not args.force:
        raise UsageError(f"{args.run_dir} already has {listed(existing)}; add --force to draw "
                         f"{'it' if len(existing) == 1 else 'them'} again")

    result = plot_run(args.run_dir, args.data_dir)
    print(f"data: {describe_data(result.data_dir)}")
    print(f"wrote {result.run_dir}/: {', '.join(result.files)}")
    return 0


def command_graph(args: argparse.Namespace) -> int:
    from ..apps.graph import draw_loss_graph
    from ..errors import GraphvizMissing

    _check_out_file(args.out, (".png", ".svg"), "the picture is a PNG or an SVG")
    _refuse_to_replace([args.out, args.out.with_suffix(".dot")], args.force,
                       "or give another name with --out")
    try:
        drawing = draw_loss_graph(args.out, args.source)
    except GraphvizMissing as exc:
        print(f"dvzero graph: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"{drawing.network} ({drawing.params_file or 'fresh, seed 0'}): loss "
          f"{drawing.loss:.4f} on the first 100 training images")
    print(f"wrote {', '.join(map(str, drawing.files))}")
    return 0


def _check_out_file(out, suffix: str | tuple[str, ...], what: str) -> None:
    """Refuse an --out file of the wrong kind, or in a directory that does not exist."""
    suffixes = (suffix,) if isinstance(suffix, str) else suffix
    if out.suffix.lower() not in suffixes:
        raise UsageError(f"--out {out}: {what}; give a name ending in {' or '.join(suffixes)}")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: the directory {out.parent} does not exist")


def command_data(args: argparse.Namespace) -> int:
    check_data_dir(args.data_dir)
    _check_out_file(args.out, ".png", "the picture is a PNG")
    _refuse_to_replace([args.out], args.force, "or give another name with --out")
    from ..apps.plot import draw_data_samples

    counts = draw_data_samples(args.out, args.data_dir)
    print(f"{describe_data(args.data_dir)}: {sum(counts.values()):,} training images")
    print("  " + ", ".join(f"{label}: {count:,}" for label, count in counts.items()))
    print(f"wrote {args.out}")
    return 0


def command_serve(args: argparse.Namespace) -> int:
    from ..web import Catalog, is_loopback, make_server, url_of

    catalog = Catalog("runs", args.model)
    if not catalog.entries():
        print("dvzero serve: no finished run in runs/ yet; training the original post's "
              "network first")
        trained = command_train(build_parser().parse_args(
            ["train"] + ["--no-progress"] * args.no_progress), time.perf_counter())
        if trained != 0:
            return trained
    try:
        server = make_server(catalog, args.host, args.port, log=lambda line: print(
            f"dvzero serve: {line}", file=sys.stderr, flush=True))
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host} port {args.port} ({exc.strerror or exc});"
                         f" choose another with --port, or --port 0 for a free one") from None
    if not is_loopback(args.host):
        print(f"dvzero serve: warning: listening on {args.host or 'every address'}: anyone "
              f"who can reach this computer can use the page", file=sys.stderr)
    try:  # from the moment the address is printed, Ctrl-C and SIGTERM are a clean stop
        print(f"models: {', '.join(entry.id for entry in catalog.entries())}")
        print(f"serving on {url_of(server)} (Ctrl-C to stop)", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        print("\ndvzero serve: stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0


def command_bench(args: argparse.Namespace) -> int:
    from ..apps.bench import report_lines, run_bench

    _check_out_file(args.out, ".json", "the figures are JSON")
    _refuse_to_replace([args.out], args.force, "or give another name with --out")
    result = run_bench(lambda what: print(f"measuring {what} ...", file=sys.stderr, flush=True))
    print("\n".join(report_lines(result)))
    with atomic_write(args.out, "w") as handle:
        json.dump(result.as_json(), handle, indent=1)
    print(f"wrote {args.out}")
    return 0


def command_experiment(args: argparse.Namespace) -> int:
    check_data_dir(args.data_dir)
    from ..apps.experiments import run_experiment

    print(f"dvzero {__version__}: experiment {args.name}")
    result = run_experiment(args.name, out=args.out, seed=args.seed, data_dir=args.data_dir,
                            progress=None if args.no_progress else
                            lambda label, steps: progress(steps, False, label, lines=False))
    for line in result.lines:
        print(line)
    print(f"wrote {result.run_dir}/: {', '.join(result.files)} ({duration(result.seconds)})")
    return 0
