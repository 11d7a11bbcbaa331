"""Bomb-safe decompression of feed files (gzip, zip). Pure: no ORM, no settings.

Limits are enforced on the bytes actually produced, not on sizes a header claims:
a zip's declared ``file_size`` can lie and a gzip stream has no trustworthy size.
"""

from __future__ import annotations

import gzip
import io
import os
import posixpath
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from .parsing import FeedError, detect_compression

GB = 1024**3


@dataclass(frozen=True)
class Limits:
    """Caps for one feed file."""

    max_expanded_bytes: int = 4 * GB  # same cap as the download (GMC: 4 GB)
    max_ratio: int = 200  # expanded / compressed; real feeds compress 5-20x
    max_members: int = 20  # entries in a zip
    ratio_grace_bytes: int = 16 * 1024 * 1024  # ratio is checked once output passes this


class _CappedReader(io.RawIOBase):
    """Wraps a decompressing stream and fails when output exceeds the caps.

    The ratio is the output so far against the compressed bytes read so far (``consumed``),
    not against the whole file: a bomb's ratio shows within its first megabytes, where the
    whole file's size would let it expand to max_ratio times its size first."""

    def __init__(
        self,
        inner: IO[bytes],
        compressed_size: int,
        limits: Limits,
        consumed: Callable[[], int] | None = None,
    ):
        self._inner = inner
        self._compressed = max(compressed_size, 1)
        self._consumed = consumed or (lambda: compressed_size)
        self._limits = limits
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(b))
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile, NotImplementedError) as exc:
            raise FeedError(
                "compression", f"The compressed feed is damaged and cannot be read: {exc}"
            ) from exc
        n = len(data)
        self.produced += n
        lim = self._limits
        if self.produced > lim.max_expanded_bytes:
            raise FeedError(
                "too_large",
                f"The feed expands to more than {lim.max_expanded_bytes // (1024**2)} MB "
                "when decompressed.",
            )
        if self.produced > lim.ratio_grace_bytes and self.produced > (
            max(self._consumed(), 1) * lim.max_ratio
        ):
            raise FeedError(
                "compression",
                "The compressed feed expands suspiciously much (a decompression bomb?); "
                "it was not read.",
            )
        b[:n] = data
        return n

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


def safe_member_name(name: str) -> bool:
    """True when a zip member name stays inside the archive (no traversal, no absolute path)."""
    if not name or "\x00" in name or name.startswith(("/", "\\")):
        return False
    if len(name) > 1 and name[1] == ":":  # C:\...
        return False
    norm = posixpath.normpath(name.replace("\\", "/"))
    return not (norm == ".." or norm.startswith("../") or "/../" in f"/{norm}/")


def open_decompressed(
    path: str, compression: str = "auto", limits: Limits | None = None
) -> IO[bytes]:
    """Open ``path`` and return a binary stream of the (decompressed) feed.

    ``compression``: "auto", "none", "gzip" or "zip". A zip must hold exactly one
    feed file (directories and macOS metadata are ignored).
    """
    limits = limits or Limits()
    raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, closed by it
    try:
        head = raw.read(8)
        raw.seek(0)
        raw.seek(0, io.SEEK_END)
        size = raw.tell()
        raw.seek(0)
        kind = detect_compression(head) if compression in ("auto", "", None) else compression
        if kind == "none":
            return raw
        if kind == "gzip":
            if detect_compression(head) != "gzip":
                raise FeedError("compression", "The source is set to gzip but the file is not.")
            gz = gzip.GzipFile(fileobj=raw, mode="rb")
            return io.BufferedReader(
                _CappedReader(gz, size, limits, consumed=raw.tell), buffer_size=1024 * 1024
            )
        if kind == "zip":
            return _open_zip(raw, size, limits)
        raise FeedError("compression", f"Unknown compression “{kind}”.")
    except BaseException:
        raw.close()
        raise


# What zipfile raises on a damaged archive or a zip feature it does not support (found by
# fuzzing: version 6.4, strong encryption, patched data, bad offsets, name mismatches).
_ZIP_DAMAGED = (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, ValueError)


def _is_spreadsheet(names: set[str]) -> bool:
    """An .xlsx (Office Open XML: its workbook part) or an OpenDocument file (its mimetype
    and manifest), both zips of XML parts."""
    return "xl/workbook.xml" in names or {"mimetype", "META-INF/manifest.xml"} <= names


def _open_zip(raw: IO[bytes], size: int, limits: Limits) -> IO[bytes]:
    try:
        zf = zipfile.ZipFile(raw)
    except _ZIP_DAMAGED as exc:
        raise FeedError("compression", "The zip file is damaged and cannot be read.") from exc
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise FeedError(
            "compression", f"The zip holds {len(infos)} files; at most {limits.max_members}."
        )
    for info in infos:
        if not safe_member_name(info.filename):
            raise FeedError(
                "compression", f"The zip holds an unsafe file name “{info.filename[:80]}”."
            )
    if _is_spreadsheet({i.filename for i in infos}):
        # a workbook is a zip of its sheets' XML, which would read as "several files"
        raise FeedError(
            "format",
            "This is a spreadsheet workbook (.xlsx or .ods), not a feed file: save its "
            "sheet as CSV (UTF-8) and use that file.",
        )
    files = [
        i
        for i in infos
        if not i.is_dir()
        and not i.filename.startswith("__MACOSX/")
        and not posixpath.basename(i.filename).startswith(".")
    ]
    if not files:
        raise FeedError("empty", "The zip file holds no feed file.")
    if len(files) > 1:
        names = ", ".join(i.filename for i in files[:5])
        raise FeedError("compression", f"The zip holds several files ({names}); put in just one.")
    info = files[0]
    if info.flag_bits & 0x1:
        raise FeedError("compression", "The zip file is password-protected.")
    if info.file_size > limits.max_expanded_bytes:
        raise FeedError("too_large", "The feed inside the zip is larger than the size cap.")
    try:
        member = zf.open(info)
    except _ZIP_DAMAGED as exc:
        raise FeedError(
            "compression", "The zip file is damaged or uses a zip feature that is not supported."
        ) from exc
    compress_size = max(info.compress_size, 1)

    def consumed() -> int:
        # what zipfile has left to read of the member's compressed bytes
        left = getattr(member, "_compress_left", None)
        return compress_size - left if isinstance(left, int) else compress_size

    return io.BufferedReader(
        _CappedReader(member, compress_size, limits, consumed=consumed), buffer_size=1024 * 1024
    )


def check_expansion(path: str, compression: str = "auto", limits: Limits | None = None) -> int:
    """Decompress ``path`` once without parsing it and return its expanded size: a bomb
    (over the expanded-size cap, or a ratio no feed has) fails here in the time it takes
    to inflate its first megabytes, before a single row is parsed. An uncompressed file
    returns its size at once (the download cap already bounds it)."""
    with open_decompressed(path, compression, limits) as stream:
        if not isinstance(getattr(stream, "raw", None), _CappedReader):
            return os.path.getsize(path)
        total = 0
        while block := stream.read(1024 * 1024):
            total += len(block)
        return total
