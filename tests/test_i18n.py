"""dvzero in Simplified Chinese: which language the environment asks for, every message
translated in the catalogs (with its placeholders, and compiled), and the command line
speaking Chinese end to end (and English otherwise)."""

from __future__ import annotations

import argparse
import gettext
import os
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

import dvzero
from dvzero import _i18n

PACKAGE = Path(dvzero.__file__).parent
CATALOGS = PACKAGE / "locale" / "zh_CN" / "LC_MESSAGES"
#: Chinese characters and full-width punctuation.
CHINESE = re.compile("[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def columns(line: str) -> int:
    """How wide ``line`` is in a terminal: two columns for each Chinese character."""
    return len(line) + len(CHINESE.findall(line))


# --------------------------------------------------------------------------- the language


@pytest.fixture
def environment(monkeypatch):
    """``environment(LANG=...)``: these language variables set (an empty one too), the
    others not."""

    def set_only(**variables: str) -> None:
        for name in _i18n.LANGUAGE_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)

    return set_only


@pytest.mark.parametrize(("locale", "language"), [
    ("zh", "zh"), ("zh_CN.UTF-8", "zh"), ("zh_SG", "zh"),
    ("zh_TW.UTF-8", "en"), ("zh_HK", "en"), ("C", "en"), ("en_US.UTF-8", "en"),
])
@pytest.mark.parametrize("variable", ["DVZERO_LANG", "LC_ALL", "LC_MESSAGES", "LANG"])
def test_simplified_chinese_locales_ask_for_chinese_and_the_others_for_english(
        environment, variable, locale, language):
    environment(**{variable: locale})
    assert _i18n.language() == language


def test_dvzero_lang_comes_first_then_lc_all_lc_messages_and_lang(environment):
    chinese, english = "zh_CN.UTF-8", "C"
    environment(DVZERO_LANG="zh", LC_ALL=english, LC_MESSAGES=english, LANG=english)
    assert _i18n.language() == "zh"
    environment(DVZERO_LANG="en", LC_ALL=chinese, LC_MESSAGES=chinese, LANG=chinese)
    assert _i18n.language() == "en"
    environment(LC_ALL=chinese, LC_MESSAGES=english, LANG=english)
    assert _i18n.language() == "zh"
    environment(LC_ALL=english, LC_MESSAGES=chinese, LANG=chinese)
    assert _i18n.language() == "en"
    environment(LC_MESSAGES=chinese, LANG=english)
    assert _i18n.language() == "zh"
    environment(LC_MESSAGES=english, LANG=chinese)
    assert _i18n.language() == "en"
    environment(LANG=chinese)
    assert _i18n.language() == "zh"


def test_empty_variables_are_skipped(environment):
    environment(DVZERO_LANG="", LC_ALL="", LC_MESSAGES="", LANG="zh_CN.UTF-8")
    assert _i18n.language() == "zh"
    environment(DVZERO_LANG="", LANG="")
    assert _i18n.language() == "en"  # nothing set: English


# --------------------------------------------------------------------------- the catalogs


def key(msgid: str | tuple | list) -> str | tuple[str, ...]:
    """A msgid as a dictionary key: a string, or (singular, plural) for a plural message."""
    return msgid if isinstance(msgid, str) else tuple(msgid)


def read_catalog(domain: str):
    with open(CATALOGS / f"{domain}.po", "rb") as source:
        return read_po(source, locale="zh_CN")


def translated(message) -> bool:
    """Whether a catalog's message has its Chinese: every form given, none fuzzy."""
    strings = [message.string] if isinstance(message.string, str) else message.string
    return bool(strings) and all(strings) and not message.fuzzy


def messages_of_dvzero() -> dict[str | tuple[str, ...], str]:
    """The messages marked in dvzero's code, as babel extracts them, with where each is."""
    found = {}
    for filename, lineno, msgid, _comments, _context in extract_from_dir(PACKAGE):
        found.setdefault(key(msgid), f"{Path(filename).as_posix()}:{lineno}")
    return found


def test_the_catalogs_headers_are_filled_in():
    for domain in ("dvzero", "argparse"):
        catalog = read_catalog(domain)
        assert not catalog.fuzzy, f"{domain}.po: its header is marked fuzzy"
        assert catalog.project == "dvzero", domain
        assert catalog.last_translator == catalog.language_team == "The dvzero team", domain
        assert catalog.num_plurals == 1, domain


def test_every_message_of_dvzero_has_its_chinese():
    found = messages_of_dvzero()
    assert len(found) > 100  # the extraction found the code's messages
    catalog = {key(message.id): message for message in read_catalog("dvzero") if message.id}
    missing = [f"  {where}: {msgid!r}" for msgid, where in found.items()
               if msgid not in catalog or not translated(catalog[msgid])]
    assert not missing, (f"{len(missing)} of dvzero's {len(found)} messages have no Chinese in "
                         f"dvzero.po (missing, empty or fuzzy):\n" + "\n".join(missing))


def placeholders(text: str) -> set[str]:
    """The placeholders of a message: ``{name}`` (with its conversion and format),
    ``%(name)s`` and ``%s``."""
    found = set(re.findall(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]", text))
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:  # not a {}-message (a lone brace)
        return found
    return found | {"{" + name + ("!" + conversion if conversion else "")
                    + (":" + spec if spec else "") + "}"
                    for _text, name, spec, conversion in fields if name is not None}


@pytest.mark.parametrize("domain", ["dvzero", "argparse"])
def test_each_translation_has_the_placeholders_of_its_message(domain):
    wrong = []
    for message in read_catalog(domain):
        if not message.id or not translated(message):
            continue
        english = message.id if isinstance(message.id, str) else message.id[-1]
        strings = [message.string] if isinstance(message.string, str) else message.string
        for chinese in strings:
            if placeholders(chinese) != placeholders(english):
                wrong.append(f"  {english!r}: {sorted(placeholders(english))} but {chinese!r}: "
                             f"{sorted(placeholders(chinese))}")
    assert not wrong, f"{domain}.po: translations with other placeholders:\n" + "\n".join(wrong)


def test_argparse_po_translates_every_message_of_this_python_s_argparse():
    msgids = {key(msgid) for _lineno, msgid, _comments, _context
              in extract_from_file("python", argparse.__file__)}
    assert "usage: " in msgids
    catalog = {key(message.id): message for message in read_catalog("argparse") if message.id}
    missing = sorted(map(repr, (msgid for msgid in msgids
                                if msgid not in catalog or not translated(catalog[msgid]))))
    assert not missing, (f"argparse.po lacks the Chinese of {len(missing)} messages of "
                         f"{argparse.__file__}:\n  " + "\n  ".join(missing))


@pytest.mark.parametrize("domain", ["dvzero", "argparse"])
def test_the_compiled_catalogs_are_the_po_files(domain):
    compiled_file = CATALOGS / f"{domain}.mo"
    again = "run pip install -e . again to compile the catalogs"
    assert compiled_file.is_file(), f"{compiled_file} is missing: {again}"
    with open(compiled_file, "rb") as source:
        compiled = gettext.GNUTranslations(source)
    chinese = {}
    differ = []
    for message in read_catalog(domain):
        if not message.id or not translated(message):
            continue
        if isinstance(message.id, str):
            chinese[message.id] = message.string
            read = [compiled.gettext(message.id)]
        else:
            read = [compiled.ngettext(*message.id, number) for number in (1, 2)]
        expected = [message.string] if isinstance(message.string, str) else \
            [message.string[0]] * 2  # one form for every number in Chinese
        if read != expected:
            differ.append(f"  {message.id!r}: {read!r} instead of {expected!r}")
    # and no Chinese left in the .mo that the .po no longer has (gettext's own table)
    differ += [f"  {msgid!r}: {text!r} is no longer in the .po"
               for msgid, text in compiled._catalog.items()
               if isinstance(msgid, str) and msgid and text != chinese.get(msgid, msgid)]
    assert not differ, f"{compiled_file.name} is not {domain}.po ({again}):\n" + "\n".join(differ)


# --------------------------------------------------------------------------- in Chinese


@pytest.fixture
def chinese(monkeypatch):
    monkeypatch.setenv("DVZERO_LANG", "zh")


def test_lists_durations_and_rates_read_in_chinese(chinese):
    from dvzero._format import duration, rate
    from dvzero.cli.words import listed

    assert listed(["mlp"]) == "mlp"
    assert listed(["mlp", "cnn", "deep-cnn"]) == "mlp、cnn 和 deep-cnn"
    assert duration(3.6) == "3.6 秒"
    assert duration(600) == "10.0 分钟"
    assert rate(10000, 3.6) == "每秒 2778 步"
    assert rate(1, 9.87) == "每步 9.9 秒"


# --------------------------------------------------------------------------- end to end


def dvzero(*args: str, **language: str) -> subprocess.CompletedProcess:
    """The dvzero command in a new process, asked for a language only by ``language``'s
    variables (``LANG="zh_CN.UTF-8"``), none of the test session's."""
    env = {name: value for name, value in os.environ.items()
           if name not in _i18n.LANGUAGE_VARIABLES}
    env.update(language, PYTHONIOENCODING="utf-8", COLUMNS="80")
    return subprocess.run([sys.executable, "-m", "dvzero.cli", *args], env=env,
                          capture_output=True, encoding="utf-8", timeout=120)


def one_line_error(result: subprocess.CompletedProcess, exit_code: int = 2) -> str:
    assert result.returncode == exit_code, result
    assert result.stdout == "" and "Traceback" not in result.stderr, result
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.rstrip("\n")


def test_train_help_in_chinese():
    result = dvzero("train", "--help", LANG="zh_CN.UTF-8")
    assert result.returncode == 0, result
    help_text = result.stdout
    assert help_text.startswith("用法：dvzero train [-h] ")  # the option names as they are
    assert "--lr LR" in help_text and "--hidden SIZES" in help_text
    assert "学习率" in help_text and "运行目录" in help_text
    for english in ("usage:", "show this help", "learning rate", "default:", "examples:"):
        assert english not in help_text
    # the help of each option fits the 80 columns, Chinese characters being two wide
    options = help_text[:help_text.index("示例：")]
    assert max(map(columns, options.splitlines())) <= 80, options


def test_a_wrong_option_is_refused_in_chinese_with_the_one_meant():
    error = one_line_error(dvzero("train", "--learning-rate", "0.1", LANG="zh_CN.UTF-8"))
    assert error.startswith("dvzero train：错误：")
    assert "--learning-rate 0.1" in error and "--lr？" in error
    assert "'dvzero train --help'" in error
    assert "error" not in error and "did you mean" not in error


ENGLISH_ERROR = ("dvzero train: error: unrecognized arguments: --learning-rate 0.1; did you "
                 "mean --lr? (see 'dvzero train --help')")


@pytest.mark.parametrize("locale", ["C", "zh_TW.UTF-8"])
def test_other_locales_get_english(locale):
    assert dvzero("train", "--help", LANG=locale).stdout.startswith("usage: dvzero train ")
    assert one_line_error(dvzero("train", "--learning-rate", "0.1", LANG=locale)) == \
        ENGLISH_ERROR


def test_dvzero_lang_asks_for_chinese_whatever_the_locale():
    error = one_line_error(dvzero("train", "--learning-rate", "0.1", DVZERO_LANG="zh",
                                  LANG="C"))
    assert error.startswith("dvzero train：错误：无法识别的参数：--learning-rate 0.1")
    assert one_line_error(dvzero("train", "--learning-rate", "0.1", DVZERO_LANG="en",
                                 LANG="zh_CN.UTF-8")) == ENGLISH_ERROR


def test_a_missing_run_directory_is_refused_in_chinese(tmp_path):
    missing = tmp_path / "no-such-run"
    error = one_line_error(dvzero("evaluate", str(missing), LANG="zh_CN.UTF-8"))
    assert error.startswith("dvzero evaluate：错误：") and str(missing) in error
