"""A feed's download in a thread of its own, readable while it arrives: a pull parses the
first blocks while the rest is still on the wire, instead of after the whole file."""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Callable

from django.db import connection

from feeds.outbound import FetchResult


class DownloadCancelled(Exception):
    """Raised in the download's thread when the run no longer wants the file."""


class StreamedDownload:
    """Runs ``fetch(on_body, on_progress)`` (feeds.fetching.fetch bound to a run) in a thread.
    ``on_body(path)`` tells where the body is being written; ``reader()`` reads that file as
    it grows and ends only when the download ended: with its error if it failed, so nothing
    read from a download that broke off or went over a cap can pass for a whole file."""

    def __init__(self, fetch: Callable[..., FetchResult], on_progress: Callable[[int], None]):
        self._fetch = fetch
        self._on_progress = on_progress
        self._changed = threading.Condition()
        self.path: str | None = None
        self._stop: Callable[[], None] | None = None
        self._written = 0
        self._done = False
        self._cancelled = False
        self._result: FetchResult | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="feeds-download", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            result = self._fetch(on_body=self._body, on_progress=self._progress)
        except BaseException as exc:
            error, result = exc, None
        else:
            error = None
        finally:
            connection.close()  # this thread's own, opened by the progress saves
        with self._changed:
            self._result, self._error, self._done = result, error, True
            self._changed.notify_all()

    def _body(self, path: str, stop: Callable[[], None]) -> None:
        with self._changed:
            self.path, self._stop = path, stop
            self._changed.notify_all()

    def _progress(self, size: int) -> None:
        if self._cancelled:
            raise DownloadCancelled
        with self._changed:
            self._written = size
            self._changed.notify_all()
        self._on_progress(size)

    def wait_for_head(self, size: int) -> bytes | None:
        """The body's first ``size`` bytes (fewer when it is shorter) as soon as they are
        written; None when the download ended without a body being read as it arrives (an
        error, a 304, an sftp download): ``result()`` says which."""
        with self._changed:
            self._changed.wait_for(lambda: self._done or self._written >= size)
            if self._error is not None or self.path is None:
                return None
            path = self.path
        with open(path, "rb") as fh:
            return fh.read(size)

    def reader(self) -> io.BufferedReader:
        """The body as a file that reads like a whole one (see the class)."""
        assert self.path is not None
        return io.BufferedReader(_GrowingFile(self), buffer_size=1024 * 1024)

    def result(self) -> FetchResult:
        """The download's result once it ended; its error if it failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def cancel(self) -> None:
        """Stop the download (its temp file is removed) and wait for its thread: a read
        waiting on a server that sends nothing more ends at once."""
        self._cancelled = True
        with self._changed:
            stop = self._stop
        if stop is not None:
            stop()
        self._thread.join()
        if self._result is not None and self._result.path:  # it ended whole meanwhile
            with contextlib.suppress(OSError):
                os.unlink(self._result.path)

    def _wait(self, position: int) -> None:
        """Until more than ``position`` bytes are written, or the download ended."""
        with self._changed:
            self._changed.wait_for(lambda: self._done or self._written > position)

    def _ended(self) -> tuple[bool, BaseException | None]:
        with self._changed:
            return self._done, self._error


class _GrowingFile(io.RawIOBase):
    """The download's temp file, read as it grows: a read waits for bytes that are not
    written yet, and the end of the file is the end of a download that succeeded."""

    def __init__(self, download: StreamedDownload):
        self._download = download
        self._fh = open(download.path, "rb")  # noqa: SIM115 - closed by close()
        self._position = 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer) -> int:
        """Some bytes as soon as there are any (a raw stream's short read: the buffered
        reader around it gathers as many as its caller asked for); 0 only at the end."""
        while True:
            done, error = self._download._ended()  # read before the bytes it vouches for
            n = self._fh.readinto(buffer) or 0
            if n:
                self._position += n
                return n
            if done:
                if error is not None:
                    raise error
                return 0
            self._download._wait(self._position)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._fh.close()
        super().close()
