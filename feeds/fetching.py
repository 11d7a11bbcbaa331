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
import hashlib
import http.client
import ipaddress
import os
import socket
import ssl
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

from .parsing import FeedError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_BLOCKED_EXTRA: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "100.64.0.0/10",  # CGNAT
        "169.254.0.0/16",  # link-local incl. cloud metadata
        "fd00:ec2::254/128",  # AWS IPv6 metadata
        "64:ff9b::/96",  # NAT64 (embeds IPv4)
        "64:ff9b:1::/48",
        "2001:db8::/32",
    )
)


@dataclass(frozen=True)
class FetchPolicy:
    """What the fetcher may do; built by the service from settings + admin."""

    allow_networks: tuple[Network, ...] = ()
    max_bytes: int = 4 * 1024**3
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 900.0
    max_redirects: int = 5
    user_agent: str = "CatalogHealth-FeedFetcher/1.0"

    @classmethod
    def with_allow_list(cls, cidrs: Iterable[str], **kw) -> FetchPolicy:
        nets = tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())
        return cls(allow_networks=nets, **kw)


FEED_URL_SCHEMES = ("http", "https", "sftp")


def feed_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a scheduled feed URL, or None when it can.

    Credentials never go in the URL (they would be stored and shown in clear): the password
    has its own encrypted, write-only field. Only an sftp URL may name the login (``user@``),
    as a fallback for an empty Username field.
    """
    if not url or any(c.isspace() or ord(c) < 32 for c in url):
        return "Enter a valid URL without spaces."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Enter a valid URL: the host or port is malformed."
    scheme = parts.scheme.lower()
    if scheme not in FEED_URL_SCHEMES:
        return "Enter a valid URL: only http://, https:// and sftp:// feed URLs are supported."
    if not parts.hostname:
        return "Enter a valid URL: the feed URL has no host."
    if port == 0:
        return "Enter a valid URL: port 0 is not a valid port."
    if parts.password is not None:
        return (
            "Do not put a password in the URL: type it in the Password field, where it is "
            "stored encrypted and never shown again."
        )
    if scheme != "sftp" and parts.username is not None:
        return "Do not put a username in the URL: type it in the Username field."
    if scheme == "sftp":
        if parts.username is not None and not parts.username:
            return "Enter a valid URL: the user name before “@” is empty."
        if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
            return "An sftp:// URL cannot have a ?query or #fragment (encode ? as %3F)."
        if not sftp_remote_path(parts.path) or parts.path.endswith("/"):
            return (
                "An sftp:// URL needs the path of the feed file, e.g. "
                "sftp://files.example.com/exports/feed.csv."
            )
    return None


def sftp_remote_path(url_path: str) -> str:
    """The remote file of an sftp URL's path, as curl reads it: ``/a/b`` is absolute and
    ``/~/a`` is relative to the login directory."""
    path = unquote(url_path)
    if path.startswith("/~/"):
        return path[3:]
    return path if path not in ("", "/", "/~") else ""


def feed_server(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a feed URL: the server a pinned host key belongs to."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ("", "", None)
    scheme = parts.scheme.lower()
    default = {"http": 80, "https": 443, "sftp": 22}.get(scheme)
    return (scheme, (parts.hostname or "").lower(), port or default)


def url_username(url: str) -> str:
    """The login named in an sftp URL (``sftp://user@host/...``), or ""."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() != "sftp" or not parts.username:
        return ""
    return unquote(parts.username)


@dataclass
class FetchResult:
    """Outcome of a fetch: either ``not_modified`` or a temp file at ``path``."""

    url: str
    status: int
    not_modified: bool = False
    path: str = ""
    size: int = 0
    sha256: str = ""
    etag: str = ""
    last_modified: str = ""
    content_type: str = ""
    redirects: list[str] = field(default_factory=list)
    # sftp: the server's host key as OpenSSH prints it (type, "SHA256:...")
    host_key_type: str = ""
    host_key_fingerprint: str = ""
    # why the body cannot be proven complete ("" when a Content-Length was met, the chunked
    # encoding ended properly, or the protocol has its own end of file, as sftp does)
    unframed: str = ""

    def cleanup(self) -> None:
        if self.path and os.path.exists(self.path):
            os.unlink(self.path)


def _embedded_ipv4(ip: Address) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip.teredo:
            return ip.teredo[1]
        if ip in ipaddress.ip_network("64:ff9b::/96"):
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        # IPv4-compatible (deprecated) ::a.b.c.d
        if int(ip) >> 32 == 0 and int(ip) > 1:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(ip: Address, allow: Sequence[Network] = ()) -> str | None:
    """Why ``ip`` may not be fetched from, or None when it may."""
    if any(ip.version == n.version and ip in n for n in allow):
        return None
    inner = _embedded_ipv4(ip)
    if inner is not None:
        why = address_refusal(inner, allow)
        return f"it embeds {inner}, which {why}" if why else None
    if ip.is_loopback:
        return "is a loopback address"
    if ip.is_link_local:
        return "is a link-local/metadata address"
    if ip.is_multicast:
        return "is a multicast address"
    if ip.is_unspecified:
        return "is unspecified"
    if any(ip.version == n.version and ip in n for n in _BLOCKED_EXTRA):
        return "is a shared/metadata range"
    if ip.is_private:
        return "is a private address"
    if ip.is_reserved or not ip.is_global:
        return "is not a public address"
    return None


Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """All addresses of ``host`` (getaddrinfo also turns 2130706433 / 0x7f000001 into IPs)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(i[4][0] for i in infos))


def resolve_checked(
    host: str, port: int, policy: FetchPolicy, resolver: Resolver = system_resolver
) -> str:
    """Resolve ``host`` and check every address; return the one to connect to."""
    try:
        addrs = resolver(host, port)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise FeedError(
            "dns", f"The feed host “{host}” could not be found (DNS lookup failed)."
        ) from exc
    if not addrs:
        raise FeedError("dns", f"The feed host “{host}” has no address.")
    for a in addrs:
        ip = ipaddress.ip_address(a.split("%", 1)[0])
        why = address_refusal(ip, policy.allow_networks)
        if why:
            raise FeedError(
                "blocked",
                f"The feed URL points to {ip}, which {why}; feeds can only be fetched "
                "from public internet addresses.",
            )
    return addrs[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, ip: str, connect_timeout: float, **kw):
        super().__init__(host, port, timeout=connect_timeout, **kw)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


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
) -> FetchResult:
    """Download ``url`` to a temp file under the policy's rules. Raises FeedError.

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
                resp, sock, current, policy, deadline, on_progress, dest_dir, redirects, temp_prefix
            )
        finally:
            conn.close()
    raise FeedError("redirects", f"The feed URL redirected more than {policy.max_redirects} times.")


def _connection_error(host: str, exc: BaseException) -> FeedError:
    """A seller-readable FeedError for a failed connect/request."""
    if isinstance(exc, TimeoutError):
        return FeedError("timeout", f"The feed server at {host} did not answer in time.")
    if isinstance(exc, ConnectionRefusedError):
        return FeedError("unreachable", f"The feed server at {host} refused the connection.")
    if isinstance(exc, ssl.SSLError):
        return FeedError("tls", f"Secure connection to {host} failed: {exc.reason}.")
    if isinstance(exc, http.client.HTTPException):
        return FeedError("http", f"The feed server at {host} sent an invalid answer.")
    return FeedError("unreachable", f"The feed server at {host} could not be reached: {exc}.")


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


UNFRAMED_MESSAGE = (
    "The feed server sent no length for the file (no Content-Length, not chunked) and "
    "ended it by closing the connection, so the download cannot be proven complete."
)


def _download(
    resp: http.client.HTTPResponse,
    sock: socket.socket,
    url: str,
    policy: FetchPolicy,
    deadline: float,
    on_progress: Callable[[int], None] | None,
    dest_dir: str | None,
    redirects: list[str],
    temp_prefix: str = "feed-",
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
                if on_progress:
                    on_progress(size)
        if declared and declared.isdigit() and size < int(declared):
            raise FeedError("unreachable", "The download broke off before the end of the file.")
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


def _too_large_msg(policy: FetchPolicy) -> str:
    return f"The feed is larger than the size limit ({policy.max_bytes // (1024**2)} MB)."
