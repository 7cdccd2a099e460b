"""What the ``dvzero`` command says when it cannot go on: one-line errors in the name of the
command they concern (:class:`Parser`), with the option meant when an unknown one was given
(:func:`meant`)."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Iterable

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
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


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
            command.error(f"unrecognized arguments: {' '.join(unknown)}"
                          f"{command.guess([word for word in unknown if word.startswith('-')])}")
        return parsed

    def guess(self, words: list[str]) -> str:
        """``; did you mean --lr?``: the options ``words`` most likely mean, or ``""``."""
        options = [name for name in self._option_string_actions if name.startswith("--")]
        guesses = [(word.split("=", 1)[0], meant(word, options)) for word in words]
        guesses = [(word, option) for word, option in guesses if option]
        if not guesses:
            return ""
        if len(guesses) == 1:
            return f"; did you mean {guesses[0][1]}?"
        return f"; did you mean {', '.join(f'{option} for {word}' for word, option in guesses)}?"

    def error(self, message: str) -> None:
        if self.missing and message.startswith("the following arguments are required"):
            given = [word for word in self.given if not word.startswith("-")]
            message = f"{self.missing}; got {'only ' + ' '.join(given) if given else 'nothing'}"
        elif message.startswith("ambiguous option: "):  # --batch: --batch-size or --batchnorm?
            message += self.guess([message.split()[2]])
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
