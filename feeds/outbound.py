"""The outbound rules every feed transfer obeys (HTTP(S) in fetching.py, sftp in sftp.py):
the policy, which URLs a source may use, the address check and the pinned resolver, and
the seller-readable errors both transports raise. Pure: no ORM, no settings.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

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


def import_url_problem(url: str) -> str | None:
    """Why import_feed cannot take ``url``: what a source's URL field refuses, and a login in
    the URL in words for the command line (the run stores its URL and shows it on the run
    page to every member)."""
    problem = feed_url_problem(url)
    if problem and "in the URL" in problem:
        return (
            "import_feed takes a URL without a username or password: the run keeps its URL "
            "and shows it on its page to every member. For a feed behind a login, add a "
            "product source to the catalog (its password is stored encrypted) and use Request "
            "Data Now, or download the file and import its path."
        )
    return problem


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


def _too_large_msg(policy: FetchPolicy) -> str:
    return f"The feed is larger than the size limit ({policy.max_bytes // (1024**2)} MB)."
