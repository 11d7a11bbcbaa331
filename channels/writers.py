"""Feed writers: items (dicts of a channel's columns) to RSS 2.0, CSV or TSV bytes, in
chunks, so a response streams with constant memory (pure: no Django, no ORM).

Text from feeds is data: XML text is escaped, and the characters XML 1.0 forbids (C0
controls but tab and line breaks, U+FFFE, U+FFFF) are dropped in every format, or one stray
control character would make a channel reject the whole feed. CSV and TSV cells carry the
seller's text as it is: a channel reads its feed as data, so the apostrophe that keeps a
spreadsheet from running a formula (catalog_health.csv_export, for exports people open)
would reach Google, Meta and TikTok as part of a title ("'-50% Sale").
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

G_NS = "http://base.google.com/ns/1.0"
# RSS 2.0's own elements; every other column is a g: element
_RSS_PLAIN = {"title", "link", "description"}
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
CHUNK_ITEMS = 500


def xml_text(value: str) -> str:
    """Escaped element text (quotes need no escaping outside attributes)."""
    if not _XML_SPECIAL.search(value):
        return value
    value = _XML_BAD.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _csv_cell(value: str) -> str:
    # the characters XML forbids go in every format (channels reject them in tables too)
    return _XML_BAD.sub("", value)


def _tsv_cell(value: str, *, clean: bool = False) -> str:
    # Tabs and line breaks inside a value become spaces: a Google source reads quoted
    # values only when its "quoted fields" setting is on.
    if "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    if clean:
        value = _csv_cell(value)
    if value.startswith('"'):
        # with quoted fields (on by default) a leading quote opens a quoted value: quote
        # it whole, its quotes doubled, or '"Pro" Runner' reads as 'Pro Runner'
        value = '"' + value.replace('"', '""') + '"'
    return value


def _chunks(lines: Iterator[str]) -> Iterator[bytes]:
    buf: list[str] = []
    for line in lines:
        buf.append(line)
        if len(buf) >= CHUNK_ITEMS:
            yield "".join(buf).encode("utf-8")
            buf.clear()
    if buf:
        yield "".join(buf).encode("utf-8")


def _rss_head(title: str, link: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" xmlns:g="{G_NS}">\n<channel>\n'
        f"<title>{xml_text(title)}</title>\n<link>{xml_text(link)}</link>\n"
        f"<description>{xml_text(title)}</description>\n"
    )


_RSS_TAIL = "</channel>\n</rss>\n"


def rss_around_items(chunks: Iterable[bytes], *, title: str, link: str) -> Iterator[bytes]:
    """An RSS feed around chunks of <item> lines already written (xml_sql)."""
    yield _rss_head(title, link).encode("utf-8")
    yield from chunks
    yield _RSS_TAIL.encode("utf-8")


def _rss_lines(
    columns: list[str], items: Iterable[dict[str, str]], *, title: str, link: str
) -> Iterator[str]:
    tags = []
    for col in columns:
        tag = col if col in _RSS_PLAIN else f"g:{col}"
        tags.append((col, f"<{tag}>", f"</{tag}>"))
    yield _rss_head(title, link)
    for item in items:
        parts = ["<item>"]
        for col, open_, close in tags:
            value = item.get(col)
            if not value:
                continue
            if col == "additional_image_link":  # one element per image
                for url in value.split(","):
                    if url:
                        parts.append(f"{open_}{xml_text(url)}{close}")
                continue
            parts.append(f"{open_}{xml_text(value)}{close}")
        parts.append("</item>\n")
        yield "".join(parts)
    yield _RSS_TAIL


def _csv_lines(columns: list[str], items: Iterable[dict[str, str]]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    yield out.getvalue()
    for item in items:
        out.seek(0)
        out.truncate()
        writer.writerow([item.get(c) or "" for c in columns])
        line = out.getvalue()
        if _XML_BAD.search(line):  # one search a line; the rare line again cell by cell
            out.seek(0)
            out.truncate()
            writer.writerow([_csv_cell(item.get(c) or "") for c in columns])
            line = out.getvalue()
        yield line


def _tsv_lines(columns: list[str], items: Iterable[dict[str, str]]) -> Iterator[str]:
    yield "\t".join(columns) + "\n"
    for item in items:
        line = "\t".join([_tsv_cell(item.get(c) or "") for c in columns]) + "\n"
        if _XML_BAD.search(line):  # as in _csv_lines
            line = "\t".join([_tsv_cell(item.get(c) or "", clean=True) for c in columns]) + "\n"
        yield line


def write_feed(
    fmt: str,
    columns: list[str],
    items: Iterable[dict[str, str]],
    *,
    title: str = "",
    link: str = "",
) -> Iterator[bytes]:
    """The whole feed as UTF-8 byte chunks of about CHUNK_ITEMS items each."""
    if fmt == "xml":
        return _chunks(_rss_lines(columns, items, title=title, link=link))
    if fmt == "csv":
        return _chunks(_csv_lines(columns, items))
    if fmt == "tsv":
        return _chunks(_tsv_lines(columns, items))
    raise ValueError(f"unknown format {fmt!r}")
