"""The ``dvzero`` command, the only code that prints or exits: :mod:`~.parser` reads the
options (with the types of :mod:`~.types` and the help of :mod:`~.helptext`), :mod:`~.words`
says what is wrong with them, :mod:`~.commands` calls the library and prints,
:mod:`~.progress` turns a training's callbacks into a progress bar. Library errors (bad
data, bad files, a diverging run) become one clear line on stderr and a non-zero exit code.
Everything it says is in the user's language (:mod:`dvzero._i18n`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence

from .._i18n import _
from ..errors import DVZeroError, UsageError
from . import commands
from .commands import EXIT_FAILURE, EXIT_SIGNALS
from .parser import build_parser
from .words import EXIT_USAGE, argparse_words


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line, in the user's language; returns the exit code (0 on success)."""
    with argparse_words():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    start = time.perf_counter()
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):
        parser.print_help(sys.stderr)  # a bare "dvzero": show what it can do
        raise SystemExit(EXIT_USAGE)
    args = parser.parse_args(argv)
    previous_sigterm = _terminate_as_interrupt()
    try:
        with _one_line_warnings(args.command):
            if args.command == "train":
                return commands.command_train(args, start)
            if args.command == "search":
                from .search import command_search

                return command_search(args)
            return getattr(commands, f"command_{args.command}")(args)
    except _Terminated:
        print("\n" + _("dvzero {command}: terminated").format(command=args.command),
              file=sys.stderr)
        return EXIT_SIGNALS["SIGTERM"]
    except UsageError as exc:
        print(_("dvzero {command}: error: {message}").format(command=args.command, message=exc),
              file=sys.stderr)
        return EXIT_USAGE
    except (DVZeroError, OSError, ValueError) as exc:
        # ValueError: the library's word for input it cannot use (shapes, labels, sizes).
        print(_("dvzero {command}: error: {message}").format(command=args.command, message=exc),
              file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("\n" + _("dvzero {command}: interrupted").format(command=args.command),
              file=sys.stderr)
        return EXIT_SIGNALS["SIGINT"]
    finally:
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)


@contextlib.contextmanager
def _one_line_warnings(command: str) -> Iterator[None]:
    """Show dvzero's own warnings as ``dvzero COMMAND: warning: ...``.

    Which warnings are shown is left to Python's filters (``-W``, ``PYTHONWARNINGS``);
    warnings raised from other packages' code keep their usual form.
    """
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if os.path.abspath(filename).startswith(package):
            print(_("dvzero {command}: warning: {message}").format(command=command,
                                                                  message=message),
                  file=sys.stderr)
        else:
            original(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        original = warnings.showwarning
        warnings.showwarning = show
        yield


class _Terminated(KeyboardInterrupt):
    """SIGTERM outside training: unwinds like Ctrl-C, so half-made run directories go."""


def _terminate_as_interrupt():
    """Make SIGTERM raise :class:`_Terminated`; returns the previous handler (or ``None``)."""
    if threading.current_thread() is not threading.main_thread():
        return None  # signal handlers can only be set from the main thread

    def terminate(signum, frame):
        raise _Terminated()

    return signal.signal(signal.SIGTERM, terminate)
