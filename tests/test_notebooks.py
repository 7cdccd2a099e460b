"""The notebooks: the English ones run from top to bottom, and the Chinese ones are the same
notebooks with their text translated, in the README's Chinese (full-width punctuation, one
line per paragraph, the glossary's words)."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
ipykernel_kernelspec = pytest.importorskip("ipykernel.kernelspec")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
ENGLISH = sorted((NOTEBOOKS / "en").glob("*.ipynb"))
GLOSSARY = (ROOT / "docs" / "en" / "glossary.md").read_text(encoding="utf-8")
#: The kernel the tests start: this interpreter, whatever other kernels are installed.
KERNEL = "dvzero-tests"
#: Seconds each notebook may take (they take seconds to tens of seconds on 2 cores).
TIMEOUT = 180
#: Chinese characters and full-width punctuation, as in test_readme.py.
CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u2014\u2018-\u201d\u2026"


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def cells(path: Path, kind: str) -> list[str]:
    return [cell.source for cell in read(path).cells if cell.cell_type == kind]


@pytest.fixture(scope="module")
def kernel(tmp_path_factory) -> str:
    """A kernel spec for this interpreter (ipykernel's own), found first on JUPYTER_PATH,
    so that the notebooks run with the dvzero under test in any fresh environment."""
    spec_root = tmp_path_factory.mktemp("jupyter")
    ipykernel_kernelspec.write_kernel_spec(spec_root / "kernels" / KERNEL)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(spec_root))
        patch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's future paths, no warning
        patch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        yield KERNEL


def test_there_are_notebooks_and_the_generator_wrote_them():
    assert len(ENGLISH) == 6
    assert all(read(path).metadata.kernelspec.name == "python3" for path in ENGLISH)
    for path in [*ENGLISH, *(NOTEBOOKS / "zh").glob("*.ipynb")]:
        for cell in read(path).cells:
            assert cell.cell_type == "markdown" or not cell.outputs, f"{path.name} has outputs"


@pytest.mark.parametrize("path", ENGLISH, ids=[path.stem for path in ENGLISH])
def test_the_english_notebook_runs(path, kernel, tmp_path):
    book = read(path)
    client = nbclient.NotebookClient(book, timeout=TIMEOUT, kernel_name=kernel,
                                     resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    client.execute()
    print(f"{path.name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    errors = [output for cell in book.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert errors == []
    assert list(tmp_path.iterdir()) == [], "a notebook wrote into its working directory"


def test_the_chinese_notebooks_are_the_english_ones_translated():
    chinese = sorted((NOTEBOOKS / "zh").glob("*.ipynb"))
    assert [path.name for path in chinese] == [path.name for path in ENGLISH]
    for ours, theirs in zip(ENGLISH, chinese, strict=True):
        assert [cell.cell_type for cell in read(ours).cells] == \
            [cell.cell_type for cell in read(theirs).cells], ours.name
        assert cells(ours, "code") == cells(theirs, "code"), ours.name
        assert cells(ours, "markdown") != cells(theirs, "markdown"), ours.name


def chinese_text() -> list[tuple[str, str]]:
    return [(path.name, text) for path in sorted((NOTEBOOKS / "zh").glob("*.ipynb"))
            for text in cells(path, "markdown")]


@pytest.mark.parametrize("name, text", chinese_text())
def test_the_chinese_text_is_written_as_the_readmes(name, text):
    prose = re.sub(r"`[^`]*`", "", text)  # inline code keeps its ASCII
    prose = re.sub(r"\]\([^)]*\)", "]", prose)  # link targets
    prose = re.sub(r"(?<=\d),(?=\d)", "", prose)  # thousands: 10,000
    prose = re.sub(r"^#+ \d+\. ", "", prose, flags=re.MULTILINE)  # "# 1. " numbers a title
    assert re.findall(r".{0,12}[,:;()?!].{0,12}", prose) == []
    # a line break between two Chinese characters would show as a space
    assert re.findall(rf".{{0,12}}[{CJK}]\n[{CJK}].{{0,12}}", prose) == []
    assert re.search(rf"[{CJK}]", prose)
    for line in GLOSSARY.splitlines():
        row = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(row) == 4:
            for word in filter(None, row[3].split("、")):
                if word != "不用":
                    assert word not in prose, (row[0], word)
