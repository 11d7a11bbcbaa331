"""A small hostile/friendly feed server on 127.0.0.1 for tests (no mocks of the network).

Routes are registered as ``server.routes[path] = handler(request_handler)``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Handler = Callable[[BaseHTTPRequestHandler], None]


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        server: FeedServer = self.server.owner  # type: ignore[attr-defined]
        server.requests.append((self.path, dict(self.headers)))
        handler = server.routes.get(self.path.split("?", 1)[0])
        if handler is None:
            send(self, 404, b"not found")
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler(self)

    def log_message(self, *args) -> None:
        pass


def send(h: BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str) -> None:
    h.send_response(status)
    for k, v in headers.items():
        h.send_header(k.replace("_", "-"), v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def body(data: bytes, **headers: str) -> Handler:
    return lambda h: send(h, 200, data, **headers)


def status(code: int, data: bytes = b"") -> Handler:
    return lambda h: send(h, code, data)


def redirect(location: str, code: int = 302) -> Handler:
    return lambda h: send(h, code, b"", Location=location)


def trickle(interval: float, n: int = 1000) -> Handler:
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(n))
        h.end_headers()
        for _ in range(n):
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(interval)

    return handler


def lying_length(real: bytes, claimed: int | None = None) -> Handler:
    """Sends more bytes than it claims (or no length at all, closing the connection)."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        if claimed is not None:
            h.send_header("Content-Length", str(claimed))
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(real)
        h.close_connection = True

    return handler


def unframed(data: bytes, *, cut_at: int | None = None) -> Handler:
    """No Content-Length, not chunked: the body ends when the connection closes (after
    ``cut_at`` bytes when given: a download cut off that looks like a whole one)."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(data if cut_at is None else data[:cut_at])
        h.wfile.flush()
        h.close_connection = True

    return handler


def chunked(data: bytes, *, complete: bool = True, size: int = 4096) -> Handler:
    """Transfer-Encoding: chunked; without the last-chunk and closed early unless complete."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.send_header("Connection", "close")
        h.end_headers()
        end = len(data) if complete else len(data) // 2
        for i in range(0, end, size):
            part = data[i : min(i + size, end)]
            h.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        if complete:
            h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()
        h.close_connection = True

    return handler


def silent(seconds: float, *, started: threading.Event | None = None) -> Handler:
    """Headers, then nothing for ``seconds`` (a source that hangs mid-download)."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "1000000")
        h.end_headers()
        h.wfile.write(b"id,title\n")
        h.wfile.flush()
        if started is not None:
            started.set()
        time.sleep(seconds)

    return handler


def stream(chunks: Callable[[], Iterator[bytes]], **headers: str) -> Handler:
    """A body produced piece by piece with no length (closed at the end): big bodies that
    are never whole in memory (gzip bombs)."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        for k, v in headers.items():
            h.send_header(k.replace("_", "-"), v)
        h.send_header("Connection", "close")
        h.end_headers()
        for part in chunks():
            h.wfile.write(part)
        h.close_connection = True

    return handler


class FeedServer:
    def __init__(self, host: str = "127.0.0.1"):
        self.routes: dict[str, Handler] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.httpd = ThreadingHTTPServer((host, 0), _RequestHandler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
