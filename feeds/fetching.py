"""SSRF-safe fetching of feed URLs (HTTP(S) here, sftp in ``sftp.py``). Pure: no ORM, no
settings (the caller passes a FetchPolicy built from settings / admin).

Rules (docs: DESIGN.md "Outbound fetching"):
- only http, https and sftp (``feed_url_problem`` is the rule a source's URL must pass);
- the host is resolved once per hop and EVERY address is checked; the socket then
  connects to the checked address itself (pinned), so DNS cannot rebind between
  check and connect; numeric forms (2130706433, 0x7f000001, 127.1) resolve through
  the same resolver and are caught by the same check;
- loopback, private, CGNAT, link-local (incl. 169.254.169.254 metadata), multicast,
  reserved, unspecified and IPv4-mapped/6to4/Teredo forms of them are refused unless
  an allow-list network contains the address;
- redirects are followed by hand, at most ``max_redirects``, each one re-checked;
  credentials go only to the original scheme+host+port and never https -> http;
- connect, read (per socket operation) and total deadlines; a trickling server
  fails on the total deadline;
- a cap on the bytes actually received (not Content-Length);
- conditional GET with If-None-Match / If-Modified-Since.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import os
import socket
import ssl
import tempfile
import time
from collections.abc import Callable
from functools import partial
from urllib.parse import urljoin, urlsplit

from .outbound import (
    FetchPolicy,
    FetchResult,
    Resolver,
    _connection_error,
    _PinnedHTTPConnection,
    _too_large_msg,
    feed_server,
    resolve_checked,
    system_resolver,
)
from .parsing import FeedError


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, ip: str, connect_timeout: float, **kw):
        super().__init__(host, port, timeout=connect_timeout, **kw)
        self._ip = ip

    def connect(self) -> None:
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        # certificate checked against the host name, not the pinned IP
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


HTTP_MESSAGES = {
    401: "The feed server refused the username/password (HTTP 401). Check the credentials.",
    403: "The feed server refused access (HTTP 403). Check the credentials or the URL.",
    404: "The feed was not found at this URL (HTTP 404).",
    410: "The feed is gone from this URL (HTTP 410).",
}

BROKE_OFF = "The download broke off before the end of the file."


def fetch(
    url: str,
    *,
    policy: FetchPolicy,
    username: str = "",
    password: str = "",
    etag: str = "",
    last_modified: str = "",
    resolver: Resolver = system_resolver,
    on_progress: Callable[[int], None] | None = None,
    dest_dir: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    host_key_type: str = "",
    host_key_fingerprint: str = "",
    temp_prefix: str = "feed-",
    on_body: Callable[[str, Callable[[], None]], None] | None = None,
) -> FetchResult:
    """Download ``url`` to a temp file under the policy's rules. Raises FeedError.

    ``on_body(path, stop)`` is called when an HTTP(S) body starts to arrive: the caller may
    read the temp file as it grows, and ``stop()`` ends the download from another thread
    (feeds.ingest.download).

    For sftp, ``last_modified`` is the stat validator of the last good pull and
    ``host_key_*`` the pinned server key ("" = trust and report the key on first use).
    """
    if urlsplit(url).scheme.lower() == "sftp":
        # imported here: asyncssh loads only for sftp sources, and sftp.py imports this module
        from .sftp import sftp_fetch

        return sftp_fetch(
            url,
            policy=policy,
            username=username,
            password=password,
            last_modified=last_modified,
            host_key_type=host_key_type,
            host_key_fingerprint=host_key_fingerprint,
            resolver=resolver,
            on_progress=on_progress,
            dest_dir=dest_dir,
            temp_prefix=temp_prefix,
        )
    start = time.monotonic()
    deadline = start + policy.total_timeout
    original = feed_server(url)
    redirects: list[str] = []
    current = url
    for _hop in range(policy.max_redirects + 1):
        parts = urlsplit(current)
        # a redirect never leaves HTTP(S): sftp only when the user typed it
        if parts.scheme not in ("http", "https"):
            raise FeedError(
                "scheme",
                f"The feed server redirected to a “{parts.scheme}:” URL; only http and https "
                "redirects are followed."
                if redirects
                else f"Only http, https and sftp feed URLs are supported, not “{parts.scheme}:”.",
            )
        host = parts.hostname
        if not host:
            raise FeedError("url", "The feed URL has no host.")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise FeedError("url", "The feed URL has an invalid port.") from exc
        ip = resolve_checked(host, port, policy, resolver)
        headers = {
            "User-Agent": policy.user_agent,
            "Accept": "*/*",
            "Accept-Encoding": "identity",
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        # credentials only to the origin the user typed, never downgraded to http
        if (username or password) and feed_server(current) == original:
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        connect_timeout = min(policy.connect_timeout, max(deadline - time.monotonic(), 0.1))
        if parts.scheme == "https":
            conn: http.client.HTTPConnection = _PinnedHTTPSConnection(
                host, port, ip, connect_timeout, context=ssl_context or ssl.create_default_context()
            )
        else:
            conn = _PinnedHTTPConnection(host, port, ip, connect_timeout)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            try:
                conn.connect()
                # keep our own handle: http.client drops conn.sock on "Connection: close"
                sock = conn.sock
                sock.settimeout(_op_timeout(policy, deadline))
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                raise _connection_error(host, exc) from exc
            if resp.status in (301, 302, 303, 307, 308):
                loc = resp.getheader("Location")
                if not loc:
                    raise FeedError("http", "The feed server redirected without a location.")
                nxt = urljoin(current, loc)
                if urlsplit(current).scheme == "https" and urlsplit(nxt).scheme == "http":
                    # downgrade: allowed to follow, but credentials are dropped (origin differs)
                    pass
                redirects.append(nxt)
                current = nxt
                continue
            if resp.status == 304:
                return FetchResult(
                    url=current,
                    status=304,
                    not_modified=True,
                    etag=etag,
                    last_modified=last_modified,
                    redirects=redirects,
                )
            if resp.status >= 400:
                msg = HTTP_MESSAGES.get(resp.status)
                if msg is None:
                    msg = (
                        f"The feed server had an error (HTTP {resp.status}); try again later."
                        if resp.status >= 500
                        else f"The feed server answered HTTP {resp.status}."
                    )
                raise FeedError(f"http_{resp.status}", msg)
            if resp.status != 200:
                raise FeedError("http", f"The feed server answered HTTP {resp.status}.")
            return _download(
                resp,
                sock,
                url=current,
                policy=policy,
                deadline=deadline,
                on_progress=on_progress,
                dest_dir=dest_dir,
                redirects=redirects,
                temp_prefix=temp_prefix,
                on_body=on_body,
            )
        finally:
            conn.close()
    raise FeedError("redirects", f"The feed URL redirected more than {policy.max_redirects} times.")


def _total_timeout_error(policy: FetchPolicy) -> FeedError:
    return FeedError(
        "timeout",
        f"Downloading the feed took longer than the time limit ({policy.total_timeout:.0f} s "
        "in all): the server sends too slowly.",
    )


def _op_timeout(policy: FetchPolicy, deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _total_timeout_error(policy)
    return min(policy.read_timeout, left)


def _shut_down(sock: socket.socket) -> None:
    """End a download from another thread: a read waiting on the socket returns at once."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


UNFRAMED_MESSAGE = (
    "The feed server sent no length for the file (no Content-Length, not chunked) and "
    "ended it by closing the connection, so the download cannot be proven complete."
)


def _download(
    resp: http.client.HTTPResponse,
    sock: socket.socket,
    *,
    url: str,
    policy: FetchPolicy,
    deadline: float,
    on_progress: Callable[[int], None] | None,
    dest_dir: str | None,
    redirects: list[str],
    temp_prefix: str = "feed-",
    on_body: Callable[[str, Callable[[], None]], None] | None = None,
) -> FetchResult:
    declared = resp.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > policy.max_bytes:
        raise FeedError("too_large", _too_large_msg(policy))
    # http.client knows how the body is delimited: a length it counts down, chunks ending in
    # a last-chunk (an early end raises IncompleteRead), or neither (the close ends it)
    framed = resp.chunked or resp.length is not None
    fd, path = tempfile.mkstemp(prefix=temp_prefix, suffix=".bin", dir=dest_dir)
    sha = hashlib.sha256()
    size = 0
    ok = False
    try:
        if on_body:  # with a way to stop the download from another thread
            on_body(path, partial(_shut_down, sock))
        with os.fdopen(fd, "wb") as out:
            while True:
                sock.settimeout(_op_timeout(policy, deadline))
                try:
                    chunk = resp.read1(1024 * 1024)
                except TimeoutError as exc:
                    if time.monotonic() >= deadline - 0.05:  # the total deadline bound it
                        raise _total_timeout_error(policy) from exc
                    raise FeedError(
                        "timeout", "The feed server stopped sending data (read timeout)."
                    ) from exc
                except http.client.IncompleteRead as exc:  # a chunked body cut short
                    raise FeedError("unreachable", BROKE_OFF) from exc
                except (OSError, http.client.HTTPException) as exc:
                    raise FeedError("unreachable", f"The download broke off: {exc}.") from exc
                if not chunk:
                    break
                size += len(chunk)
                if size > policy.max_bytes:
                    raise FeedError("too_large", _too_large_msg(policy))
                if time.monotonic() > deadline:
                    raise _total_timeout_error(policy)
                sha.update(chunk)
                out.write(chunk)
                out.flush()  # a reader following the file sees the chunk now
                if on_progress:
                    on_progress(size)
        if declared and declared.isdigit() and size < int(declared):
            raise FeedError("unreachable", BROKE_OFF)
        ok = True
        return FetchResult(
            url=url,
            status=200,
            path=path,
            size=size,
            sha256=sha.hexdigest(),
            etag=resp.getheader("ETag") or "",
            last_modified=resp.getheader("Last-Modified") or "",
            content_type=resp.getheader("Content-Type") or "",
            redirects=redirects,
            unframed="" if framed else UNFRAMED_MESSAGE,
        )
    finally:
        if not ok and os.path.exists(path):
            os.unlink(path)
