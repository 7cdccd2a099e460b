"""``dvzero serve`` as a user runs it: on a fresh install it trains first, then serves the
page; a real browser (Debian's Chromium, driven by Playwright) draws digits on it."""

from __future__ import annotations

import json
import math
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import ARTIFACTS

SERVING = re.compile(r"serving on (http://\S+) ")


class ServeProcess:
    """``dvzero serve`` in a subprocess, its output read line by line as it comes."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dvzero.cli", "serve", *args], cwd=cwd, env=env,
            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out: list[str] = []
        self.err: list[str] = []
        self.lines: queue.Queue[str] = queue.Queue()
        self.readers = [threading.Thread(target=self._read, args=(stream, kept), daemon=True)
                        for stream, kept in ((self.process.stdout, self.out),
                                             (self.process.stderr, self.err))]
        for reader in self.readers:
            reader.start()

    def _read(self, stream, kept: list[str]) -> None:
        for line in stream:
            kept.append(line)
            self.lines.put(line)

    def wait_for_url(self, seconds: float) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if match := SERVING.search(line):
                return match.group(1)
        self.stop()
        raise AssertionError(f"dvzero serve did not start:\n{''.join(self.out)}\n"
                             f"{''.join(self.err)}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        for reader in self.readers:
            reader.join(timeout=10)
        self.process.stdout.close()
        self.process.stderr.close()
        return code


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """``dvzero serve --port 0`` in a directory with no runs: it trains the original
    post's network first, then serves. Stopping it with SIGTERM must be clean."""
    cwd = tmp_path_factory.mktemp("fresh-install")
    served = ServeProcess(["--port", "0", "--no-progress"], cwd)
    url = served.wait_for_url(600)
    yield served, url, cwd
    assert served.stop() == 0
    assert "dvzero serve: stopped" in "".join(served.err)


def test_a_fresh_install_trains_the_original_posts_network_first(fresh):
    served, url, cwd = fresh
    out = "".join(served.out)
    assert "no finished run in runs/ yet; training the original post's network first" in out
    assert re.search(r"^600  train acc, test acc \| ", out, re.MULTILINE)  # the post's lines
    final = re.search(r"final: train acc \S+, test acc (\S+);", out)
    assert final and float(final.group(1)) > 0.9
    (run,) = (cwd / "runs").iterdir()
    assert (run / "summary.json").is_file() and f"models: {run.name}\n" in out
    assert url.startswith("http://127.0.0.1:")
    assert [model["id"] for model in get_json(url + "api/models")["models"]] == [run.name]


def test_the_options_are_checked(fresh, tmp_path):
    _, url, cwd = fresh
    (run,) = (cwd / "runs").iterdir()
    command = [sys.executable, "-m", "dvzero.cli", "serve"]

    def serve(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*command, *args], cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)

    bad_port = serve(str(run), "--port", "70000")
    assert bad_port.returncode == 2 and "from 0 to 65535" in bad_port.stderr
    missing = serve(str(tmp_path / "nothing"), "--port", "0")
    assert missing.returncode == 2
    assert "nothing: no such file or directory" in missing.stderr
    taken = int(url.rsplit(":", 1)[1].strip("/"))
    in_use = serve(str(run), "--port", str(taken))
    assert in_use.returncode == 2
    assert f"cannot listen on 127.0.0.1 port {taken}" in in_use.stderr
    assert "choose another with --port" in in_use.stderr
    assert not (tmp_path / "runs").exists()  # a model was given: nothing was trained


def test_another_host_is_warned_about(fresh, tmp_path):
    _, _, cwd = fresh
    (run,) = (cwd / "runs").iterdir()
    served = ServeProcess([str(run), "--host", "0.0.0.0", "--port", "0"], tmp_path)
    url = served.wait_for_url(60)
    port = url.rsplit(":", 1)[1].strip("/")
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10):
        pass
    assert served.stop() == 0
    err = "".join(served.err)
    assert "warning: listening on 0.0.0.0: anyone who can reach this computer" in err


# --------------------------------------------------------------------------- the browser


def stroke_with_mouse(page, points) -> None:
    box = page.locator("#pad").bounding_box()
    scale = box["width"] / 280
    page.mouse.move(box["x"] + points[0][0] * scale, box["y"] + points[0][1] * scale)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=2)
    page.mouse.up()


def stroke_with_finger(page, points) -> None:
    box = page.locator("#pad").bounding_box()
    scale = box["width"] / 280
    cdp = page.context.new_cdp_session(page)
    for i, (x, y) in enumerate(points):
        kind = "touchStart" if i == 0 else "touchMove"
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
            {"x": box["x"] + x * scale, "y": box["y"] + y * scale}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def answer(page, expect) -> str:
    """The digit on show once the page has the answer for the drawing as it now is."""
    drawn = page.get_attribute("body", "data-drawn")
    expect(page.locator("#digit")).to_have_attribute("data-version", drawn, timeout=15000)
    return page.inner_text("#digit")


def ink(page) -> int:
    """The pad's pixels drawn on (darker than mid-grey)."""
    return page.evaluate("""() => {
      const pad = document.getElementById("pad");
      const data = pad.getContext("2d").getImageData(0, 0, pad.width, pad.height).data;
      let count = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] < 128) count += 1;
      return count;
    }""")


def not_blank(png: bytes) -> bool:
    import io

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    return pixels.std() > 10


ONE = [(150 - i * 1.5, 45 + i * 10) for i in range(20)]  # a stroke down, slightly slanted
ZERO = [(140 + 60 * math.sin(2 * math.pi * i / 48), 140 - 95 * math.cos(2 * math.pi * i / 48))
        for i in range(49)]  # an oval, round once


def test_a_browser_draws_a_one_and_a_zero(fresh, browser, tmp_path):
    served, url, cwd = fresh
    chromium, expect = browser
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1100, "height": 720}, has_touch=True,
                                   locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    expect(page.locator("#model option")).to_have_count(1)

    stroke_with_finger(page, ONE)
    assert answer(page, expect) == "1"
    top = float(page.inner_text("#bars li.top .value"))
    assert top > 0.5 and page.inner_text("#bars li.top .label") == "1"
    bar = page.locator("#bars li.top .fill").bounding_box()["width"]
    track = page.locator("#bars li.top .track").bounding_box()["width"]
    assert bar == pytest.approx(top * track, abs=2)  # the bar shows the probability
    assert not_blank(page.locator("#input").screenshot())
    assert "50 units" in page.inner_text("#hidden-about")
    page.screenshot(path=ARTIFACTS / "serve-one.png", full_page=True)

    page.click("#clear")
    assert page.inner_text("#digit") == "?"
    stroke_with_mouse(page, ZERO)
    assert answer(page, expect) == "0"
    page.screenshot(path=ARTIFACTS / "serve-zero.png", full_page=True)

    # the page in Chinese, and the choice kept on reload
    page.click("#language")
    expect(page.locator("h1")).to_contain_text("写一个数字")
    assert page.inner_text("#language") == "English"
    assert "个单元" in page.inner_text("#hidden-about")
    page.screenshot(path=ARTIFACTS / "serve-zero-zh.png", full_page=True)
    page.reload()
    expect(page.locator("#clear")).to_have_text("清空")

    # a run finished while the server runs is offered after a reload
    (run,) = (cwd / "runs").iterdir()
    shutil.copytree(run, cwd / "runs" / "zz-copy")
    page.reload()
    expect(page.locator("#model option")).to_have_count(2)
    page.select_option("#model", "zz-copy")
    stroke_with_mouse(page, ZERO)
    assert answer(page, expect) == "0"
    assert errors == []
    context.close()


class Gate:
    """Holds back the page's questions to the server while closed, to answer them late."""

    def __init__(self, page) -> None:
        self.held: list = []
        self.closed = False
        page.route("**/api/predict", self._route)

    def _route(self, route) -> None:
        if self.closed:
            self.held.append(route)
        else:
            route.continue_()

    def tap_held(self, page) -> None:
        """A tap on the pad (a dot: one question, nothing queued behind it), held back."""
        self.closed = True
        box = page.locator("#pad").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        assert ink(page) > 0  # the tap left a dot: the question held back has an answer
        page.wait_for_timeout(200)
        assert len(self.held) == 1

    def release(self) -> None:
        self.closed = False
        while self.held:
            self.held.pop().continue_()


def test_an_answer_that_comes_too_late_is_never_shown(fresh, browser):
    served, url, cwd = fresh
    chromium, expect = browser
    (run,) = [path for path in (cwd / "runs").iterdir() if path.name != "zz-copy"]
    # a second model of another kind: a convolutional network (untrained will do)
    from dvzero.networks import SimpleConvNet

    cnn = cwd / "runs" / "zz-cnn"
    shutil.copytree(run, cnn)
    (cnn / "params_two_layer.pkl").unlink()
    SimpleConvNet(rng=0).save_params(cnn / "params.npz")
    page = chromium.new_page(viewport={"width": 1100, "height": 720}, locale="en-US")
    page.goto(url)
    expect(page.locator("#model option[value='zz-cnn']")).to_have_count(1)
    page.select_option("#model", run.name)

    # the pad cleared while the answer is on its way: the answer is dropped
    gate = Gate(page)
    gate.tap_held(page)
    page.click("#clear")
    gate.release()
    page.wait_for_timeout(500)
    assert page.inner_text("#digit") == "?"
    assert page.inner_text("#bars li:nth-child(2) .value") == ""

    # the model switched while the answer is on its way: the new model's answer is shown
    gate.tap_held(page)
    page.select_option("#model", "zz-cnn")
    gate.release()
    assert answer(page, expect) in "0123456789"
    expect(page.locator("#hidden-about")).to_contain_text("30 feature maps of 12×12")
    page.screenshot(path=ARTIFACTS / "serve-cnn.png", full_page=True)
    page.close()
