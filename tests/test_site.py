"""The documentation site: it builds with ``mkdocs build --strict`` (a broken link, a missing
page or a bad docstring fails), has every page in both languages, and works offline in
Chromium: the pages render, the language switch goes to the same page in the other
language, and the search finds Chinese words."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from helpers import ARTIFACTS

ROOT = Path(__file__).resolve().parents[1]


def nav_pages(entries) -> list[str]:
    """The Markdown files that mkdocs.yml's nav names, in order."""
    pages = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


PAGES = nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"])


def site_path(page: str, language: str) -> str:
    """Where ``page`` (``toolkit.md``) lands on the site: ``toolkit/``, ``zh/toolkit/`` for
    the Chinese; ``index.md`` at the top."""
    stem = page.removesuffix(".md").removesuffix("index")
    return ("zh/" if language == "zh" else "") + (stem.rstrip("/") + "/" if stem else "")


def built_page(site: Path, page: str, language: str) -> Path:
    return site / site_path(page, language) / "index.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs", reason="the docs tools are not installed: pip install -e "
                        "'.[docs]'")
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                             str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return out


def test_the_site_has_every_page_in_both_languages(site):
    missing = [str(built_page(site, page, language).relative_to(site)) for page in PAGES
               for language in ("en", "zh") if not built_page(site, page, language).is_file()]
    assert not missing


def test_the_command_line_reference_is_the_parsers_own_help_in_each_language(site):
    english = built_page(site, "cli.md", "en").read_text(encoding="utf-8")
    chinese = built_page(site, "cli.md", "zh").read_text(encoding="utf-8")
    for command in ("train", "evaluate", "predict", "plot", "graph", "serve", "bench",
                    "experiment"):
        assert f"dvzero {command}" in english and f"dvzero {command}" in chinese
    assert "--weight-decay" in english and "--weight-decay" in chinese
    assert "usage:" in english and "show this help message and exit" in english
    assert "usage:" not in chinese and "用法" in chinese


def test_the_notebooks_are_on_the_site_in_both_languages(site):
    for language, words in (("en", "The original post"), ("zh", "原文")):
        page = built_page(site, "notebooks/01_the_original_post.md", language)
        html = page.read_text(encoding="utf-8")
        assert words in html and "DeepVisionZeroNet" in html and "load_mnist" in html


def test_the_api_reference_comes_from_the_docstrings_on_both_sites(site):
    for language in ("en", "zh"):
        html = built_page(site, "api/training.md", language).read_text(encoding="utf-8")
        assert "dvzero.training.trainer.Trainer" in html
        assert "The original post&#39;s training loop." in html or \
            "The original post's training loop." in html
    chinese = built_page(site, "api/index.md", "zh").read_text(encoding="utf-8")
    assert "英文" in chinese  # it says that the reference is in English


@pytest.fixture(scope="module")
def served(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def page(browser, served):
    chromium, expect = browser
    page = chromium.new_page(viewport={"width": 1200, "height": 800})
    elsewhere, errors = [], []
    page.on("request", lambda request: None if request.url.startswith((served, "data:"))
            else elsewhere.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, expect, served
    page.close()
    assert not elsewhere, f"the site fetched from elsewhere: {elsewhere}"
    assert not errors, f"the pages' scripts failed: {errors}"


def test_every_page_renders_in_both_languages_with_its_pictures(page):
    page, expect, url = page
    for language in ("en", "zh"):
        for name in PAGES:
            path = f"{url}/{site_path(name, language)}"
            response = page.goto(path)
            assert response is not None and response.ok, path
            expect(page.locator("article h1")).to_be_visible()
            assert page.evaluate("document.documentElement.lang") == language, path
            broken = page.evaluate("[...document.querySelectorAll('article img')]"
                                   ".filter(img => !img.complete || img.naturalWidth === 0)"
                                   ".map(img => img.src)")
            assert not broken, f"{path}: pictures that did not load: {broken}"


def test_the_pages_render_and_the_language_switch_goes_to_the_same_page(page):
    page, expect, url = page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{url}/toolkit/")
    expect(page.locator("article h1")).to_contain_text("The toolkit")
    expect(page.locator("article img").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "site-toolkit.png")
    page.locator(".md-header__option .md-select").first.hover()
    page.locator("a[hreflang='zh']").first.click()
    page.wait_for_url(f"{url}/zh/toolkit/")
    expect(page.locator("article h1")).to_contain_text("训练技巧")
    assert page.evaluate("document.documentElement.lang") == "zh"
    page.screenshot(path=ARTIFACTS / "site-toolkit-zh.png")
    page.locator(".md-header__option .md-select").first.hover()
    page.locator("a[hreflang='en']").first.click()
    page.wait_for_url(f"{url}/toolkit/")


def test_the_search_finds_chinese_words_on_the_chinese_site(page):
    page, expect, url = page
    page.goto(f"{url}/zh/")
    search = page.locator(".md-search__input")
    search.click()
    expect(page.locator(".md-search-result__meta")).not_to_contain_text("初始化", timeout=30_000)
    search.fill("反向传播")
    search.press("End")  # the search runs on a key, once its index is loaded
    results = page.locator(".md-search-result__item")
    expect(results.first).to_be_visible(timeout=15_000)
    first = results.first.inner_text().replace("\u200b", "")  # jieba's cuts between words
    assert "反向传播" in first
    page.screenshot(path=ARTIFACTS / "site-search-zh.png")


def test_the_command_line_reference_in_chinese_renders(page):
    page, expect, url = page
    page.goto(f"{url}/zh/cli/")
    expect(page.locator("article h2").first).to_be_visible()
    assert "用法" in page.locator("article").inner_text()
    page.screenshot(path=ARTIFACTS / "site-cli-zh.png")
