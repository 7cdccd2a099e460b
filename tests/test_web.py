"""dvzero serve without a browser: the models on offer, the answers, and every request the
server must refuse (4xx) while it goes on serving."""

from __future__ import annotations

import base64
import contextlib
import errno
import http.client
import io
import json
import re
import shutil
import socket
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import dvzero.web
from dvzero import DeepVisionZeroNet
from dvzero.apps.images import read_digit
from dvzero.apps.predict import load_predictor, predict_files
from dvzero.cli import main
from dvzero.functions import relu, sigmoid
from dvzero.networks import DeepConvNet, MultiLayerNet, SimpleConvNet
from dvzero.web import Catalog, is_loopback, make_server, url_of
from dvzero.web.models import MAX_HIDDEN_VALUES, find_runs, hidden_layer
from dvzero.web.server import MAX_BODY, MAX_DRAWING_PIXELS, PAGE_FILES, decode_drawing

from helpers import render

OLDER, NEWER = "20260101-000000", "20260102-000000"


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, small_mnist_dir):
    """``runs/`` with two finished runs (the original post's network, and an MLP), an
    interrupted one, a directory that is not a run, and a stray file."""
    runs = tmp_path_factory.mktemp("serve") / "runs"
    common = ["--data-dir", str(small_mnist_dir), "--steps", "300", "--seed", "1",
              "--no-progress"]
    assert main(["train", *common, "--out", str(runs / OLDER)]) == 0
    assert main(["train", *common, "--net", "mlp", "--hidden", "30",
                 "--out", str(runs / NEWER)]) == 0
    interrupted = runs / "20260103-000000"
    interrupted.mkdir()
    shutil.copy(runs / OLDER / "params.npz", interrupted / "checkpoint.npz")
    (runs / "notes").mkdir()
    (runs / "notes" / "summary.json").write_text('{"mine": true}')
    (runs / "stray.txt").write_text("not a run")
    return runs


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def drawing(mnist_raw) -> bytes:
    """An MNIST test digit (a 7) drawn anew as a PNG: dark ink on light paper, scaled."""
    _, _, x_test, _ = mnist_raw
    return render(x_test[0], 1, np.random.default_rng(3)).getvalue()


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


# --------------------------------------------------------------------------- the models


def test_find_runs_lists_finished_runs_newest_first(runs_dir):
    entries = find_runs(runs_dir)
    assert [entry.id for entry in entries] == [NEWER, OLDER]
    assert [entry.network for entry in entries] == ["MultiLayerNet", "DeepVisionZeroNet"]
    summary = json.loads((runs_dir / OLDER / "summary.json").read_text())
    assert entries[1].test_acc == summary["test_acc"]
    assert entries[1].as_json() == {"id": OLDER, "network": "DeepVisionZeroNet",
                                    "test_acc": summary["test_acc"]}


def test_find_runs_in_a_missing_directory_is_empty(tmp_path):
    assert find_runs(tmp_path / "nothing") == []


def test_a_model_given_comes_first_and_is_not_listed_twice(runs_dir, tmp_path):
    catalog = Catalog(runs_dir, runs_dir / OLDER)
    assert [entry.id for entry in catalog.entries()] == [str(runs_dir / OLDER), NEWER]
    lone = tmp_path / "mine.npz"
    DeepVisionZeroNet(784, 20, 10, rng=0).save_params(lone)
    catalog = Catalog(runs_dir, lone)
    assert [entry.id for entry in catalog.entries()] == [str(lone), NEWER, OLDER]
    assert catalog.entries()[0].network == "?" and catalog.entries()[0].test_acc is None


def test_a_model_that_cannot_read_digits_is_refused_at_once(runs_dir, tmp_path):
    other = tmp_path / "other.npz"
    DeepVisionZeroNet(100, 20, 10, rng=0).save_params(other)
    with pytest.raises(ValueError, match="needs 784"):
        Catalog(runs_dir, other)
    with pytest.raises(ValueError, match="resume"):
        Catalog(runs_dir, runs_dir / "20260103-000000")


def test_new_runs_appear_without_a_restart(runs_dir, tmp_path):
    runs = tmp_path / "runs"
    catalog = Catalog(runs)
    assert catalog.entries() == []
    shutil.copytree(runs_dir / OLDER, runs / "copy")
    assert [entry.id for entry in catalog.entries()] == ["copy"]


def test_an_answer_is_what_predict_says_for_the_same_picture(runs_dir, drawing, tmp_path):
    picture = tmp_path / "seven.png"
    picture.write_bytes(drawing)
    catalog = Catalog(runs_dir)
    for entry in catalog.entries():
        answer = catalog.predict(entry.id, io.BytesIO(drawing))
        (expected,), errors = predict_files(load_predictor(entry.path), [picture])
        assert errors == []
        assert answer["model"] == entry.id
        assert answer["digit"] == expected.digit
        np.testing.assert_allclose(answer["probabilities"], expected.probabilities, atol=1e-5)
        np.testing.assert_allclose(answer["input"], read_digit(picture), atol=5e-4)
    # the first model is the default
    assert catalog.predict(None, io.BytesIO(drawing))["model"] == NEWER
    with pytest.raises(KeyError, match="no model 'elsewhere'"):
        catalog.predict("elsewhere", io.BytesIO(drawing))


def test_the_hidden_layer_sent_is_the_networks_own(runs_dir, drawing):
    catalog = Catalog(runs_dir)
    x = read_digit(io.BytesIO(drawing)).reshape(1, -1)
    for entry in catalog.entries():
        network = load_predictor(entry.path).network
        params = {key: np.asarray(value, np.float64) for key, value in network.params.items()}
        # computed here, independently of the network's layers
        activation = sigmoid if entry.network == "DeepVisionZeroNet" else relu
        expected = activation(x @ params["W1"] + params["b1"])[0]
        hidden = catalog.predict(entry.id, io.BytesIO(drawing))["hidden"]
        assert hidden["shape"] == [len(expected)]
        np.testing.assert_allclose(hidden["values"], expected, atol=2e-3)
        assert hidden["max"] == pytest.approx(expected.max(), abs=1e-3)


@pytest.mark.parametrize("network, shape", [
    (SimpleConvNet(rng=0), (30, 12, 12)),  # convolution, pooling, ReLU
    (DeepConvNet(rng=0), (16, 28, 28)),  # the first convolution and its ReLU
    (MultiLayerNet(784, [20, 20], 10, activation="tanh", use_batchnorm=True, rng=0), (20,)),
])
def test_first_hidden_of_every_family(network, shape, rng):
    x = rng.random((3, 784))
    hidden = network.first_hidden(x)
    assert hidden.shape == (3, *shape)
    if isinstance(network, MultiLayerNet):
        assert np.all(np.abs(hidden) <= 1)
    else:
        assert hidden.min() >= 0 and hidden.max() > 0
    np.testing.assert_allclose(network.predict(x).sum(axis=1), 1, rtol=1e-5)


def test_first_hidden_of_the_conv_net_is_its_first_block():
    network = SimpleConvNet(rng=0)
    x = np.random.default_rng(1).random((1, 1, 28, 28))
    W, b = network.params["W1"], network.params["b1"]
    # a direct convolution, 2x2 max-pooling and ReLU
    conv = np.array([[[np.sum(x[0, :, i:i + 5, j:j + 5] * W[f]) + b[f] for j in range(24)]
                      for i in range(24)] for f in range(30)])
    pooled = conv.reshape(30, 12, 2, 12, 2).max(axis=(2, 4))
    np.testing.assert_allclose(network.first_hidden(x)[0], np.maximum(pooled, 0), rtol=1e-5,
                               atol=1e-6)


def test_hidden_layer_rounds_and_leaves_out_the_very_large():
    small = hidden_layer(np.array([0.12345, 0.5, 1.0]))
    assert small == {"shape": [3], "values": [0.123, 0.5, 1.0], "max": 1.0}
    large = hidden_layer(np.ones(MAX_HIDDEN_VALUES + 1))
    assert large["values"] == [] and large["shape"] == [MAX_HIDDEN_VALUES + 1]


# --------------------------------------------------------------------------- the server


class Served:
    def __init__(self, catalog: Catalog) -> None:
        self.lines: list[str] = []
        self.server = make_server(catalog, "127.0.0.1", 0, log=self.lines.append)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def predict(self, payload, raw: bytes | None = None) -> tuple[int, dict]:
        body = raw if raw is not None else json.dumps(payload).encode()
        status, _, answer = self.request("POST", "/api/predict", body,
                                         {"Content-Type": "application/json"})
        return status, json.loads(answer)

    def raw(self, data: bytes) -> bytes:
        """What the server answers ``data`` sent on a connection of its own; ``b""`` if it
        closed the connection without a word."""
        chunks = []
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as connection:
            try:
                connection.sendall(data)
                connection.shutdown(socket.SHUT_WR)
                while chunk := connection.recv(65536):
                    chunks.append(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # closed by the server, perhaps before reading all of ``data``
            except OSError as exc:
                if exc.errno != errno.ENOTCONN:
                    raise
        return b"".join(chunks)

    def still_serving(self, drawing: bytes) -> None:
        status, answer = self.predict({"image": data_url(drawing)})
        assert status == 200 and 0 <= answer["digit"] <= 9


@pytest.fixture(scope="module")
def served(runs_dir):
    served = Served(Catalog(runs_dir))
    yield served
    served.server.shutdown()
    served.server.server_close()


def test_the_page_and_its_files(served):
    status, headers, page = served.request("GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'<canvas id="pad"' in page and b'src="app.js"' in page
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    for path, kind, text in [("/index.html", "text/html", b"<canvas"),
                             ("/app.js", "text/javascript", b"api/predict"),
                             ("/style.css", "text/css", b"#pad"),
                             ("/?lang=zh", "text/html", b"<canvas")]:
        status, headers, body = served.request("GET", path)
        assert status == 200 and headers["Content-Type"].startswith(kind) and text in body
    status, headers, body = served.request("HEAD", "/app.js")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 1000


def test_the_models_on_offer(served):
    status, _, body = served.request("GET", "/api/models")
    assert status == 200
    assert [model["id"] for model in json.loads(body)["models"]] == [NEWER, OLDER]


def test_a_drawing_gets_the_digit_the_probabilities_the_input_and_the_hidden_layer(
        served, drawing):
    status, answer = served.predict({"model": OLDER, "image": data_url(drawing)})
    assert status == 200
    assert answer["model"] == OLDER
    assert answer["digit"] == int(np.argmax(answer["probabilities"]))
    assert len(answer["probabilities"]) == 10
    assert sum(answer["probabilities"]) == pytest.approx(1, abs=1e-4)
    assert np.array(answer["input"]).shape == (28, 28)
    assert answer["hidden"]["shape"] == [50]
    # bare base64 works too
    status, bare = served.predict({"model": OLDER,
                                   "image": base64.b64encode(drawing).decode()})
    assert status == 200 and bare == answer


@pytest.mark.parametrize("path", [
    "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
    "//etc/passwd", "/page/index.html", "/server.py", "/models.py", "/__init__.py",
    "/app.js/../server.py", "/static/app.js", "/index.html%00.py", "/api", "/api/predict",
    "/\\..\\server.py",
])
def test_nothing_but_the_pages_own_files_is_served(served, drawing, path):
    status, _, body = served.request("GET", path)
    assert status == 404
    assert json.loads(body) == {"error": "not found"}
    served.still_serving(drawing)


PAGE_DIR = Path(dvzero.web.__file__).parent / "page"
#: Enough ``..`` to climb from the page's directory to ``/`` (more stay at ``/``).
UP = len(PAGE_DIR.resolve().parts) + 2


@pytest.mark.parametrize("path", [
    "/../server.py", "/..%2fserver.py", "/%2e%2e/server.py", "/%2E%2E%2Fserver.py",
    "/.%2e/server.py", "/app.js/../../server.py", "/../__init__.py",
    "/.." * UP + "/etc/passwd", "/%2e%2e" * UP + "/etc/passwd", "/" + "..%2f" * UP + "etc%2fpasswd",
])
def test_paths_that_climb_out_of_the_page_to_files_that_exist_are_not_served(served, drawing,
                                                                             path):
    """Only PAGE_FILES are served: a path reaching a real file outside page/ gets the 404."""
    outside = [PAGE_DIR.parent / "server.py", PAGE_DIR.parent / "__init__.py"]
    assert all(file.is_file() for file in outside)  # the targets exist: a leak would show
    secrets = [file.read_bytes() for file in outside]
    if Path("/etc/passwd").is_file():
        secrets.append(Path("/etc/passwd").read_bytes())
    for method in ("GET", "HEAD"):
        status, headers, body = served.request(method, path)
        assert status == 404, (method, path)
        assert headers["Content-Type"] == "application/json"
        if method == "GET":
            assert json.loads(body) == {"error": "not found"}
            assert not any(secret[:64] in body for secret in secrets)
    served.still_serving(drawing)


def tiny_png(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` but whose data is one row short of
    anything: enough to test the pixel limit before decoding."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1))) + chunk(b"IEND", b""))


def tiff_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="TIFF")
    return buffer.getvalue()


def bad_requests(drawing: bytes) -> dict[str, tuple[object, bytes | None, int, str]]:
    """Each malformed request: (JSON payload, or raw body), the status and words expected."""
    white = png_bytes(np.full((280, 280), 255, np.uint8))
    side = int(MAX_DRAWING_PIXELS ** 0.5) + 10
    digit = np.asarray(Image.open(io.BytesIO(drawing)))
    return {
        "not JSON": (None, b"{image: nope", 400, "not valid JSON"),
        "not UTF-8": (None, b"\xff\xfe\x00", 400, "not valid JSON"),
        "nested too deep": (None, b"[" * 100000, 400, "not valid JSON"),
        "a list": ([data_url(drawing)], None, 400, '"image"'),
        "no image": ({"model": OLDER}, None, 400, '"image"'),
        "image not a string": ({"image": 7}, None, 400, '"image"'),
        "model not a string": ({"image": data_url(drawing), "model": 3}, None, 400, "model"),
        "not base64": ({"image": "data:image/png;base64,@@@"}, None, 400, "base64"),
        "data URL not base64": ({"image": "data:image/png,abc"}, None, 400, "base64"),
        "not an image": ({"image": data_url(b"hello world")}, None, 400, "not an image"),
        "a TIFF": ({"image": data_url(tiff_bytes(digit))}, None, 400, "not an image"),
        "PostScript": ({"image": data_url(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 9 9"
                                          b"\nshowpage\n")}, None, 400, "not an image"),
        "truncated": ({"image": data_url(drawing[: len(drawing) // 2])}, None, 400,
                      "the drawing"),
        "too many pixels": ({"image": data_url(tiny_png(side, side))}, None, 400, "pixels"),
        "blank": ({"image": data_url(white)}, None, 422, "nothing drawn"),
        "unknown model": ({"image": data_url(drawing), "model": "../../etc"}, None, 404,
                          "no model"),
    }


BAD_REQUESTS = ["not JSON", "not UTF-8", "nested too deep", "a list", "no image",
                "image not a string", "model not a string", "not base64",
                "data URL not base64", "not an image", "a TIFF", "PostScript", "truncated",
                "too many pixels", "blank", "unknown model"]


@pytest.mark.parametrize("name", BAD_REQUESTS)
def test_malformed_drawings_get_4xx_and_the_server_goes_on(served, drawing, name):
    payload, raw, expected, words = bad_requests(drawing)[name]
    status, answer = served.predict(payload, raw)
    assert status == expected
    assert words in answer["error"]
    served.still_serving(drawing)


def test_every_malformed_case_is_tested(drawing):
    assert list(bad_requests(drawing)) == BAD_REQUESTS


def test_an_oversize_body_is_refused_unread(served, drawing):
    head = (f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {MAX_BODY + 1}\r\n\r\n").encode()
    answer = served.raw(head + b"x" * 1000)  # far less than announced: not waited for
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"at most" in answer and b"Connection: close" in answer
    served.still_serving(drawing)


@pytest.mark.parametrize("headers, expected", [
    ("", b"HTTP/1.1 411"),
    ("Transfer-Encoding: chunked\r\n", b"HTTP/1.1 411"),
    ("Content-Length: -5\r\n", b"HTTP/1.1 400"),
    ("Content-Length: \u00b2\r\n", b"HTTP/1.1 400"),  # a digit to str.isdigit, not to int
    (f"Content-Length: {'9' * 5000}\r\n", b"HTTP/1.1 400"),  # beyond int()'s digit limit
    ("Content-Length: 100\r\n", b"HTTP/1.1 400"),  # the body ends early
])
def test_bodies_without_a_usable_length_are_refused(served, drawing, headers, expected):
    answer = served.raw(f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n{{}}"
                        .encode("latin-1"))
    assert answer.startswith(expected)
    served.still_serving(drawing)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_not_allowed(served, drawing, method):
    status, headers, _ = served.request(method, "/api/predict", b"{}")
    assert status == 405 and headers["Allow"] == "GET, HEAD, POST"
    served.still_serving(drawing)


@pytest.mark.parametrize("garbage", [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                                     b"GET\r\n\r\n", b"BREW /pot HTTP/1.1\r\n\r\n",
                                     b"GET / HTTP/9.9\r\n\r\n", b"X" * 70000 + b"\r\n\r\n"])
def test_garbage_on_the_socket_never_stops_the_server(served, drawing, garbage):
    answer = served.raw(garbage)
    # an HTTP/0.9-looking request gets the error page without a status line
    assert answer == b"" or re.match(rb"HTTP/1\.[01] [45]\d\d |<!DOCTYPE HTML", answer)
    if answer.startswith(b"<"):
        assert re.search(rb"Error code: [45]\d\d", answer)
    served.still_serving(drawing)


def test_a_body_left_unread_is_never_taken_for_a_request(served, drawing):
    smuggled = b"GET /app.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    for method, path in [("POST", "/nope"), ("PUT", "/api/predict"), ("GET", "/"),
                         ("POST", "/api/predict/")]:
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Length: {len(smuggled)}\r\n\r\n").encode()
        answer = served.raw(head + smuggled + b"GET /api/models HTTP/1.1\r\nHost: "
                            b"127.0.0.1\r\n\r\n")
        assert answer.count(b"HTTP/1.1 ") == 1, (method, path)  # the connection closed
        assert b"Connection: close" in answer and b"text/javascript" not in answer
    # a body that was read leaves the connection open for the next request
    body = json.dumps({"image": data_url(drawing)}).encode()
    head = (f"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
            f"{len(body)}\r\n\r\n").encode()
    answer = served.raw(head + body + b"GET /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Connection: close\r\n\r\n")
    assert answer.count(b"HTTP/1.1 200") == 2


@pytest.mark.parametrize("host, expected", [
    ("127.0.0.1:8000", 200), ("localhost", 200), ("LOCALHOST:1", 200), ("[::1]:8000", 200),
    ("attacker.example", 403), ("attacker.example:8000", 403), ("127.0.0.1.nip.io", 403),
    ("", 403),
])
def test_a_page_for_this_computer_answers_only_to_its_names(served, host, expected):
    status, _, body = served.request("GET", "/api/models", headers={"Host": host})
    assert status == expected
    if expected == 403:
        assert "answers only to localhost" in json.loads(body)["error"]


def test_any_host_is_answered_when_serving_beyond_this_computer(runs_dir):
    server = make_server(Catalog(runs_dir), "0.0.0.0", 0)
    try:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1],
                                                timeout=10)
        connection.request("GET", "/api/models", headers={"Host": "my-laptop.local:8000"})
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.0.0.2", True),
                                            ("localhost", True), ("::1", True),
                                            ("0.0.0.0", False), ("", False), ("::", False),
                                            ("192.168.1.5", False), ("my-laptop", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_concurrent_drawings_get_the_answers_they_would_get_alone(tmp_path, mnist_raw):
    # a convolutional network keeps its inputs in shared buffers: without the catalog's
    # lock, answers computed at once get mixed up
    model = tmp_path / "cnn.npz"
    SimpleConvNet(rng=0).save_params(model)
    catalog = Catalog(tmp_path / "runs", model)
    _, _, x_test, _ = mnist_raw
    pictures = [png_bytes(255 - x_test[i].reshape(28, 28)) for i in range(16)]
    alone = [catalog.predict(None, io.BytesIO(picture)) for picture in pictures]
    served = Served(catalog)
    try:
        def ask(i: int) -> dict:
            status, answer = served.predict({"image": data_url(pictures[i % 16])})
            assert status == 200
            return answer

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(ask, range(96)))
    finally:
        served.server.shutdown()
        served.server.server_close()
    for i, answer in enumerate(answers):
        assert answer == alone[i % 16]


def test_connections_beyond_the_limit_are_closed_and_the_server_goes_on(
        runs_dir, drawing, monkeypatch):
    from dvzero.web import server as server_module

    monkeypatch.setattr(server_module, "MAX_CONNECTIONS", 3)
    served = Served(Catalog(runs_dir))
    try:
        with contextlib.ExitStack() as idle:
            for _ in range(3):
                idle.enter_context(socket.create_connection(("127.0.0.1", served.port),
                                                            timeout=10))
            time.sleep(0.2)  # the three are being served (waiting for their requests)
            assert served.raw(b"GET /api/models HTTP/1.1\r\nHost: localhost\r\n\r\n") == b""
        deadline = time.monotonic() + 10
        while served.raw(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n") == b"":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        served.still_serving(drawing)
    finally:
        served.server.shutdown()
        served.server.server_close()


def test_a_model_retrained_in_place_is_loaded_again(runs_dir, drawing, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(runs_dir / OLDER, runs / "a")
    catalog = Catalog(runs)
    before = catalog.predict("a", io.BytesIO(drawing))["probabilities"]
    assert catalog.predict("a", io.BytesIO(drawing))["probabilities"] == before
    DeepVisionZeroNet(784, 50, 10, rng=5).save_params(runs / "a" / "params.npz")
    after = catalog.predict("a", io.BytesIO(drawing))["probabilities"]
    (expected,), _ = predict_files(load_predictor(runs / "a"), [write(tmp_path, drawing)])
    assert after != before
    np.testing.assert_allclose(after, expected.probabilities, atol=1e-5)


def write(folder: Path, data: bytes) -> Path:
    path = folder / "drawing.png"
    path.write_bytes(data)
    return path


def test_an_idle_connection_does_not_hold_up_others(served, drawing):
    with socket.create_connection(("127.0.0.1", served.port), timeout=10):
        served.still_serving(drawing)


def test_a_model_that_will_not_load_is_a_500_and_the_server_goes_on(runs_dir, drawing,
                                                                      tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(runs_dir / OLDER, runs / "broken")
    shutil.copytree(runs_dir / OLDER, runs / "fine")
    (runs / "broken" / "params.npz").write_bytes(b"not a parameter file")
    (runs / "broken" / "params_two_layer.pkl").unlink()
    served = Served(Catalog(runs))
    try:
        status, answer = served.predict({"image": data_url(drawing), "model": "broken"})
        assert status == 500 and "not a dvzero parameter file" in answer["error"]
        assert len(served.lines) == 1 and "broken" in served.lines[0]
        status, answer = served.predict({"image": data_url(drawing), "model": "fine"})
        assert status == 200
    finally:
        served.server.shutdown()
        served.server.server_close()


def test_decode_drawing_names_the_model_and_the_picture(drawing):
    model, picture = decode_drawing(json.dumps({"image": data_url(drawing),
                                                "model": "a"}).encode())
    assert model == "a" and picture.read() == drawing and picture.name == "the drawing"


def test_url_of_the_server(served):
    assert url_of(served.server) == f"http://127.0.0.1:{served.port}/"


def test_the_page_files_are_in_the_package():

    page = Path(__import__("dvzero.web", fromlist=["x"]).__file__).parent / "page"
    assert {name for name, _ in PAGE_FILES.values()} == {p.name for p in page.iterdir()}
