"""Shared fixtures: a private dataset cache, MNIST itself, and a small MNIST subset on disk."""

from __future__ import annotations

import os

import numpy as np
import pytest

from helpers import write_mnist_dir

# The tests read dvzero's messages in English, whatever the machine's locale (LANG=zh_CN.UTF-8
# would make them Chinese); the tests of the Chinese ask for it themselves.
os.environ["DVZERO_LANG"] = "en"


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir(tmp_path_factory):
    """Keep the tests' dataset cache out of the user's cache directory."""
    path = tmp_path_factory.mktemp("dvzero-cache")
    previous = os.environ.get("DVZERO_CACHE_DIR")
    os.environ["DVZERO_CACHE_DIR"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("DVZERO_CACHE_DIR", None)
    else:
        os.environ["DVZERO_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def mnist_raw():
    """The shipped MNIST as uint8 images (N, 28, 28) and uint8 labels."""
    from dvzero import load_mnist

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False, flatten=False)
    return x_train[:, 0], t_train, x_test[:, 0], t_test


@pytest.fixture(scope="session")
def mnist():
    """The shipped MNIST, normalized float32 rows and integer labels."""
    from dvzero import load_mnist

    return load_mnist(normalize=True, flatten=True, one_hot_label=False)


@pytest.fixture(scope="session")
def small_mnist_dir(tmp_path_factory, mnist_raw):
    """A data directory with the first 2,000 training and 500 test images of MNIST."""
    x_train, t_train, x_test, t_test = mnist_raw
    directory = tmp_path_factory.mktemp("small-mnist")
    return write_mnist_dir(directory, x_train[:2000], t_train[:2000], x_test[:500], t_test[:500])


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright: ``(browser, expect)``."""
    from helpers import CHROMIUM

    if not CHROMIUM.exists():
        pytest.skip("no Chromium at /usr/bin/chromium: install Debian's package "
                    "(apt-get install -y chromium) to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright is not installed: pip install -e '.[dev]'")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser, sync_api.expect
        browser.close()
