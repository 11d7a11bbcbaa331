"""The fetcher against a real local HTTP server serving hostile feeds."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from feeds.fetching import fetch
from feeds.outbound import FetchPolicy, address_refusal, resolve_checked
from feeds.parsing import FeedError
from feeds.tests.feedserver import FeedServer, body, lying_length, redirect, status, trickle

LOCAL = FetchPolicy.with_allow_list(["127.0.0.0/8"], connect_timeout=2, read_timeout=2)
STRICT = FetchPolicy(connect_timeout=2, read_timeout=2)


@pytest.fixture
def server():
    s = FeedServer()
    yield s
    s.close()


@pytest.mark.parametrize(
    ("addr", "refused"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("100.64.0.1", True),  # CGNAT
        ("100.127.255.255", True),
        ("169.254.169.254", True),  # metadata
        ("0.0.0.0", True),  # noqa: S104
        ("224.0.0.1", True),
        ("255.255.255.255", True),
        ("::1", True),
        ("::", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("fd00:ec2::254", True),
        ("::ffff:127.0.0.1", True),  # IPv4-mapped IPv6
        ("::ffff:169.254.169.254", True),
        ("::ffff:10.0.0.1", True),
        ("2002:7f00:1::", True),  # 6to4 of 127.0.0.1
        ("64:ff9b::a00:1", True),  # NAT64 of 10.0.0.1
        ("8.8.8.8", False),
        ("93.184.216.34", False),
        ("2606:4700:4700::1111", False),
        ("::ffff:8.8.8.8", False),
        ("100.63.255.255", False),
        ("100.128.0.1", False),
    ],
)
def test_address_refusal(addr, refused):
    assert (address_refusal(ipaddress.ip_address(addr)) is not None) is refused


def test_allow_list_overrides():
    nets = (ipaddress.ip_network("127.0.0.0/8"),)
    assert address_refusal(ipaddress.ip_address("127.0.0.1"), nets) is None
    assert address_refusal(ipaddress.ip_address("::ffff:127.0.0.1"), nets) is None
    assert address_refusal(ipaddress.ip_address("10.0.0.1"), nets) is not None


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "2130706433", "0x7f000001", "0177.0.0.1", "127.1"]
)
def test_numeric_and_named_loopback_forms_refused(host):
    with pytest.raises(FeedError) as exc:
        resolve_checked(host, 80, STRICT)
    assert exc.value.code == "blocked"


def test_every_resolved_address_is_checked():
    """A name that resolves to one public and one private address is refused."""
    with pytest.raises(FeedError) as exc:
        resolve_checked("feeds.example", 80, STRICT, resolver=lambda h, p: ["8.8.8.8", "10.0.0.5"])
    assert exc.value.code == "blocked"


def test_dns_failure_is_clear():
    def fail(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(FeedError) as exc:
        fetch("http://no-such-host.invalid/feed.csv", policy=STRICT, resolver=fail)
    assert exc.value.code == "dns"
    assert "could not be found" in exc.value.message


def test_loopback_server_refused_without_allow_list(server):
    server.routes["/feed.csv"] = body(b"id\n1\n")
    with pytest.raises(FeedError) as exc:
        fetch(server.url("/feed.csv"), policy=STRICT)
    assert exc.value.code == "blocked"
    assert server.requests == []  # nothing was sent


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001"])
def test_numeric_url_refused_even_when_server_listens(server, host):
    server.routes["/f"] = body(b"id\n1\n")
    with pytest.raises(FeedError):
        fetch(server.url("/f", host=host), policy=STRICT)
    assert server.requests == []


def test_pinned_connection_uses_checked_address(server):
    """The resolver is asked once per hop; the socket goes to that very address."""
    server.routes["/f"] = body(b"id\n1\n")
    calls = []

    def resolver(host, port):
        calls.append(host)
        return ["127.0.0.1"]

    res = fetch(f"http://feeds.test:{server.port}/f", policy=LOCAL, resolver=resolver)
    try:
        assert calls == ["feeds.test"]
        assert server.requests[0][1]["Host"] == f"feeds.test:{server.port}"
        with open(res.path, "rb") as fh:
            assert fh.read() == b"id\n1\n"
    finally:
        res.cleanup()


def test_ok_fetch_records_size_hash_and_validators(server):
    server.routes["/f"] = body(b"id,title\n1,a\n", ETag='"v1"', Last_Modified="Wed, 01 Jan 2025")
    seen = []
    res = fetch(server.url("/f"), policy=LOCAL, on_progress=seen.append)
    try:
        assert res.status == 200 and res.size == 13
        assert res.etag == '"v1"' and res.last_modified == "Wed, 01 Jan 2025"
        assert len(res.sha256) == 64 and seen[-1] == 13
    finally:
        res.cleanup()


def test_conditional_get_sends_validators_and_handles_304(server):
    def handler(h):
        if h.headers.get("If-None-Match") == '"v1"':
            h.send_response(304)
            h.send_header("Content-Length", "0")
            h.end_headers()
        else:
            h.send_response(500)
            h.send_header("Content-Length", "0")
            h.end_headers()

    server.routes["/f"] = handler
    res = fetch(server.url("/f"), policy=LOCAL, etag='"v1"', last_modified="Wed, 01 Jan 2025")
    assert res.not_modified and res.path == ""
    assert server.requests[0][1]["If-Modified-Since"] == "Wed, 01 Jan 2025"


@pytest.mark.parametrize(
    ("code", "expect"),
    [(401, "http_401"), (403, "http_403"), (404, "http_404"), (500, "http_500"), (503, "http_503")],
)
def test_http_errors(server, code, expect):
    server.routes["/f"] = status(code)
    with pytest.raises(FeedError) as exc:
        fetch(server.url("/f"), policy=LOCAL)
    assert exc.value.code == expect


def test_redirect_to_private_address_refused(server):
    server.routes["/f"] = redirect("http://169.254.169.254/latest/meta-data/")
    with pytest.raises(FeedError) as exc:
        fetch(server.url("/f"), policy=LOCAL)
    assert exc.value.code == "blocked"


def test_redirect_to_numeric_loopback_refused_without_allow_list():
    """Each hop is checked: a public-looking first hop cannot lead to loopback."""
    s = FeedServer()
    try:
        s.routes["/f"] = redirect("http://2130706433/secret")
        only_first = FetchPolicy.with_allow_list(
            ["127.0.0.1/32"], connect_timeout=2, read_timeout=2
        )

        # the first hop is allowed (127.0.0.1), the redirect to 2130706433 is the same IP;
        # use a resolver that maps it to a blocked address to prove the re-check
        def resolver(host, port):
            return ["127.0.0.1"] if host == "127.0.0.1" else ["10.0.0.1"]

        with pytest.raises(FeedError) as exc:
            fetch(s.url("/f"), policy=only_first, resolver=resolver)
        assert exc.value.code == "blocked"
    finally:
        s.close()


def test_redirects_are_bounded(server):
    server.routes["/loop"] = redirect("/loop")
    with pytest.raises(FeedError) as exc:
        fetch(server.url("/loop"), policy=LOCAL)
    assert exc.value.code == "redirects"
    assert len(server.requests) == LOCAL.max_redirects + 1


def test_credentials_sent_to_origin_only(server):
    other = FeedServer(host="127.0.0.2")
    try:
        other.routes["/f"] = body(b"id\n1\n")
        server.routes["/f"] = redirect(other.url("/f"))
        res = fetch(server.url("/f"), policy=LOCAL, username="u", password="secret")
        res.cleanup()
        assert server.requests[0][1]["Authorization"].startswith("Basic ")
        assert "Authorization" not in other.requests[0][1]
    finally:
        other.close()


def test_credentials_kept_on_same_origin_redirect(server):
    server.routes["/a"] = redirect("/b")
    server.routes["/b"] = body(b"id\n1\n")
    res = fetch(server.url("/a"), policy=LOCAL, username="u", password="p")
    res.cleanup()
    assert "Authorization" in server.requests[1][1]


def test_size_cap_on_received_bytes_without_length(server):
    server.routes["/big"] = lying_length(b"x" * 5000)
    policy = FetchPolicy.with_allow_list(["127.0.0.0/8"], max_bytes=1000, read_timeout=2)
    with pytest.raises(FeedError) as exc:
        fetch(server.url("/big"), policy=policy)
    assert exc.value.code == "too_large"


def test_size_cap_on_declared_length(server):
    server.routes["/big"] = body(b"x" * 5000)
    policy = FetchPolicy.with_allow_list(["127.0.0.0/8"], max_bytes=1000)
    with pytest.raises(FeedError) as exc:
        fetch(server.url("/big"), policy=policy)
    assert exc.value.code == "too_large"


def test_trickling_server_hits_total_deadline(server):
    """One byte every 0.3 s never trips the read timeout, only the total deadline."""
    server.routes["/slow"] = trickle(0.3, n=100)
    policy = FetchPolicy.with_allow_list(["127.0.0.0/8"], read_timeout=5, total_timeout=1.5)
    with pytest.raises(FeedError) as exc:
        fetch(server.url("/slow"), policy=policy)
    assert exc.value.code == "timeout"


def test_stalled_server_hits_read_timeout(server):
    server.routes["/stall"] = trickle(3, n=3)
    policy = FetchPolicy.with_allow_list(["127.0.0.0/8"], read_timeout=0.5, total_timeout=30)
    with pytest.raises(FeedError) as exc:
        fetch(server.url("/stall"), policy=policy)
    assert exc.value.code == "timeout"


def test_connection_refused_is_clear():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(FeedError) as exc:
        fetch(f"http://127.0.0.1:{port}/f", policy=LOCAL)
    assert exc.value.code == "unreachable"


@pytest.mark.parametrize("url", ["ftp://example.com/f", "file:///etc/passwd", "gopher://x/"])
def test_only_http_and_https(url):
    with pytest.raises(FeedError) as exc:
        fetch(url, policy=LOCAL)
    assert exc.value.code == "scheme"


def test_truncated_download_fails(server):
    server.routes["/short"] = lying_length(b"id\n1\n", claimed=100)
    with pytest.raises(FeedError):
        fetch(server.url("/short"), policy=LOCAL)
