"""What the documentation site makes as it builds (MkDocs hooks, named in mkdocs.yml).

- The command-line reference: a page holding the line ``<!-- dvzero-cli-reference -->``
  gets the help of ``dvzero`` and of each of its commands, from the parser itself, in the
  page's language.
- The notebooks: a page holding ``<!-- notebook: notebooks/en/NAME.ipynb -->`` gets that
  notebook as Markdown (nbconvert), its text and its code.
- The API reference's docstrings use reStructuredText's ``literals`` and roles
  (:class:`~.Trainer`); :class:`RestRoles` turns them into Markdown's `code` for
  mkdocstrings.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
from griffe import Extension
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parent.parent
CLI_MARK = "<!-- dvzero-cli-reference -->"
NOTEBOOK_MARK = re.compile(r"<!-- notebook: (\S+\.ipynb) -->")


def on_page_markdown(markdown: str, page, config, files) -> str:
    language = config["theme"]["language"]
    if CLI_MARK in markdown:
        markdown = markdown.replace(CLI_MARK, cli_reference(language))
    return NOTEBOOK_MARK.sub(lambda match: notebook(ROOT / match.group(1)), markdown)


def cli_reference(language: str) -> str:
    """``dvzero --help`` and each command's ``--help``, as the command prints them in
    ``language``, one section each."""
    from dvzero.cli.parser import build_parser
    from dvzero.cli.words import argparse_words

    with speaking(language), argparse_words():
        parser = build_parser()
        sections = [("dvzero", parser)] + [(f"dvzero {name}", command)
                                           for name, command in parser.commands.items()]
        return "\n".join(f"## `{name}`\n\n```text\n{command.format_help()}```\n"
                         for name, command in sections)


@contextlib.contextmanager
def speaking(language: str) -> Iterator[None]:
    """The command line in ``language``, its help 100 columns wide, for a while."""
    saved = {name: os.environ.get(name) for name in ("DVZERO_LANG", "COLUMNS")}
    os.environ.update(DVZERO_LANG=language, COLUMNS="100")
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value


def notebook(path: Path) -> str:
    """A notebook as Markdown: its text cells as they are, its code cells fenced."""
    body, _ = MarkdownExporter().from_notebook_node(nbformat.read(path, as_version=4))
    return body


class RestRoles(Extension):
    """reStructuredText in docstrings, made Markdown: ``x`` and :role:`x` (or `~.x`) become
    `x`."""

    ROLE = re.compile(r":[a-z]+:`~?\.?([^`]+)`")
    LITERAL = re.compile(r"``([^`]+)``")

    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            text = self.ROLE.sub(r"`\1`", obj.docstring.value)
            obj.docstring.value = self.LITERAL.sub(r"`\1`", text)
