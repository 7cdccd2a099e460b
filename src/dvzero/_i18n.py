"""The words a user reads, in English or, when asked, in Simplified Chinese.

Messages are written in English in the code and marked with :func:`_` where they are used
(or with :func:`N_` where a constant is defined, and :func:`_` where it is shown). Their
Chinese lives in gettext catalogs, ``locale/zh_CN/LC_MESSAGES/<domain>.po``: ``dvzero`` for
dvzero's own messages, ``argparse`` for the words argparse prints ("usage", "error").
The package build compiles them to ``.mo`` files; :mod:`gettext` reads those.

Which language: ``DVZERO_LANG``, then the first of ``LC_ALL``, ``LC_MESSAGES`` and ``LANG``
that is set. ``zh``, ``zh_CN``, ``zh_SG`` (and ``zh_Hans``) mean Simplified Chinese;
anything else, Traditional Chinese locales (``zh_TW``, ``zh_HK``) among them, means English
until someone translates for them. The language is read each time a message is made, so a
program (or a test) can change it as it runs.

This module imports nothing of dvzero's: every other module may import it.
"""

from __future__ import annotations

import functools
import gettext
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"

#: The locale names (before any ``.UTF-8`` or ``@modifier``) that ask for Simplified Chinese.
SIMPLIFIED_CHINESE = ("zh", "zh_cn", "zh_sg", "zh_hans", "zh_hans_cn", "zh_hans_sg")

#: Where the language is asked for, in the order they are read.
LANGUAGE_VARIABLES = ("DVZERO_LANG", "LC_ALL", "LC_MESSAGES", "LANG")


def language() -> str:
    """``"zh"`` or ``"en"``, from the environment (see the module's docstring)."""
    for name in LANGUAGE_VARIABLES:
        value = os.environ.get(name)
        if value:
            locale = value.split(".")[0].split("@")[0].replace("-", "_").lower()
            return "zh" if locale in SIMPLIFIED_CHINESE else "en"
    return "en"


@functools.cache
def translations(domain: str = "dvzero", lang: str = "zh") -> gettext.NullTranslations:
    """The catalog of ``domain`` in ``lang``; English (the messages as written) for ``"en"``
    or where no compiled catalog is found."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(domain, LOCALE_DIR, languages=["zh_CN"], fallback=True)


def _(message: str) -> str:
    """``message`` in the user's language."""
    return translations("dvzero", language()).gettext(message)


def ngettext(singular: str, plural: str, number: int) -> str:
    """``singular`` or ``plural`` for ``number``, in the user's language."""
    return translations("dvzero", language()).ngettext(singular, plural, number)


def N_(message: str) -> str:  # noqa: N802 - gettext's name, known to the extractors
    """Mark ``message`` for translation without translating it (for constants: translate
    them with :func:`_` where they are shown)."""
    return message
