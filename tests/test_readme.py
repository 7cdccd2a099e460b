"""The README: short, in two languages that give the same two commands, and pointing to the
documentation site (docs/), which says the rest (tests/test_docs.py checks the site)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENGLISH, _, CHINESE = README.partition("\n## 简体中文\n")
FENCED = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
#: The two commands that set dvzero up, train the original post's network and test it all.
SET_UP = ['pip install -e ".[dev]" && dvzero train', "pytest"]
#: Chinese characters and full-width punctuation, and the quotes, dashes and ellipsis
#: Chinese prose uses.
CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u2014\u2018-\u201d\u2026"


def test_the_readme_is_short_in_both_languages():
    assert CHINESE, "the README has no '## 简体中文' section"
    for language, text in (("English", ENGLISH), ("中文", CHINESE)):
        assert len(text.splitlines()) <= 250, language


def shell_commands(text: str) -> list[str]:
    """The commands of the shell blocks, without their comments (which are translated)."""
    return [line.split("#", 1)[0].strip() for language, code in FENCED.findall(text)
            if language in ("bash", "sh", "shell", "console") for line in code.splitlines()
            if line.split("#", 1)[0].strip()]


def test_both_languages_give_the_same_two_commands():
    english, chinese = shell_commands(ENGLISH), shell_commands(CHINESE)
    assert english == chinese
    for command in SET_UP:
        assert command in english, command


def links(text: str) -> list[str]:
    """The targets of the Markdown links and pictures outside code."""
    prose = re.sub(r"`[^`\n]*`", "", FENCED.sub("", text))
    return re.findall(r"\]\(([^)\s]+)\)", prose)


def test_its_links_to_the_docs_exist():
    for language, text in (("English", ENGLISH), ("中文", CHINESE)):
        local = [target for target in links(text)
                 if not re.match(r"[a-z]+:|#", target)]
        docs = [target for target in local if target.startswith("docs/")]
        assert docs, f"the {language} README links to no page of docs/"
        missing = [target for target in local
                   if not (ROOT / target.partition("#")[0]).exists()]
        assert missing == [], (language, missing)


def test_it_shows_one_picture_that_exists():
    shown = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", FENCED.sub("", README))
    assert shown, "the README shows no picture"
    for language, text in (("English", ENGLISH), ("中文", CHINESE)):
        assert len(re.findall(r"!\[", FENCED.sub("", text))) <= 1, language
    assert all((ROOT / target).is_file() for target in shown), shown


def chinese_prose() -> str:
    """The Chinese part without its code blocks (each left as an empty line)."""
    return FENCED.sub("\n", CHINESE)


def test_the_chinese_uses_full_width_punctuation():
    prose = re.sub(r"`[^`]*`", "", chinese_prose())  # inline code keeps its ASCII
    prose = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", prose)  # pictures
    prose = re.sub(r"\]\([^)]*\)", "]", prose)  # link targets
    prose = re.sub(r"<!--.*?-->", "", prose, flags=re.DOTALL)
    prose = re.sub(r"(?<=\d),(?=\d)", "", prose)  # thousands: 10,000
    ascii_marks = re.findall(r".{0,12}[,:;()?!].{0,12}", prose)
    assert ascii_marks == [], ascii_marks
    assert re.search(rf"[{CJK}]", prose) and prose.count("，") >= 3


def test_no_chinese_paragraph_is_broken_across_lines():
    """In Chinese, Markdown shows a line break inside a paragraph as a space: every
    paragraph, list item and table row of the Chinese part is one line."""
    lines = chinese_prose().splitlines()
    starts = re.compile(r"\s*(?:#|[*+-] |\d+\. |\||!\[|<|>|---)")
    broken = [f"{before[-12:]}⏎{after[:12]}" for before, after
              in zip(lines[:-1], lines[1:], strict=True)
              if before.strip() and after.strip() and not before.lstrip().startswith("#")
              and not starts.match(after)]
    assert broken == [], broken
