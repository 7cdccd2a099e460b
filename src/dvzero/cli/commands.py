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
from .._format import duration, rate
from .._i18n import _, ngettext
from .._version import __version__
from ..errors import UsageError
from ..runs.config import option
from ..runs.directory import check_data_dir
from ..runs.files import describe_data
from .parser import RUN_OPTIONS, build_parser
from .progress import progress
from .words import comma, listed

EXIT_FAILURE = 1
EXIT_SIGNALS = {"SIGINT": 130, "SIGTERM": 143}


def _announce(name: str) -> None:
    """Say on stderr that signal ``name`` stops training after the step in progress. With
    ``os.write``, not print: the signal may have interrupted a print to stderr, and the
    buffered stream would refuse the reentrant call."""
    again = "Ctrl-C" if name == "SIGINT" else name
    message = _("dvzero train: {signal}: stopping after the step in progress ({again} again "
                "to quit at once)").format(signal=name, again=again)
    with contextlib.suppress(AttributeError, OSError, ValueError):  # not a real file
        os.write(sys.stderr.fileno(), f"\n{message}\n".encode())


def _run_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line (``None`` where the defaults apply)."""
    if args.init is not None and args.weight_init_std is not None:
        raise UsageError(_("--init and --weight-init-std set the same thing; give one"))
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
            raise UsageError(_("--resume continues a run with the settings it started with; "
                               "leave out {options} (only --lr may change, e.g. after a "
                               "divergence)").format(options=comma().join(given)))
        run = Run.resume(args.resume, lr=args.lr)
    else:
        run = Run.start(_run_settings(args), args.out)
    warned = run.load_data()  # before the run is announced: the data may be refused
    if args.resume is not None:
        resuming = (_("dvzero {version}: resuming {run_dir} at step {step} of {steps}")
                    if args.lr is None else
                    _("dvzero {version}: resuming {run_dir} at step {step} of {steps} with lr "
                      "{lr}"))
        print(resuming.format(version=__version__, run_dir=run.run_dir, step=run.next_step,
                              steps=run.config["steps"], lr=args.lr))
    else:
        print(_("dvzero {version}: training into {run_dir}").format(version=__version__,
                                                                   run_dir=run.run_dir))
    _print_data(run)
    for warning in warned:
        print(_("dvzero {command}: warning: {message}").format(command="train", message=warning),
              file=sys.stderr)
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
        print(_("dvzero {command}: error: {message}").format(command="train",
                                                             message=run.write_error(exc)),
              file=sys.stderr)
        return EXIT_FAILURE
    finally:
        run.release()
    if outcome.status != "finished":
        return _report_unfinished(run, outcome, stop.received)
    steps = run.config["steps"] - run.next_step
    if summary["test_acc"] is None:  # a search's trial, resumed: judged on validation only
        print(_("final: train acc {train_acc:.4f}, val acc {val_acc:.4f} (the test set is "
                "left unmeasured)").format(train_acc=summary["train_acc"],
                                           val_acc=summary["val_acc"]))
        print(_("wrote {directory}/: {files}").format(directory=run.run_dir,
                                                      files=", ".join(run.files)))
        return 0
    print(ngettext("final: train acc {train_acc:.4f}, test acc {test_acc:.4f}; {count} step in "
                   "{time} ({rate}), {wall_time} in all",
                   "final: train acc {train_acc:.4f}, test acc {test_acc:.4f}; {count} steps in "
                   "{time} ({rate}), {wall_time} in all", steps)
          .format(train_acc=summary["train_acc"], test_acc=summary["test_acc"], count=steps,
                  time=duration(summary["train_seconds"]),
                  rate=rate(steps, summary["train_seconds"]),
                  wall_time=duration(summary["wall_seconds"])))
    print(_("wrote {directory}/: {files}").format(directory=run.run_dir,
                                                  files=", ".join(run.files)))
    return 0


def _print_data(run) -> None:
    """Print which images the run trains, validates and tests on."""
    data = (_("data: {train} training and {test} test images of {pixels} pixels ({data})")
            if not run.val else
            _("data: {train} training, {validation} validation and {test} test images of "
              "{pixels} pixels ({data})"))
    print(data.format(train=run.train_size, validation=len(run.val[0]) if run.val else 0,
                      test=len(run.test[0]), pixels=run.input_size,
                      data=describe_data(run.config["data_dir"])))


def _report_unfinished(run, outcome, signal_name: str | None) -> int:
    """Say why training stopped before its last step, and how to go on; the exit code."""
    if outcome.status == "diverged":
        error = outcome.error
        if outcome.checkpoint_step is not None:
            advice = (_("{error} The last good checkpoint is kept; continue from the checkpoint "
                        "after step {step} with 'dvzero train --resume {run_dir} --lr {lr:g}'")
                      if outcome.checkpoint_step else
                      _("{error} The last good checkpoint is kept; continue from the starting "
                        "checkpoint with 'dvzero train --resume {run_dir} --lr {lr:g}'"))
            error = advice.format(error=error, step=outcome.checkpoint_step - 1,
                                  run_dir=run.run_dir, lr=outcome.lower_lr)
        print(_("dvzero {command}: error: {message}").format(command="train", message=error),
              file=sys.stderr)
        return EXIT_FAILURE
    stopped = (_("dvzero train: stopped by {signal} after step {step} of {steps}; checkpoint "
                 "saved in {checkpoint}; resume with 'dvzero train --resume {run_dir}'")
               if outcome.saved else
               _("dvzero train: stopped by {signal} after step {step} of {steps}, with the loss "
                 "exploding; the last good checkpoint is kept in {checkpoint}; resume from it "
                 "with a lower learning rate: 'dvzero train --resume {run_dir} --lr {lr:g}'"))
    print(stopped.format(signal=signal_name, step=run.trainer.next_step - 1,
                         steps=run.config["steps"], checkpoint=run.checkpoint,
                         run_dir=run.run_dir, lr=outcome.lower_lr), file=sys.stderr)
    return EXIT_SIGNALS.get(signal_name or "", 130)


def command_evaluate(args: argparse.Namespace) -> int:
    check_data_dir(args.data_dir)
    from ..apps.evaluate import evaluate

    result = evaluate(args.source, args.data_dir)
    data = {"given": _("data: {test} test images of {pixels} pixels ({data}: given with "
                       "--data-dir)"),
            "run": _("data: {test} test images of {pixels} pixels ({data}: the data the run "
                     "was trained on)"),
            "default": _("data: {test} test images of {pixels} pixels ({data}: the default; "
                         "the file does not record its training data)")}[result.origin]
    print(data.format(test=result.test_size, pixels=result.input_size,
                      data=describe_data(result.data_dir)))
    for warning in result.warnings:
        print(_("dvzero {command}: warning: {message}").format(command="evaluate",
                                                               message=warning),
              file=sys.stderr)
    print(_("test acc {accuracy:.4f} ({count} images, {file})").format(
        accuracy=result.accuracy, count=result.test_size, file=result.params_file))
    return 0


def _refuse_to_replace(paths, force: bool, elsewhere: bool = False) -> None:
    """The rule of every file a command writes: one that exists is replaced only with
    --force. The other way to proceed: another name with --out, or if ``elsewhere``
    (the names are made from the command's arguments), another directory."""
    existing = [str(path) for path in paths if os.path.lexists(path)]
    if existing and not force:
        refusal = (ngettext("{files} already exists; add --force to replace it, or run the "
                            "command in another directory",
                            "{files} already exist; add --force to replace them, or run the "
                            "command in another directory", len(existing))
                   if elsewhere else
                   ngettext("{files} already exists; add --force to replace it, or give "
                            "another name with --out",
                            "{files} already exist; add --force to replace them, or give "
                            "another name with --out", len(existing)))
        raise UsageError(refusal.format(files=listed(existing)))


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
                           elsewhere=True)
    if args.json:
        print(json.dumps([prediction.as_json() for prediction in predictions]))
    else:
        print(_("model: {file} ({network})").format(file=predictor.params_file,
                                                     network=predictor.name))
        for prediction in predictions:
            print(_("{file}: {digit} (probability {probability:.3f})").format(
                file=prediction.file, digit=prediction.digit,
                probability=max(prediction.probabilities)))
            print("\n".join(bar_chart(prediction.probabilities)))
    for error in errors:
        print(_("dvzero {command}: error: {message}").format(command="predict", message=error),
              file=sys.stderr)
    if args.show:
        written, failed = show_predictions(predictor, predictions, os.getcwd(), args.images)
        for error in failed:
            print(_("dvzero {command}: error: {message}").format(command="predict",
                                                                 message=error),
                  file=sys.stderr)
        errors += failed
        if written:
            print(_("wrote {files}").format(files=", ".join(map(str, written))),
                  file=sys.stderr if args.json else sys.stdout)
    return 1 if errors else 0


def command_plot(args: argparse.Namespace) -> int:
    check_data_dir(args.data_dir)
    from ..apps.plot import plot_run
    from ..runs.pictures import PICTURES

    existing = [name for name in PICTURES if os.path.lexists(args.run_dir / name)]
    if existing and not args.force:
        raise UsageError(ngettext("{run_dir} already has {pictures}; add --force to draw it "
                                  "again",
                                  "{run_dir} already has {pictures}; add --force to draw them "
                                  "again", len(existing))
                         .format(run_dir=args.run_dir, pictures=listed(existing)))

    result = plot_run(args.run_dir, args.data_dir)
    print(_("data: {data}").format(data=describe_data(result.data_dir)))
    print(_("wrote {directory}/: {files}").format(directory=result.run_dir,
                                                  files=", ".join(result.files)))
    return 0


def command_graph(args: argparse.Namespace) -> int:
    from ..apps.graph import draw_loss_graph
    from ..errors import GraphvizMissing

    _check_out_file(args.out, (".png", ".svg"), _("--out {out}: the picture is a PNG or an "
                                                  "SVG; give a name ending in .png or .svg"))
    _refuse_to_replace([args.out, args.out.with_suffix(".dot")], args.force)
    try:
        drawing = draw_loss_graph(args.out, args.source)
    except GraphvizMissing as exc:
        print(_("dvzero {command}: {message}").format(command="graph", message=exc),
              file=sys.stderr)
        return EXIT_FAILURE
    loss = (_("{network} ({file}): loss {loss:.4f} on the first 100 training images")
            if drawing.params_file else
            _("{network} (fresh, seed 0): loss {loss:.4f} on the first 100 training images"))
    print(loss.format(network=drawing.network, file=drawing.params_file, loss=drawing.loss))
    print(_("wrote {files}").format(files=", ".join(map(str, drawing.files))))
    return 0


def _check_out_file(out, suffix: str | tuple[str, ...], wrong_kind: str) -> None:
    """Refuse an --out file of the wrong kind (one not ending in ``suffix``: say
    ``wrong_kind``, a message with ``{out}``), or in a directory that does not exist."""
    suffixes = (suffix,) if isinstance(suffix, str) else suffix
    if out.suffix.lower() not in suffixes:
        raise UsageError(wrong_kind.format(out=out))
    if not out.parent.is_dir():
        raise UsageError(_("--out {out}: the directory {directory} does not exist")
                         .format(out=out, directory=out.parent))


def command_data(args: argparse.Namespace) -> int:
    check_data_dir(args.data_dir)
    _check_out_file(args.out, ".png", _("--out {out}: the picture is a PNG; give a name ending "
                                        "in .png"))
    _refuse_to_replace([args.out], args.force)
    from ..apps.plot import draw_data_samples

    counts = draw_data_samples(args.out, args.data_dir)
    print(_("{data}: {count:,} training images").format(data=describe_data(args.data_dir),
                                                        count=sum(counts.values())))
    print("  " + ", ".join(f"{label}: {count:,}" for label, count in counts.items()))
    print(_("wrote {files}").format(files=args.out))
    return 0


def command_serve(args: argparse.Namespace) -> int:
    from ..web import Catalog, is_loopback, make_server, url_of

    catalog = Catalog("runs", args.model)
    if not catalog.entries():
        print(_("dvzero serve: no finished run in runs/ yet; training the original post's "
                "network first"))
        trained = command_train(build_parser().parse_args(
            ["train"] + ["--no-progress"] * args.no_progress), time.perf_counter())
        if trained != 0:
            return trained
    try:
        server = make_server(catalog, args.host, args.port, log=lambda line: print(
            _("dvzero {command}: {message}").format(command="serve", message=line),
            file=sys.stderr, flush=True))
    except OSError as exc:
        raise UsageError(_("cannot listen on {host} port {port} ({reason}); choose another "
                           "with --port, or --port 0 for a free one")
                         .format(host=args.host, port=args.port,
                                 reason=exc.strerror or exc)) from None
    if not is_loopback(args.host):
        listening = (_("listening on {host}: anyone who can reach this computer can use the "
                       "page") if args.host else
                     _("listening on every address: anyone who can reach this computer can "
                       "use the page"))
        print(_("dvzero {command}: warning: {message}").format(
            command="serve", message=listening.format(host=args.host)), file=sys.stderr)
    try:  # from the moment the address is printed, Ctrl-C and SIGTERM are a clean stop
        print(_("models: {models}").format(models=", ".join(entry.id
                                                             for entry in catalog.entries())))
        print(_("serving on {url} (Ctrl-C to stop)").format(url=url_of(server)), flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        print("\n" + _("dvzero serve: stopped"), file=sys.stderr)
    finally:
        server.server_close()
    return 0


def command_bench(args: argparse.Namespace) -> int:
    from ..apps.bench import report_lines, run_bench

    _check_out_file(args.out, ".json", _("--out {out}: the figures are JSON; give a name "
                                         "ending in .json"))
    _refuse_to_replace([args.out], args.force)
    result = run_bench(lambda what: print(_("measuring {what} ...").format(what=what),
                                          file=sys.stderr, flush=True))
    print("\n".join(report_lines(result)))
    with atomic_write(args.out, "w") as handle:
        json.dump(result.as_json(), handle, indent=1)
    print(_("wrote {files}").format(files=args.out))
    return 0


def command_experiment(args: argparse.Namespace) -> int:
    check_data_dir(args.data_dir)
    from ..apps.experiments import SEARCH_PRESET, run_experiment

    if args.name == "search":  # a preset of dvzero search
        from .parser import build_parser
        from .search import command_search

        given = [*SEARCH_PRESET, "--seed", str(args.seed)]
        for option, value in (("--out", args.out), ("--data-dir", args.data_dir)):
            given += [option, str(value)] if value is not None else []
        return command_search(build_parser().parse_args(
            ["search", *given, *(["--no-progress"] if args.no_progress else [])]))

    print(_("dvzero {version}: experiment {name}").format(version=__version__, name=args.name))
    result = run_experiment(args.name, out=args.out, seed=args.seed, data_dir=args.data_dir,
                            progress=None if args.no_progress else
                            lambda label, steps: progress(steps, False, label, lines=False))
    for line in result.lines:
        print(line)
    print(_("wrote {directory}/: {files} ({time})").format(
        directory=result.run_dir, files=", ".join(result.files), time=duration(result.seconds)))
    return 0
