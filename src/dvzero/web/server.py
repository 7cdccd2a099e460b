"""``dvzero serve``: a page to draw digits on, and the small HTTP server behind it.

The server knows three things: the page's own files (:data:`PAGE_FILES`, and nothing else
is ever read from disk for a request), ``GET /api/models`` (the models on offer) and
``POST /api/predict`` (a drawing in, the network's answer out). It is Python's own
:mod:`http.server`, one thread per request; any request it cannot use gets a 4xx answer
with a JSON ``error`` and the server goes on.
"""

from __future__ import annotations

import base64
import binascii
import io
import ipaddress
import json
import re
import socket
import threading
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from .._i18n import _
from ..apps.images import ImageError, NoInkError
from ..errors import DVZeroError
from .models import Catalog

#: URL path -> (file in dvzero/web/page, content type): all the server ever reads.
PAGE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
#: The largest request body read, in bytes: a 280x280 drawing as a PNG data URL is about
#: 20 KB; a body above this is refused unread (413).
MAX_BODY = 2 * 1024 * 1024
#: The largest drawing decoded, in pixels (a canvas is far smaller).
MAX_DRAWING_PIXELS = 4_000_000
#: The picture formats a drawing may come in (the page sends PNG); Pillow's other formats,
#: some of which hand the data to outside programs (EPS to Ghostscript), are refused.
DRAWING_FORMATS = ("PNG", "JPEG")
#: Seconds a connection may stay silent before the server drops it.
TIMEOUT = 20
#: Connections served at once (a thread each); more are closed at once.
MAX_CONNECTIONS = 64
#: The names a page served on this computer only is reached by; any other ``Host`` header
#: is refused, so that a web site cannot reach the server through a DNS name of its own.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
#: Headers on every answer: the page's own files only, never sniffed, never framed.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


class RequestError(Exception):
    """A request the server refuses: the status and the reason sent back."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def page_file(name: str) -> bytes:
    """One of the page's own files, from the installed package."""
    return (resources.files("dvzero.web") / "page" / name).read_bytes()


def decode_drawing(body: bytes) -> tuple[str | None, io.BytesIO]:
    """``(model id or None, picture)`` from a ``/api/predict`` body: JSON with ``image``,
    a PNG or JPEG as a data URL (``data:image/png;base64,...``) or bare base64, and an
    optional ``model``. Raises :class:`RequestError` (400) for anything else."""
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: [[[[...
        raise RequestError(HTTPStatus.BAD_REQUEST, _("the body is not valid JSON")) from None
    if not isinstance(request, dict) or not isinstance(request.get("image"), str):
        raise RequestError(HTTPStatus.BAD_REQUEST,
                           _('expected a JSON object with "image": a PNG data URL'))
    model = request.get("model")
    if model is not None and not isinstance(model, str):
        raise RequestError(HTTPStatus.BAD_REQUEST, _('"model" must be a string'))
    image = request["image"]
    if image.startswith("data:"):
        header, _comma, image = image.partition(",")
        if not header.endswith(";base64"):
            raise RequestError(HTTPStatus.BAD_REQUEST, _("the data URL must be base64"))
    try:
        data = base64.b64decode(image, validate=True)
    except (binascii.Error, ValueError):
        raise RequestError(HTTPStatus.BAD_REQUEST, _('"image" is not valid base64')) from None
    picture = io.BytesIO(data)
    picture.name = _("the drawing")
    return model, picture


class Handler(BaseHTTPRequestHandler):
    """Answers one connection; :func:`make_server` gives it the catalog and the log."""

    server_version = "dvzero"
    protocol_version = "HTTP/1.1"
    timeout = TIMEOUT
    catalog: Catalog
    log: Callable[[str], None]
    #: The ``Host`` names accepted (``None``: any, when serving beyond this computer).
    hosts: tuple[str, ...] | None = None
    _body_read = False

    # ------------------------------------------------------------------ methods

    def do_GET(self) -> None:
        self._answer(self._get)

    def do_HEAD(self) -> None:
        self._answer(self._get, head=True)

    def do_POST(self) -> None:
        self._answer(self._post)

    def _not_allowed(self) -> None:
        self._answer(self._refuse_method)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    # ------------------------------------------------------------------ routes

    def _get(self) -> tuple[HTTPStatus, str, bytes]:
        path = urlsplit(self.path).path
        if path == "/api/models":
            entries = self.catalog.entries()
            return self._json({"models": [entry.as_json() for entry in entries]})
        if path not in PAGE_FILES:
            raise RequestError(HTTPStatus.NOT_FOUND, _("not found"))
        name, content_type = PAGE_FILES[path]
        return HTTPStatus.OK, content_type, page_file(name)

    def _post(self) -> tuple[HTTPStatus, str, bytes]:
        if urlsplit(self.path).path != "/api/predict":
            raise RequestError(HTTPStatus.NOT_FOUND, _("not found"))
        model, picture = decode_drawing(self._body())
        try:
            return self._json(self.catalog.predict(model, picture, MAX_DRAWING_PIXELS,
                                                   DRAWING_FORMATS))
        except NoInkError:
            raise RequestError(HTTPStatus.UNPROCESSABLE_ENTITY,
                               _("nothing drawn yet: the picture is blank")) from None
        except ImageError as exc:
            raise RequestError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        except KeyError as exc:
            raise RequestError(HTTPStatus.NOT_FOUND, exc.args[0]) from None

    def _refuse_method(self) -> tuple[HTTPStatus, str, bytes]:
        raise RequestError(HTTPStatus.METHOD_NOT_ALLOWED,
                           _("{method} is not served").format(method=self.command))

    # ------------------------------------------------------------------ plumbing

    def _body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None or "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, _("send a Content-Length"))
        if not re.fullmatch(r"[0-9]{1,15}", length.strip()):
            raise RequestError(HTTPStatus.BAD_REQUEST, _("a malformed Content-Length"))
        size = int(length)
        if size > MAX_BODY:
            raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               _("the body is {size:,} bytes; at most {most:,}")
                               .format(size=size, most=MAX_BODY))
        body = self.rfile.read(size)
        if len(body) < size:
            raise RequestError(HTTPStatus.BAD_REQUEST, _("the body ended early"))
        self._body_read = True
        return body

    def _has_unread_body(self) -> bool:
        """Whether the request announced a body this handler did not read: left on the
        connection, it would be taken for the next request."""
        if self._body_read:
            return False
        length = self.headers.get("Content-Length", "0").strip()
        return length != "0" or "Transfer-Encoding" in self.headers

    def _check_host(self) -> None:
        if self.hosts is None:
            return
        host = self.headers.get("Host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name.lower() not in self.hosts:
            raise RequestError(HTTPStatus.FORBIDDEN,
                               _("this server answers only to {hosts}")
                               .format(hosts=", ".join(self.hosts)))

    @staticmethod
    def _json(value: Any, status: HTTPStatus = HTTPStatus.OK) -> tuple[HTTPStatus, str, bytes]:
        return status, "application/json", json.dumps(value).encode()

    def _answer(self, route: Callable[[], tuple[HTTPStatus, str, bytes]],
                head: bool = False) -> None:
        self._body_read = False
        try:
            self._check_host()
            status, content_type, body = route()
        except RequestError as exc:
            status, content_type, body = self._json({"error": str(exc)}, exc.status)
        except (DVZeroError, OSError, ValueError) as exc:  # a model that will not load
            status, content_type, body = self._json({"error": str(exc)},
                                                    HTTPStatus.INTERNAL_SERVER_ERROR)
            self.log(_("error: {message}").format(message=exc))
        except Exception:  # noqa: BLE001 - one bad request must never stop the server
            status, content_type, body = self._json(
                {"error": _("internal error (see the server's output)")},
                HTTPStatus.INTERNAL_SERVER_ERROR)
            self.log(traceback.format_exc().rstrip())
        if self._has_unread_body():
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "GET, HEAD, POST")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """No line per request (a drawing sends several a second), nor for idle browser
        connections timing out; the server's own failures go to ``log`` in _answer."""


def make_server(catalog: Catalog, host: str = "127.0.0.1", port: int = 8000,
                log: Callable[[str], None] | None = None) -> ThreadingHTTPServer:
    """A server for the page and its API on ``host:port`` (port 0: a free one), not yet
    serving: call ``serve_forever()``. ``log`` gets a line for each request that failed on
    the server's side, such as a model that will not load (default: dropped)."""
    handler = type("PageHandler", (Handler,), {
        "catalog": catalog, "log": staticmethod(log or (lambda line: None)),
        "hosts": LOOPBACK_NAMES if is_loopback(host) else None})
    server_class = _Server6 if ":" in host else _Server
    return server_class((host, port), handler)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this computer only (``localhost``, 127.x.x.x or ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Server(ThreadingHTTPServer):
    """One thread per connection, at most :data:`MAX_CONNECTIONS` at once."""

    request_queue_size = 128  # the listen backlog: bursts of requests wait, not fail

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # too many connections: drop this one
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class _Server6(_Server):
    address_family = socket.AF_INET6


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    host = f"[{host}]" if ":" in str(host) else host
    return f"http://{host}:{port}/"
