"""What the ``dvzero`` command says when it cannot go on: one-line errors in the name of the
command they concern (:class:`Parser`), with the option meant when an unknown one was given
(:func:`meant`)."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import re
import sys
from collections.abc import Iterable, Iterator

from .._i18n import _, language, translations

EXIT_USAGE = 2

#: For each option, names people try for it (from other tools, the book, the original
#: post's variables), spelt with hyphens; difflib catches the typos.
TRIED_NAMES = {
    "--lr": ("--learning-rate", "--lr-rate", "--rate", "--eta"),
    "--epochs": ("--epoch", "--num-epochs", "--n-epochs", "--max-epochs"),
    "--steps": ("--iterations", "--iters", "--iter", "--iters-num", "--num-steps", "--max-steps"),
    "--batch-size": ("--batch", "--batchsize", "--bs"),
    "--hidden": ("--hidden-size", "--hidden-sizes", "--hidden-size-list", "--hidden-layers"),
    "--net": ("--model", "--network", "--arch", "--mlp", "--cnn"),
    "--activation": ("--act", "--relu", "--sigmoid"),
    "--optimizer": ("--optim", "--opt", "--sgd", "--adam", "--momentum"),
    "--init": ("--weight-init", "--initializer"),
    "--weight-init-std": ("--std",),
    "--lr-schedule": ("--schedule", "--scheduler"),
    "--weight-decay": ("--wd", "--l2", "--weight-decay-lambda"),
    "--dropout": ("--dropout-ratio", "--use-dropout"),
    "--batchnorm": ("--batch-norm", "--bn", "--use-batchnorm"),
    "--seed": ("--random-seed",),
    "--out": ("-o", "--output", "--output-dir", "--out-dir", "--run-dir"),
    "--data-dir": ("--data", "--dataset", "--data-path"),
    "--threads": ("--num-threads", "--workers", "-j"),
    "--no-progress": ("--quiet",),
    "--resume": ("--continue",),
    "--force": ("--overwrite",),
}


@contextlib.contextmanager
def argparse_words() -> Iterator[None]:
    """argparse's own words ("usage:", "error:", "the following arguments are required") in
    the user's language, from the ``argparse`` catalog, while the command line runs.
    argparse looks them up through its module's ``_`` and ``ngettext``; those are put back
    on the way out."""
    catalog = translations("argparse", language())
    saved = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = catalog.gettext, catalog.ngettext
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


def meant(word: str, options: Iterable[str]) -> str | None:
    """The option of ``options`` that an unknown ``word`` (``--learning-rate``) most likely
    means: the same with hyphens, a name people try (:data:`TRIED_NAMES`), or a near
    spelling of either; ``None`` if none is near."""
    names = {option: option for option in options}
    names.update({name: option for option, tried in TRIED_NAMES.items() if option in names
                  for name in tried})
    hyphens = word.split("=", 1)[0].lower().replace("_", "-")
    near = difflib.get_close_matches(hyphens, names, n=1, cutoff=0.7)
    return names[near[0]] if near else None


def listed(items: Iterable[str]) -> str:
    """``a``, ``a and b``, ``a, b and c`` (in Chinese ``a、b 和 c``)."""
    items = list(items)
    if len(items) == 1:
        return items[0]
    return _("{items} and {last}").format(items=comma().join(items[:-1]), last=items[-1])


def comma() -> str:
    """What separates the items of a list in the user's language: ``", "`` (``"、"``)."""
    return _(", ")


def _fields(message: str, msgid: str) -> dict[str, str] | None:
    """The values that argparse put into its message ``msgid`` to make ``message``, by
    placeholder (``%(option)s`` as ``option``, ``%s`` as ``value``), read with ``msgid``
    in the user's language; ``None`` if ``message`` is another message."""
    pieces = re.split(r"%\((\w+)\)s|%s", argparse._(msgid))  # text, name or None, text, ...
    pattern = "".join(re.escape(piece) if i % 2 == 0 else f"(?P<{piece or 'value'}>.+?)"
                      for i, piece in enumerate(pieces))
    match = re.fullmatch(pattern, message, re.DOTALL)
    return match.groupdict() if match else None


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, in the name of the command they
    concern, with the option meant when it can be guessed and a pointer to the command's
    ``--help``. ``missing``: what to say instead of argparse's "the following arguments
    are required"."""

    def __init__(self, *args, missing: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.missing, self.given, self.commands = missing, [], {}

    def parse_known_args(self, args=None, namespace=None):
        self.given = list(sys.argv[1:] if args is None else args)  # for error()
        return super().parse_known_args(args, namespace)

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but arguments a command does not know are refused by the command."""
        parsed, unknown = self.parse_known_args(args, namespace)
        if unknown:
            command = self.commands.get(getattr(parsed, "command", None), self)
            message = _("unrecognized arguments: {arguments}").format(arguments=" ".join(unknown))
            command.error(command.guess(message, [word for word in unknown
                                                  if word.startswith("-")]))
        return parsed

    def guess(self, message: str, words: list[str]) -> str:
        """``message`` and ``; did you mean --lr?``: the options ``words`` most likely
        mean, if any."""
        options = [name for name in self._option_string_actions if name.startswith("--")]
        guesses = [(word.split("=", 1)[0], meant(word, options)) for word in words]
        guesses = [(word, option) for word, option in guesses if option]
        if not guesses:
            return message
        if len(guesses) == 1:
            return _("{message}; did you mean {option}?").format(message=message,
                                                                 option=guesses[0][1])
        each = [_("{option} for {word}").format(option=option, word=word)
                for word, option in guesses]
        return _("{message}; did you mean {options}?").format(message=message,
                                                              options=comma().join(each))

    def error(self, message: str) -> None:
        required = _fields(message, "the following arguments are required: %s")
        ambiguous = _fields(message, "ambiguous option: %(option)s could match %(matches)s")
        if self.missing and required:
            given = " ".join(word for word in self.given if not word.startswith("-"))
            message = (_("{missing}; got only {given}") if given else _("{missing}; got nothing")
                       ).format(missing=self.missing, given=given)
        elif ambiguous:  # --batch: --batch-size or --batchnorm?
            message = self.guess(message, [ambiguous["option"]])
        self.exit(EXIT_USAGE, _("{prog}: error: {message} (see '{prog} --help')")
                  .format(prog=self.prog, message=message) + "\n")
