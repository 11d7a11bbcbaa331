"""Run safety at the fetch level: whether a body can be proven complete, and which deadline
ended a download (against a real local HTTP server)."""

from __future__ import annotations

import pytest

from feeds.fetching import fetch
from feeds.outbound import FetchPolicy
from feeds.parsing import FeedError
from feeds.tests.feedserver import FeedServer, body, chunked, silent, trickle, unframed

LOCAL = FetchPolicy.with_allow_list(["127.0.0.0/8"], connect_timeout=2, read_timeout=5)
DATA = b"id,title\n" + b"".join(b"SKU-%05d,Shoe %d\n" % (i, i) for i in range(2000))


@pytest.fixture
def server():
    s = FeedServer()
    yield s
    s.close()


def test_a_body_ended_by_the_close_is_unframed(server):
    server.routes["/f"] = unframed(DATA, cut_at=len(DATA) * 62 // 100)
    result = fetch(server.url("/f"), policy=LOCAL)
    try:
        assert result.size == len(DATA) * 62 // 100
        assert "cannot be proven complete" in result.unframed
    finally:
        result.cleanup()


@pytest.mark.parametrize("handler", [body(DATA), chunked(DATA)])
def test_a_length_or_chunked_body_is_framed(server, handler):
    server.routes["/f"] = handler
    result = fetch(server.url("/f"), policy=LOCAL)
    try:
        assert result.size == len(DATA) and result.unframed == ""
    finally:
        result.cleanup()


def test_a_chunked_body_cut_off_fails(server):
    server.routes["/f"] = chunked(DATA, complete=False)
    with pytest.raises(FeedError) as exc:
        fetch(server.url("/f"), policy=LOCAL)
    assert exc.value.code == "unreachable"


def test_a_trickle_ended_by_the_total_deadline_says_so(server):
    """One byte every 0.3 s never trips the 5 s read timeout: the total deadline ends it,
    and the message names that, not a read timeout."""
    server.routes["/slow"] = trickle(0.3, n=100)
    policy = FetchPolicy.with_allow_list(["127.0.0.0/8"], read_timeout=5, total_timeout=1.5)
    with pytest.raises(FeedError) as exc:
        fetch(server.url("/slow"), policy=policy)
    assert exc.value.code == "timeout"
    assert "time limit" in exc.value.message and "read timeout" not in exc.value.message


def test_a_silent_server_within_the_total_deadline_says_so(server):
    server.routes["/silent"] = silent(4)
    policy = FetchPolicy.with_allow_list(["127.0.0.0/8"], read_timeout=3, total_timeout=1)
    with pytest.raises(FeedError) as exc:
        fetch(server.url("/silent"), policy=policy)
    assert "time limit" in exc.value.message and "read timeout" not in exc.value.message


def test_a_silent_server_within_the_read_timeout_says_so(server):
    server.routes["/silent"] = silent(4)
    policy = FetchPolicy.with_allow_list(["127.0.0.0/8"], read_timeout=0.5, total_timeout=30)
    with pytest.raises(FeedError) as exc:
        fetch(server.url("/silent"), policy=policy)
    assert "read timeout" in exc.value.message


def test_an_sftp_file_shorter_than_its_stat_is_unframed(tmp_path):
    from feeds.tests.test_sftp import PASSWORD, USER, SftpServer

    root = tmp_path / "root"
    root.mkdir()
    server = SftpServer(root)
    try:
        server.put("feed.csv", DATA)
        policy = FetchPolicy.with_allow_list(["127.0.0.0/8"], read_timeout=5)
        whole = fetch(server.url("feed.csv"), policy=policy, username=USER, password=PASSWORD)
        assert whole.unframed == ""
        whole.cleanup()
        server.advertised_size = len(DATA) + 1000  # the file shrank after its stat
        cut = fetch(server.url("feed.csv"), policy=policy, username=USER, password=PASSWORD)
        assert "cannot be proven complete" in cut.unframed
        cut.cleanup()
    finally:
        server.close()
