"""sftp product sources against a real asyncssh SFTP server run in-process (its own thread and
event loop, 127.0.0.1, password login, chrooted to a tmp dir, a generated host key).
Loopback is reached through the policy's allow-list, as in the HTTP fetch tests."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import threading
import time
from pathlib import Path

import asyncssh
import pytest
from django.core.exceptions import ValidationError

from catalog_health.tenancy.models import AuditEvent
from catalog_health.tenancy.roles import Role
from catalogs.models import Product
from catalogs.tests.factories import ProductFactory
from feeds import services, sftp
from feeds.fetching import fetch
from feeds.models import FeedSettings, ProductSource, RunStatus, Schedule
from feeds.outbound import FetchPolicy, feed_url_problem
from feeds.parsing import FeedError
from feeds.sftp import parse_sftp_url, stat_validator
from feeds.tests.feedserver import FeedServer, redirect

LOCAL = FetchPolicy.with_allow_list(["127.0.0.0/8"], connect_timeout=2, read_timeout=2)
STRICT = FetchPolicy(connect_timeout=2, read_timeout=2)
USER, PASSWORD = "shop", "s3cret"
HEADER = "id,title,description,link,image_link,price,availability,brand\n"


def feed(n: int, price: str = "10.00 USD") -> bytes:
    rows = [
        f"S{i:05d},Product {i},Desc,https://s.example/{i},https://s.example/{i}.jpg,{price},"
        "in stock,B"
        for i in range(n)
    ]
    return (HEADER + "\n".join(rows) + "\n").encode()


class SftpServer:
    """A real SFTP server on 127.0.0.1:<ephemeral>, chrooted to ``root``; it counts what
    clients did (connections, logins with the password they sent, reads) and can misbehave
    (stall or trickle reads, advertise a wrong size)."""

    def __init__(self, root: Path, host_keys: list[asyncssh.SSHKey] | None = None):
        self.root = root
        self.host_keys = host_keys or [asyncssh.generate_private_key("ssh-ed25519")]
        self.host_key = self.host_keys[0]
        self.users = {USER: PASSWORD}
        self.connections = 0
        self.logins: list[tuple[str, str]] = []
        self.reads = 0
        self.stall_reads = False
        self.trickle = False
        self.advertised_size: int | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._acceptor = self._call(self._listen())
        self.port = self._acceptor.sockets[0].getsockname()[1]

    @property
    def fingerprint(self) -> str:
        return self.host_key.get_fingerprint("sha256")

    def url(self, path: str, user: str = "") -> str:
        return f"sftp://{user + '@' if user else ''}127.0.0.1:{self.port}/{path}"

    def put(self, name: str, data: bytes, mtime: int | None = None) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _listen(self):
        owner = self

        class Logins(asyncssh.SSHServer):
            def connection_made(self, conn):
                owner.connections += 1

            def begin_auth(self, username):
                return True

            def password_auth_supported(self):
                return True

            def validate_password(self, username, password):
                owner.logins.append((username, password))
                return owner.users.get(username) == password

        class Files(asyncssh.SFTPServer):
            def __init__(self, chan):
                super().__init__(chan, chroot=str(owner.root).encode())

            def stat(self, path):
                attrs = asyncssh.SFTPAttrs.from_local(super().stat(path))
                if owner.advertised_size is not None:
                    attrs.size = owner.advertised_size
                return attrs

            async def read(self, file_obj, offset, size):
                owner.reads += 1
                if owner.stall_reads:
                    await asyncio.sleep(30)
                if owner.trickle:  # one byte now and then: never a read timeout
                    await asyncio.sleep(0.1)
                    size = 1
                return super().read(file_obj, offset, size)

        return await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=self.host_keys,
            server_factory=Logins,
            sftp_factory=Files,
            allow_scp=False,
        )

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._shutdown())  # on the server's own loop: asyncio is not thread-safe
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _shutdown(self) -> None:
        self._acceptor.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "sftp-root"
    root.mkdir()
    s = SftpServer(root)
    yield s
    s.close()


def get(url: str, policy: FetchPolicy = LOCAL, **kw):
    kw.setdefault("username", USER)
    kw.setdefault("password", PASSWORD)
    return fetch(url, policy=policy, **kw)


def code_of(url: str, policy: FetchPolicy = LOCAL, **kw) -> str:
    with pytest.raises(FeedError) as exc:
        get(url, policy, **kw)
    return exc.value.code


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# =========================================================================== the URL rule


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("sftp://files.example.com/exports/feed.csv", None),
        ("sftp://shop@files.example.com:2222/feed.csv", None),
        ("sftp://files.example.com/~/feed.csv", None),
        ("sftp://[2001:db8::1]/feed.csv", None),
        ("SFTP://files.example.com/feed.csv", None),
        ("https://shop.example.com/feed.csv", None),
        ("http://shop.example.com/feed.csv?key=1", None),
        ("sftp://shop:hunter2@files.example.com/feed.csv", "password in the URL"),
        ("sftp://:hunter2@files.example.com/feed.csv", "password in the URL"),
        ("https://shop:hunter2@shop.example.com/feed.csv", "password in the URL"),
        ("http://shop@shop.example.com/feed.csv", "username in the URL"),
        ("sftp://@files.example.com/feed.csv", "user name before"),
        ("sftp://files.example.com", "path of the feed file"),
        ("sftp://files.example.com/", "path of the feed file"),
        ("sftp://files.example.com/exports/", "path of the feed file"),
        ("sftp://files.example.com/~/", "path of the feed file"),
        ("sftp://files.example.com/feed.csv?x=1", "?query"),
        ("sftp://files.example.com/feed.csv#top", "?query"),
        ("sftp:///feed.csv", "no host"),
        ("sftp://files.example.com:99999/feed.csv", "malformed"),
        ("sftp://files.example.com:0/feed.csv", "port 0"),
        ("sftp://files.example.com/feed 2.csv", "without spaces"),
        ("ftp://files.example.com/feed.csv", "only http://, https:// and sftp://"),
        ("scp://files.example.com/feed.csv", "only http://, https:// and sftp://"),
        ("file:///etc/passwd", "only http://, https:// and sftp://"),
        ("files.example.com/feed.csv", "only http://, https:// and sftp://"),
        ("", "Enter a valid URL"),
    ],
)
def test_feed_url_rule(url, problem):
    found = feed_url_problem(url)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


@pytest.mark.parametrize(
    ("url", "host", "port", "path", "user"),
    [
        ("sftp://h.example/a/feed.csv", "h.example", 22, "/a/feed.csv", ""),
        ("sftp://me@h.example:2222/~/feed.csv", "h.example", 2222, "feed.csv", "me"),
        ("sftp://me%40corp@h.example/f%20x.csv", "h.example", 22, "/f x.csv", "me@corp"),
    ],
)
def test_sftp_url_parts(url, host, port, path, user):
    t = parse_sftp_url(url)
    assert (t.host, t.port, t.path, t.username) == (host, port, path, user)


# =========================================================================== hostile fetches


def test_wrong_password_is_an_auth_failure(server):
    server.put("feed.csv", feed(2))
    with pytest.raises(FeedError) as exc:
        get(server.url("feed.csv"), password="wrong")
    assert exc.value.code == "http_401"
    assert "username/password" in exc.value.message
    assert server.logins == [(USER, "wrong")] and server.reads == 0


def test_unknown_user_is_an_auth_failure(server):
    server.put("feed.csv", feed(2))
    assert code_of(server.url("feed.csv"), username="nobody") == "http_401"


def test_no_password_is_an_auth_failure(server):
    server.put("feed.csv", feed(2))
    assert code_of(server.url("feed.csv"), password="") == "http_401"
    assert server.logins == []


def test_unresolvable_host():
    with pytest.raises(FeedError) as exc:
        get("sftp://no-such-feed-host.invalid/feed.csv")
    assert exc.value.code == "dns" and "could not be found" in exc.value.message


def test_closed_port_is_unreachable():
    assert code_of(f"sftp://127.0.0.1:{free_port()}/feed.csv") == "unreachable"


def test_loopback_refused_without_allow_list(server):
    server.put("feed.csv", feed(2))
    with pytest.raises(FeedError) as exc:
        get(server.url("feed.csv"), policy=STRICT)
    assert exc.value.code == "blocked" and "public internet addresses" in exc.value.message
    assert server.connections == 0


@pytest.mark.parametrize(
    "host", ["localhost", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]"]
)
def test_numeric_and_named_loopback_forms_refused(server, host):
    server.put("feed.csv", feed(2))
    assert code_of(f"sftp://{host}:{server.port}/feed.csv", policy=STRICT) == "blocked"
    assert server.connections == 0


@pytest.mark.parametrize(
    "answer", [["10.0.0.5"], ["8.8.8.8", "192.168.1.10"], ["169.254.169.254"], ["100.64.0.1"]]
)
def test_every_resolved_address_is_checked(answer):
    assert (
        code_of("sftp://files.example/feed.csv", policy=STRICT, resolver=lambda h, p: answer)
        == "blocked"
    )


def test_connection_is_pinned_to_the_checked_address(server):
    """The name resolves (once) to the allowed 127.0.0.1; nothing else is looked up."""
    server.put("feed.csv", feed(2))
    lookups = []

    def resolver(host, port):
        lookups.append((host, port))
        return ["127.0.0.1"]

    result = get(f"sftp://files.shop.example:{server.port}/feed.csv", resolver=resolver)
    assert lookups == [("files.shop.example", server.port)]
    assert result.size == len(feed(2))
    result.cleanup()


def test_http_redirect_to_sftp_is_not_followed(server):
    server.put("feed.csv", feed(2))
    http = FeedServer()
    try:
        http.routes["/feed.csv"] = redirect(server.url("feed.csv"))
        with pytest.raises(FeedError) as exc:
            fetch(http.url("/feed.csv"), policy=LOCAL, username=USER, password=PASSWORD)
        assert exc.value.code == "scheme"
        assert server.connections == 0
    finally:
        http.close()


def test_missing_file(server):
    with pytest.raises(FeedError) as exc:
        get(server.url("exports/nothing.csv"))
    assert exc.value.code == "http_404" and "/exports/nothing.csv" in exc.value.message


def test_folder_is_not_a_feed(server):
    server.put("exports/feed.csv", feed(1))
    assert code_of(server.url("~/exports")) == "http_404"


def test_chroot_holds(server, tmp_path):
    (tmp_path / "outside.csv").write_bytes(feed(1))
    assert code_of(server.url("../outside.csv")) == "http_404"


def test_advertised_size_over_the_cap_fails_before_download(server):
    server.put("feed.csv", feed(50))
    policy = FetchPolicy.with_allow_list(["127.0.0.0/8"], max_bytes=1000, read_timeout=2)
    progress = []
    with pytest.raises(FeedError) as exc:
        get(server.url("feed.csv"), policy, on_progress=progress.append, dest_dir=None)
    assert exc.value.code == "too_large"
    assert server.reads == 0 and progress == []


def test_received_bytes_over_the_cap_fail_whatever_the_size_said(server, tmp_path):
    server.put("feed.csv", feed(50))
    server.advertised_size = 10
    dest = tmp_path / "dest"
    dest.mkdir()
    policy = FetchPolicy.with_allow_list(["127.0.0.0/8"], max_bytes=1000, read_timeout=2)
    with pytest.raises(FeedError) as exc:
        get(server.url("feed.csv"), policy, dest_dir=str(dest))
    assert exc.value.code == "too_large"
    assert server.reads >= 1
    assert list(dest.iterdir()) == []  # the partial temp file is gone


def test_stalled_read_hits_the_read_timeout(server):
    server.put("feed.csv", feed(5))
    server.stall_reads = True
    policy = FetchPolicy.with_allow_list(["127.0.0.0/8"], read_timeout=0.5, total_timeout=30)
    start = time.monotonic()
    with pytest.raises(FeedError) as exc:
        get(server.url("feed.csv"), policy)
    assert exc.value.code == "timeout" and "stopped sending" in exc.value.message
    assert time.monotonic() - start < 5


def test_trickling_server_hits_the_total_deadline(server):
    server.put("feed.csv", feed(5))
    server.trickle = True
    policy = FetchPolicy.with_allow_list(["127.0.0.0/8"], read_timeout=10, total_timeout=1.5)
    start = time.monotonic()
    with pytest.raises(FeedError) as exc:
        get(server.url("feed.csv"), policy)
    assert exc.value.code == "timeout" and "time limit" in exc.value.message
    assert server.reads > 3  # it did trickle; no single read was slow
    assert time.monotonic() - start < 5


def test_server_that_never_speaks_ssh_hits_the_connect_timeout():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        policy = FetchPolicy.with_allow_list(["127.0.0.0/8"], connect_timeout=0.5)
        start = time.monotonic()
        url = f"sftp://127.0.0.1:{silent.getsockname()[1]}/feed.csv"
        with pytest.raises(FeedError) as exc:
            get(url, policy)
        assert exc.value.code == "timeout" and "did not answer" in exc.value.message
        assert time.monotonic() - start < 3
    finally:
        silent.close()


def test_changed_host_key_is_refused_before_the_password_is_sent(server):
    server.put("feed.csv", feed(2))
    other = asyncssh.generate_private_key("ssh-ed25519").get_fingerprint("sha256")
    with pytest.raises(FeedError) as exc:
        get(server.url("feed.csv"), host_key_type="ssh-ed25519", host_key_fingerprint=other)
    assert exc.value.code == "host_key"
    assert server.fingerprint in exc.value.message and other in exc.value.message
    assert "clear the stored host key" in exc.value.message
    assert server.logins == [] and server.reads == 0


def test_server_that_lost_the_pinned_key_type_is_refused(server):
    """The source trusts an RSA key; the server now only has an Ed25519 one."""
    server.put("feed.csv", feed(2))
    rsa = asyncssh.generate_private_key("ssh-rsa").get_fingerprint("sha256")
    with pytest.raises(FeedError) as exc:
        get(server.url("feed.csv"), host_key_type="ssh-rsa", host_key_fingerprint=rsa)
    assert exc.value.code == "host_key" and server.fingerprint in exc.value.message
    assert server.logins == []


def test_pinned_key_type_is_preferred_when_the_server_has_several(tmp_path):
    """A server with an RSA and an Ed25519 key keeps showing the pinned RSA one."""
    rsa = asyncssh.generate_private_key("ssh-rsa")
    ed = asyncssh.generate_private_key("ssh-ed25519")
    root = tmp_path / "root"
    root.mkdir()
    s = SftpServer(root, host_keys=[ed, rsa])
    try:
        s.put("feed.csv", feed(2))
        first = get(s.url("feed.csv"))
        assert first.host_key_fingerprint == ed.get_fingerprint("sha256")  # first use: Ed25519
        first.cleanup()
        pinned = get(
            s.url("feed.csv"),
            host_key_type="ssh-rsa",
            host_key_fingerprint=rsa.get_fingerprint("sha256"),
        )
        assert pinned.host_key_fingerprint == rsa.get_fingerprint("sha256")
        pinned.cleanup()
    finally:
        s.close()


# =========================================================================== good fetches


def test_download_reports_size_hash_validator_and_host_key(server, tmp_path):
    data = feed(200)
    server.put("exports/feed.csv", data, mtime=1_700_000_000)
    progress = []
    result = get(
        server.url("exports/feed.csv"), on_progress=progress.append, dest_dir=str(tmp_path)
    )
    try:
        assert Path(result.path).read_bytes() == data
        assert Path(result.path).parent == tmp_path
        assert result.size == len(data) and progress[-1] == len(data)
        assert result.sha256 == hashlib.sha256(data).hexdigest()
        assert result.last_modified == f"sftp mtime=1700000000 size={len(data)}"
        assert (result.host_key_type, result.host_key_fingerprint) == (
            "ssh-ed25519",
            server.fingerprint,
        )
        assert server.logins == [(USER, PASSWORD)]
    finally:
        result.cleanup()


def test_pinned_key_that_matches_is_accepted(server):
    server.put("feed.csv", feed(2))
    result = get(
        server.url("feed.csv"), host_key_type="ssh-ed25519", host_key_fingerprint=server.fingerprint
    )
    assert result.size == len(feed(2))
    result.cleanup()


def test_home_relative_path_and_url_login(server):
    server.put("feed.csv", feed(3))
    result = get(server.url("~/feed.csv", user=USER), username="")
    assert result.size == len(feed(3))
    result.cleanup()
    assert server.logins == [(USER, PASSWORD)]


def test_username_field_wins_over_the_url_login(server):
    server.put("feed.csv", feed(3))
    get(server.url("feed.csv", user="someone-else")).cleanup()
    assert server.logins == [(USER, PASSWORD)]


NOW = 1_700_000_000.5


@pytest.mark.parametrize(
    ("size", "mtime", "expected"),
    [
        (10, 1_699_999_000, "sftp mtime=1699999000 size=10"),
        (10, 1_699_999_997, "sftp mtime=1699999997 size=10"),  # 3.5 s old: settled
        (10, 1_699_999_999, ""),  # 1.5 s old: may be rewritten within the same second
        (10, 1_700_000_000, ""),  # this second
        (10, 1_700_000_060, ""),  # ahead of this clock: not trusted either
        (None, 1_699_999_000, ""),  # the server did not say
        (10, None, ""),
        (0, 1_699_999_000, "sftp mtime=1699999000 size=0"),
    ],
)
def test_stat_validator(size, mtime, expected):
    assert stat_validator(size, mtime, now=NOW) == expected


def test_a_file_modified_just_now_gets_no_validator(server, monkeypatch):
    monkeypatch.setattr(sftp, "RACY_SECONDS", 60)  # "just now" even on a slow machine
    data = feed(3)
    server.put("feed.csv", data)  # mtime: now
    result = get(server.url("feed.csv"))
    assert result.last_modified == "" and result.size == len(data)
    result.cleanup()


def test_unchanged_size_and_mtime_end_without_download(server):
    data = feed(3)
    server.put("feed.csv", data, mtime=1_700_000_000)
    last = stat_validator(len(data), 1_700_000_000, now=time.time())
    result = get(server.url("feed.csv"), last_modified=last)
    assert result.not_modified and result.path == "" and server.reads == 0
    server.put("feed.csv", data, mtime=1_700_000_060)  # touched: same size, new mtime
    result = get(server.url("feed.csv"), last_modified=last)
    assert not result.not_modified and server.reads >= 1
    result.cleanup()


# =========================================================================== through the pipeline


@pytest.fixture
def fs(db, settings):
    settings.FEEDS_FETCH_ALLOW_LIST = ["127.0.0.0/8"]
    s = FeedSettings.load()
    s.manual_refresh_min_seconds = 0
    s.connect_timeout_seconds = 2
    s.read_timeout_seconds = 2
    s.save()
    return s


def make_source(tenant, catalog, owner, url: str, **data) -> ProductSource:
    return services.source_create(
        tenant=tenant,
        catalog=catalog,
        actor=owner,
        data={"name": "SFTP", "url": url, "username": USER, "schedule": Schedule.MANUAL, **data},
        password=PASSWORD,
    )


def pull(tenant, source, owner=None, **kw):
    run, created = services.feed_run_request(tenant=tenant, source=source, actor=owner, **kw)
    assert created
    return services.feed_run_execute(tenant_id=tenant.pk, run_id=run.pk)


def active_skus(catalog) -> list[str]:
    qs = Product.objects.for_tenant(catalog.tenant_id).filter(catalog=catalog)
    return sorted(qs.filter(removed_at__isnull=True).values_list("sku", flat=True))


@pytest.mark.django_db
def test_sftp_source_end_to_end(server, tenant_a, catalog, fs, owner):
    data = feed(4)
    server.put("exports/feed.csv", data, mtime=1_700_000_000)
    source = make_source(tenant_a, catalog, owner, server.url("exports/feed.csv"))

    run = pull(tenant_a, source, owner)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.created == 4 and active_skus(catalog) == [f"S{i:05d}" for i in range(4)]
    assert run.bytes_downloaded == len(data)
    source.refresh_from_db()
    assert source.host_key_type == "ssh-ed25519"
    assert source.host_key_fingerprint == server.fingerprint
    assert source.last_modified == f"sftp mtime=1700000000 size={len(data)}"
    assert AuditEvent.objects.filter(action="feed_source.host_key_pinned").count() == 1

    # same size and mtime: unchanged by stat, nothing downloaded
    reads = server.reads
    again = pull(tenant_a, source, owner)
    assert again.status == RunStatus.UNCHANGED and server.reads == reads

    # forced: downloaded although unchanged
    forced = pull(tenant_a, source, owner, force=True)
    assert forced.status == RunStatus.SUCCEEDED and server.reads > reads

    # a new file: pulled and applied
    server.put("exports/feed.csv", feed(6, price="12.00 USD"), mtime=1_700_000_100)
    changed = pull(tenant_a, source, owner)
    assert changed.status == RunStatus.SUCCEEDED, changed.error_message
    assert (changed.created, changed.updated) == (2, 4)


@pytest.mark.django_db
def test_an_unchanged_stat_is_not_trusted_after_the_reading_rules_changed(
    server, tenant_a, catalog, fs, owner
):
    """A source whose last good pull was read by other rules (here: unknown, as for a source
    last pulled before sources remembered them) downloads and reads its unchanged file once."""
    server.put("exports/feed.csv", feed(3), mtime=1_700_000_000)
    source = make_source(tenant_a, catalog, owner, server.url("exports/feed.csv"))
    assert pull(tenant_a, source, owner).status == RunStatus.SUCCEEDED
    ProductSource.objects.filter(pk=source.pk).update(last_rules_version="")

    reads = server.reads
    reread = pull(tenant_a, source, owner)
    assert reread.status == RunStatus.SUCCEEDED and server.reads > reads
    assert reread.unchanged == 3  # read: nothing differs under the same rules

    reads = server.reads
    again = pull(tenant_a, source, owner)
    assert again.status == RunStatus.UNCHANGED and server.reads == reads


@pytest.mark.django_db
def test_a_same_size_rewrite_within_the_same_second_is_not_missed(
    server, tenant_a, catalog, fs, owner, monkeypatch
):
    """The shop's export wrote the file in the second the pull read it, then rewrote it with
    the same size in that same second: size and mtime are those the pull saw, the content is
    not. The pull stored no validator for so fresh a file, so the next one downloads it."""
    monkeypatch.setattr(sftp, "RACY_SECONDS", 60)  # "just now" even on a slow machine
    first = int(time.time())
    path = server.put("feed.csv", feed(2, price="10.00 USD"), mtime=first)
    source = make_source(tenant_a, catalog, owner, server.url("feed.csv"))
    assert pull(tenant_a, source, owner).status == RunStatus.SUCCEEDED
    source.refresh_from_db()
    assert source.last_modified == ""

    rewritten = feed(2, price="11.00 USD")
    assert len(rewritten) == path.stat().st_size
    server.put("feed.csv", rewritten, mtime=first)
    run = pull(tenant_a, source, owner)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.updated == 2
    prices = Product.objects.for_tenant(tenant_a).filter(catalog=catalog)
    assert {str(p) for p in prices.values_list("price", flat=True)} == {"11.00"}

    # the same bytes once more: downloaded (still no validator), found identical by hash
    reads = server.reads
    again = pull(tenant_a, source, owner)
    assert again.status == RunStatus.UNCHANGED and server.reads > reads


@pytest.mark.django_db
def test_changed_host_key_fails_the_run_until_a_user_clears_it(
    server, tenant_a, catalog, fs, owner, tmp_path
):
    server.put("feed.csv", feed(2))
    source = make_source(tenant_a, catalog, owner, server.url("feed.csv"))
    assert pull(tenant_a, source, owner).status == RunStatus.SUCCEEDED
    ProductFactory(catalog=catalog, tenant=tenant_a, sku="KEEP")

    # the server is replaced (new key) at the same address
    server.close()
    impostor = SftpServer(server.root)
    try:
        source.refresh_from_db()
        source.url = impostor.url("feed.csv")  # same host; only the test's ephemeral port moved
        ProductSource.objects.filter(pk=source.pk).update(url=source.url)
        impostor.put("feed.csv", feed(2, price="11.00 USD"), mtime=1_700_000_500)
        run = pull(tenant_a, source, owner)
        assert run.status == RunStatus.FAILED and run.error_code == "host_key"
        assert "clear the stored host key" in run.error_message
        assert impostor.logins == []  # the password never reached it
        assert "KEEP" in active_skus(catalog)
        source.refresh_from_db()
        assert source.host_key_fingerprint == server.fingerprint  # still the trusted one

        services.source_update(
            tenant=tenant_a, source=source, actor=owner, data={"forget_host_key": True}
        )
        source.refresh_from_db()
        assert source.host_key_fingerprint == "" and source.host_key_type == ""
        run = pull(tenant_a, source, owner)
        assert run.status == RunStatus.SUCCEEDED, run.error_message
        source.refresh_from_db()
        assert source.host_key_fingerprint == impostor.fingerprint
    finally:
        impostor.close()


@pytest.mark.django_db
def test_pointing_the_source_at_another_server_forgets_the_key(tenant_a, catalog, owner):
    source = make_source(tenant_a, catalog, owner, "sftp://files.example.com/a/feed.csv")
    ProductSource.objects.filter(pk=source.pk).update(
        host_key_type="ssh-ed25519", host_key_fingerprint="SHA256:abc"
    )
    source.refresh_from_db()
    source = services.source_update(
        tenant=tenant_a,
        source=source,
        actor=owner,
        data={"url": "sftp://files.example.com/b/other.csv"},  # same server, another file
    )
    assert source.host_key_fingerprint == "SHA256:abc"
    source = services.source_update(
        tenant=tenant_a,
        source=source,
        actor=owner,
        data={"url": "sftp://files.example.com:2222/b/other.csv"},  # another port: another server
    )
    assert source.host_key_fingerprint == "" and source.host_key_type == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "username", "field", "message"),
    [
        ("sftp://shop:hunter2@files.example.com/feed.csv", "", "url", "password in the URL"),
        ("https://shop:hunter2@shop.example.com/f.csv", "", "url", "password in the URL"),
        ("sftp://files.example.com/", "shop", "url", "path of the feed file"),
        ("sftp://files.example.com/feed.csv", "", "username", "needs a username"),
        ("ftp://files.example.com/feed.csv", "", "url", "sftp://"),
    ],
)
def test_source_url_validation(tenant_a, catalog, owner, url, username, field, message):
    with pytest.raises(ValidationError) as exc:
        services.source_create(
            tenant=tenant_a,
            catalog=catalog,
            actor=owner,
            data={"name": "X", "url": url, "username": username, "schedule": Schedule.MANUAL},
        )
    assert any(message in m for m in exc.value.message_dict[field])
    assert "hunter2" not in str(ProductSource.objects.values_list("url", flat=True))


@pytest.mark.django_db
def test_url_login_counts_for_the_password_prompt(tenant_a, catalog, owner):
    source = services.source_create(
        tenant=tenant_a,
        catalog=catalog,
        actor=owner,
        data={"name": "X", "url": "sftp://shop@files.example.com/f.csv", "schedule": "manual"},
    )
    assert source.login_username == "shop" and source.needs_password_prompt


@pytest.mark.django_db
def test_api_shows_the_host_key_and_can_forget_it(api_client_for, member, tenant_a, catalog):
    api = api_client_for(member(tenant_a, Role.ADVERTISER), tenant_a)
    bad = api.post(
        "/api/v1/sources/",
        {"catalog": catalog.pk, "name": "S", "url": "sftp://u:pw@files.example.com/f.csv"},
        format="json",
    )
    assert bad.status_code == 400 and "password in the URL" in str(bad.json()["url"])
    body = {
        "catalog": catalog.pk,
        "name": "S",
        "url": "sftp://files.example.com/f.csv",
        "username": "u",
        "password": "pw",
        "schedule": "manual",
    }
    forged = api.post(
        "/api/v1/sources/", {**body, "host_key_fingerprint": "SHA256:forged"}, format="json"
    )
    assert forged.status_code == 400  # read-only: refused, nothing created
    assert forged.json() == {"host_key_fingerprint": ["This field is read-only."]}
    assert not ProductSource.objects.exists()
    created = api.post("/api/v1/sources/", body, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["host_key_fingerprint"] == ""
    ProductSource.objects.filter(pk=pk).update(
        host_key_type="ssh-ed25519", host_key_fingerprint="SHA256:abc"
    )
    shown = api.get(f"/api/v1/sources/{pk}/").json()
    assert (shown["host_key_type"], shown["host_key_fingerprint"]) == ("ssh-ed25519", "SHA256:abc")
    assert "forget_host_key" not in shown
    cleared = api.patch(f"/api/v1/sources/{pk}/", {"forget_host_key": True}, format="json")
    assert cleared.status_code == 200 and cleared.json()["host_key_fingerprint"] == ""


@pytest.mark.django_db
def test_source_page_shows_the_host_key_and_forgets_it(client, member, tenant_a, catalog):
    from django.urls import reverse

    client.force_login(member(tenant_a, Role.ADVERTISER))
    source = services.source_create(
        tenant=tenant_a,
        catalog=catalog,
        actor=None,
        data={"name": "S", "url": "sftp://u@files.example.com/f.csv", "schedule": "manual"},
    )
    page = reverse(
        "feeds:source_detail", kwargs={"tenant_slug": tenant_a.slug, "source_id": source.pk}
    )
    assert "Not stored yet" in client.get(page).content.decode()
    ProductSource.objects.filter(pk=source.pk).update(
        host_key_type="ssh-ed25519", host_key_fingerprint="SHA256:abcDEF"
    )
    body = client.get(page).content.decode()
    assert "ssh-ed25519 SHA256:abcDEF" in body and 'name="forget_host_key"' in body
    form = {
        "name": "S",
        "kind": "url",
        "url": "sftp://u@files.example.com/f.csv",
        "format": "auto",
        "compression": "auto",
        "mode": "replace",
        "schedule": "manual",
        "enabled": "on",
    }
    client.post(page, form)
    source.refresh_from_db()
    assert source.host_key_fingerprint == "SHA256:abcDEF"  # saving alone keeps it
    client.post(page, {**form, "forget_host_key": "on"})
    source.refresh_from_db()
    assert source.host_key_fingerprint == ""
