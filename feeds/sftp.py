"""SFTP feed downloads (asyncssh) under the same rules as HTTP. Pure: no ORM, no settings.

- The host is resolved and every address checked by ``resolve_checked`` (the policy's
  allow-list honoured); the TCP socket is connected to the checked address here and handed
  to asyncssh, so no DNS lookup happens after the check.
- Nothing of the worker's own SSH setup is used: no ~/.ssh/config (no ProxyCommand), no
  known_hosts, no client keys, no agent; password (and keyboard-interactive) login only.
- Host key: trust on first use. Without a pinned key the server's key is accepted and
  reported in the result; with one, any other key is refused during the key exchange,
  before the password is sent.
- Connect (TCP + SSH handshake + login), per-read and total deadlines; a size cap on the
  advertised size and on the bytes actually received.
- Conditional fetch: the validator is the remote file's size and mtime; equal to the last
  good pull's means ``not_modified`` without downloading. A file modified within the last
  seconds gets no validator (it could change again within the same mtime second).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import stat
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import unquote, urlsplit

import asyncssh

from .outbound import (
    FetchPolicy,
    FetchResult,
    Resolver,
    _connection_error,
    _too_large_msg,
    feed_url_problem,
    resolve_checked,
    sftp_remote_path,
    system_resolver,
)
from .parsing import FeedError

T = TypeVar("T")

SFTP_PORT = 22
READ_CHUNK = 1024 * 1024  # one read = parallel SFTP requests of the negotiated block size

# OpenSSH's preference, without certificates and without SHA-1 RSA signatures
_HOST_KEY_ALGS = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
)
# an RSA key ("ssh-rsa") signs with these; every other key type with its own name
_RSA_SIG_ALGS = ("rsa-sha2-512", "rsa-sha2-256")


SHORTER_THAN_STAT = (
    "The feed file on the sftp server ended before the size it had when the download "
    "began (it was being rewritten?), so the download cannot be proven complete."
)
_TOTAL_TIMEOUT_MSG = "Downloading the feed took longer than the time limit."


@dataclass(frozen=True)
class SftpTarget:
    host: str
    port: int
    path: str
    username: str


def parse_sftp_url(url: str) -> SftpTarget:
    """Host, port, remote path and URL login of an sftp URL. Raises FeedError("url")."""
    problem = feed_url_problem(url)
    if problem:
        raise FeedError("url", problem)
    parts = urlsplit(url)
    return SftpTarget(
        host=parts.hostname or "",
        port=parts.port or SFTP_PORT,
        path=sftp_remote_path(parts.path),
        username=unquote(parts.username or ""),
    )


# mtime has a precision of one second: a file modified this recently (by this worker's clock,
# which must agree with the server's to within it) may be rewritten with the same size and
# mtime after it was read, so its stat proves nothing the next time
RACY_SECONDS = 2


def stat_validator(size: int | None, mtime: int | float | None, *, now: float) -> str:
    """What is stored as the source's last_modified for sftp: "" when unknown, or when the
    file changed less than RACY_SECONDS before ``now`` (then the next pull downloads it and
    the whole-file hash decides whether it changed)."""
    if size is None or mtime is None or mtime >= now - RACY_SECONDS:
        return ""
    return f"sftp mtime={int(mtime)} size={int(size)}"


def host_key_changed_message(*, expected: str, seen: str) -> str:
    return (
        f"The server's host key changed: it is now {seen}, but this source trusts "
        f"{expected}. This can mean someone is intercepting the connection, so the password "
        "was not sent. If the change is expected (the server was reinstalled or moved), "
        "clear the stored host key on the source and request data again."
    )


class _TrustOnFirstUse(asyncssh.SSHClient):
    """Accepts any host key when none is pinned, else only the pinned one; remembers it."""

    def __init__(self, pinned_fingerprint: str):
        self.pinned = pinned_fingerprint
        self.seen: asyncssh.SSHKey | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int, key) -> bool:
        self.seen = key
        return not self.pinned or key.get_fingerprint("sha256") == self.pinned


def sftp_fetch(
    url: str,
    *,
    policy: FetchPolicy,
    username: str = "",
    password: str = "",
    last_modified: str = "",
    host_key_type: str = "",
    host_key_fingerprint: str = "",
    resolver: Resolver = system_resolver,
    on_progress: Callable[[int], None] | None = None,
    dest_dir: str | None = None,
    temp_prefix: str = "feed-",
) -> FetchResult:
    """Download an sftp URL to a temp file (or report it unchanged). Raises FeedError.

    Synchronous (Celery workers, the import command): not for a thread with a running loop.
    """
    target = parse_sftp_url(url)
    deadline = time.monotonic() + policy.total_timeout
    ip = resolve_checked(target.host, target.port, policy, resolver)
    connect_timeout = min(policy.connect_timeout, max(deadline - time.monotonic(), 0.1))
    try:
        sock = socket.create_connection((ip, target.port), connect_timeout)
    except OSError as exc:
        raise _connection_error(target.host, exc) from exc
    session = _Session(
        url=url,
        target=target,
        sock=sock,
        policy=policy,
        deadline=deadline,
        username=username or target.username,
        password=password,
        last_modified=last_modified,
        host_key_type=host_key_type,
        host_key_fingerprint=host_key_fingerprint,
        on_progress=on_progress,
        dest_dir=dest_dir,
        temp_prefix=temp_prefix,
    )
    try:
        return session.pull()
    finally:
        sock.close()


@dataclass
class _Session:
    """One pull. The event loop runs only inside each network step (``_step``); the rest,
    progress callbacks included (they write to the database), runs on the caller's thread
    with no loop running, as Django requires."""

    url: str
    target: SftpTarget
    sock: socket.socket
    policy: FetchPolicy
    deadline: float
    username: str
    password: str
    last_modified: str
    host_key_type: str
    host_key_fingerprint: str
    on_progress: Callable[[int], None] | None
    dest_dir: str | None
    temp_prefix: str = "feed-"
    runner: asyncio.Runner | None = None

    @property
    def where(self) -> str:
        return f"{self.target.host}:{self.target.port}"

    def _step(self, make: Callable[[], Awaitable[T]], limit: float, stalled: str) -> T:
        """Run one network step under ``limit`` seconds and the total deadline."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise FeedError("timeout", _TOTAL_TIMEOUT_MSG)
        total_binds = left <= limit

        async def bounded() -> T:
            async with asyncio.timeout(min(limit, left)):
                return await make()

        assert self.runner is not None
        try:
            return self.runner.run(bounded())
        except TimeoutError as exc:
            raise FeedError("timeout", _TOTAL_TIMEOUT_MSG if total_binds else stalled) from exc

    def pull(self) -> FetchResult:
        with asyncio.Runner() as runner:
            self.runner = runner
            client = _TrustOnFirstUse(self.host_key_fingerprint)
            conn = self._login(client)
            try:
                key = conn.get_server_host_key()
                sftp = self._open_sftp(conn)
                result = self._download(sftp)
            finally:
                # no graceful close: a stalled server must not hold the run past its error
                conn.abort()
        if key is not None:
            result.host_key_type = key.get_algorithm()
            result.host_key_fingerprint = key.get_fingerprint("sha256")
        return result

    def _login(self, client: _TrustOnFirstUse) -> asyncssh.SSHClientConnection:
        where = self.where
        try:
            return self._step(
                lambda: self._connect(client),
                self.policy.connect_timeout,
                f"The sftp server at {where} did not answer in time.",
            )
        except asyncssh.HostKeyNotVerifiable as exc:
            seen = (
                f"{client.seen.get_algorithm()} {client.seen.get_fingerprint('sha256')}"
                if client.seen
                else "unknown"
            )
            expected = f"{self.host_key_type} {self.host_key_fingerprint}".strip()
            raise FeedError(
                "host_key", host_key_changed_message(expected=expected, seen=seen)
            ) from exc
        except asyncssh.PermissionDenied as exc:
            raise FeedError(
                "http_401",
                "The sftp server refused the username/password. Check the credentials.",
            ) from exc
        except asyncssh.KeyExchangeFailed as exc:
            raise FeedError(
                "ssh", f"The secure connection to the sftp server at {where} failed: {exc.reason}"
            ) from exc
        except (asyncssh.Error, OSError, ValueError) as exc:
            raise FeedError(
                "unreachable",
                f"The sftp server at {where} closed the connection during login "
                f"({getattr(exc, 'reason', None) or exc}). Check the host and port.",
            ) from exc

    async def _connect(self, client: _TrustOnFirstUse) -> asyncssh.SSHClientConnection:
        # the pinned key's type first (the client's preference decides), so a server that
        # also has keys of other types still shows the pinned one; plain keys only, as a
        # host certificate would need a CA nobody configured
        pinned = _RSA_SIG_ALGS if self.host_key_type == "ssh-rsa" else (self.host_key_type,)
        host_key_algs = list(dict.fromkeys([*pinned, *_HOST_KEY_ALGS]))
        host_key_algs = [a for a in host_key_algs if a]
        conn, _ = await asyncssh.create_connection(
            lambda: client,
            host=self.target.host,
            port=self.target.port,
            sock=self.sock,
            config=None,
            known_hosts=([], [], []),  # nothing trusted up front: the client decides
            server_host_key_algs=host_key_algs,
            x509_trusted_certs=None,
            username=self.username,
            password=self.password or None,
            client_keys=None,
            agent_path=None,
            preferred_auth=("password", "keyboard-interactive"),
        )
        return conn

    def _open_sftp(self, conn: asyncssh.SSHClientConnection) -> asyncssh.SFTPClient:
        try:
            return self._step(
                conn.start_sftp_client,
                self.policy.read_timeout,
                f"The sftp server at {self.where} stopped answering.",
            )
        except (asyncssh.Error, OSError) as exc:
            raise FeedError(
                "ssh", f"The server at {self.where} accepted the login but does not offer SFTP."
            ) from exc

    def _download(self, sftp: asyncssh.SFTPClient) -> FetchResult:
        path = self.target.path
        stalled = "The sftp server stopped sending data (read timeout)."
        read_timeout = self.policy.read_timeout
        try:
            attrs = self._step(lambda: sftp.stat(path), read_timeout, stalled)
            if attrs.type == asyncssh.FILEXFER_TYPE_DIRECTORY or (
                attrs.permissions is not None and stat.S_ISDIR(attrs.permissions)
            ):
                raise FeedError(
                    "http_404", f"“{path}” is a folder on the sftp server, not a feed file."
                )
            if attrs.size is not None and attrs.size > self.policy.max_bytes:
                raise FeedError("too_large", _too_large_msg(self.policy))
            validator = stat_validator(attrs.size, attrs.mtime, now=time.time())
            if validator and validator == self.last_modified:
                return FetchResult(
                    url=self.url, status=0, not_modified=True, last_modified=validator
                )
            # the handle is not closed politely: the connection is aborted right after
            remote = self._step(lambda: sftp.open(path, "rb"), read_timeout, stalled)
            return self._copy(remote, validator, stalled, expected=attrs.size)
        except asyncssh.SFTPNoSuchFile as exc:
            raise FeedError(
                "http_404", f"The feed file “{path}” was not found on the sftp server."
            ) from exc
        except asyncssh.SFTPPermissionDenied as exc:
            raise FeedError(
                "http_403",
                f"The sftp server refused access to “{path}”. Check the path and the "
                "account's permissions.",
            ) from exc
        except asyncssh.SFTPError as exc:
            raise FeedError("sftp", f"The sftp server reported an error: {exc.reason}") from exc
        except (asyncssh.Error, OSError) as exc:
            raise FeedError("unreachable", f"The download broke off: {exc}.") from exc

    def _copy(
        self,
        remote: asyncssh.SFTPClientFile,
        validator: str,
        stalled: str,
        expected: int | None = None,
    ) -> FetchResult:
        fd, path = tempfile.mkstemp(prefix=self.temp_prefix, suffix=".bin", dir=self.dest_dir)
        sha = hashlib.sha256()
        size = 0
        ok = False
        try:
            with os.fdopen(fd, "wb") as out:
                while True:
                    chunk = self._step(
                        lambda: remote.read(READ_CHUNK), self.policy.read_timeout, stalled
                    )
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > self.policy.max_bytes:  # the bytes received, whatever stat said
                        raise FeedError("too_large", _too_large_msg(self.policy))
                    sha.update(chunk)
                    out.write(chunk)
                    if self.on_progress:
                        self.on_progress(size)
            ok = True
            return FetchResult(
                url=self.url,
                status=0,
                path=path,
                size=size,
                sha256=sha.hexdigest(),
                last_modified=validator,
                # the file ended before the size it had when the pull began: rewritten
                # while it was read, it may be a partial export
                unframed=SHORTER_THAN_STAT if expected is not None and size < expected else "",
            )
        finally:
            if not ok and os.path.exists(path):
                os.unlink(path)
