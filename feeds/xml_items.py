"""XML feeds (RSS items, Atom entries) streamed as tables of canonical string columns, the
blocks that readers.parse_feed_tables validates with columnar.validate_table, as it does
CSV's. Pure: no ORM."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import IO, Any

import pyarrow as pa

from .parsing import FeedError, normalise_header

DEFAULT_CHUNK_ROWS = 50_000


_ITEM_TAGS = {"item", "entry"}
G_NS = "http://base.google.com/ns/1.0"
ATOM_NS = frozenset({"http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#"})
# Atom's text elements are the description when the entry has no description element
# (Google's Atom spec reads <summary> as it); the full <content> says more than the summary
_ATOM_DESCRIPTION = {"content": 1, "summary": 0}
# An Atom entry's bookkeeping (RFC 4287 §4.1.2), on every entry of every Atom feed: not
# product data, so not columns (no unmapped-column warning; an Atom <category term> is not
# the product type: a g:product_type says that)
_ATOM_HOUSEKEEPING = frozenset(
    {"author", "contributor", "category", "published", "updated", "rights", "source"}
)
# An RSS 2.0 item's own elements other than title, link and description (the three Google's
# RSS 2.0 spec reads; its id is g:id, never the item's <guid>): the post's bookkeeping, not
# product data, so not columns (RSS's <category> is not the product type either)
_RSS_HOUSEKEEPING = frozenset(
    {"guid", "pubDate", "comments", "author", "category", "enclosure", "source"}
)
_PLAIN, _MERCHANT = 2, 3  # an element of no namespace (or RSS / Atom's), a g: attribute


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


# In an image element, a comma followed by a space or by another URL's scheme separates
# images (a list some feeds put in one element); any other comma is part of the URL
# (commas are legal in URLs, e.g. image CDNs' "w_100,h_100").
_IMAGE_SEPARATOR = re.compile(r",(?=\s|https?://)", re.IGNORECASE)


def _image_element(value: str) -> str:
    """An additional_image_link element as the text feeds' form the table column holds: its
    images joined by ",", a comma inside a URL written %2C (Google's rule for text feeds)."""
    if "," not in value:
        return value
    return ",".join(url.strip().replace(",", "%2C") for url in _IMAGE_SEPARATOR.split(value))


def iter_xml_tables(
    stream: IO[bytes], *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[tuple[pa.Table, list[int]]]:
    """Stream RSS 2.0 ``<item>`` / Atom ``<entry>`` elements with the g: namespace as
    (table of canonical string columns, the items' line numbers), ``chunk_rows`` a table.

    An element is a column (its name normalised as a CSV header is); which of two elements
    for one field is read, and which add up, is _item_row's rule.
    Nested elements are flattened (see _flatten_nested). A table has a column for every
    element any of its items carries ("" where an item lacks it) and always an id column.

    Uses defusedxml's iterparse: DTDs, entity declarations and external references
    raise instead of expanding (billion laughs, XXE), on this streaming path too.
    The "line" of an item is its position (1-based) in the feed.
    """
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    batch: list[tuple[int, dict[str, str]]] = []
    n = 0
    depth_item = False
    seen_root = False
    rss = False  # an RSS 2.0 document: its items' own elements are RSS's
    try:
        for event, elem in iterparse(stream, events=("start", "end"), forbid_dtd=True):
            _ns, local = _local(elem.tag)
            if event == "start":
                if not seen_root:
                    seen_root = True
                    rss = _ns == "" and local == "rss"
                    if local.lower() in ("html",):
                        raise FeedError("html", "The address returned a web page, not a feed.")
                if local in _ITEM_TAGS:
                    depth_item = True
                continue
            if local in _ITEM_TAGS and depth_item:
                n += 1
                batch.append((n, _item_row(elem, rss=rss)))
                elem.clear()
                depth_item = False
                if len(batch) >= chunk_rows:
                    yield _table(batch)
                    batch = []
        if batch:
            yield _table(batch)
        if n == 0 and not seen_root:
            raise FeedError("empty", "The feed file is empty.")
    except DefusedXmlException as exc:
        raise FeedError(
            "xml_forbidden",
            "The XML feed declares a DTD or entities, which are not allowed for safety.",
        ) from exc
    except SyntaxError as exc:  # xml.etree.ElementTree.ParseError
        raise FeedError("malformed", f"The XML feed is malformed: {exc}") from exc
    except LookupError as exc:  # <?xml encoding="..."?> names an encoding Python lacks
        raise FeedError(
            "encoding", f"The XML feed declares an unknown character encoding ({exc})."
        ) from exc


def _item_row(elem: Any, *, rss: bool = False) -> dict[str, str]:
    """One item's elements by canonical column (``rss``: an RSS 2.0 document's item). Of
    two elements for one field, a g: attribute wins over RSS's or Atom's own (an Atom <id>
    is a feed-wide IRI, <g:id> the product's id), Atom's <content> over its <summary>; else
    the first that is not empty."""
    row: dict[str, str] = {}
    ranks: dict[str, int] = {}
    entries: set[str] = set()  # keys read from nested <g:shipping> entries
    for child in elem:
        ns, clocal = _local(child.tag)
        if ns in ATOM_NS and clocal == "link" and child.get("rel", "alternate") != "alternate":
            continue  # rel="self", "enclosure"...: not the product's page
        if ns in ATOM_NS and clocal in _ATOM_HOUSEKEEPING:
            continue
        if rss and not ns and clocal in _RSS_HOUSEKEEPING:
            continue
        key, rank = normalise_header(clocal), _MERCHANT if ns == G_NS else _PLAIN
        if ns in ATOM_NS and clocal in _ATOM_DESCRIPTION:
            key, rank = "description", _ATOM_DESCRIPTION[clocal]
        if ns in ATOM_NS and clocal in _ATOM_DESCRIPTION and len(child):
            val = " ".join("".join(child.itertext()).split())  # type="xhtml": its text
        elif len(child):  # nested, e.g. <g:shipping><g:country>…
            val = _flatten_nested(child)
        elif clocal == "link" and not (child.text or "").strip():
            val = child.get("href", "").strip()  # Atom <link href=…/>
        else:
            val = (child.text or "").strip()
        if key == "additional_image_link":
            val = _image_element(val)
        # one <g:shipping> per country: joined as a CSV cell lists them, so the catalog's
        # country's entry is taken
        entry = clocal == "shipping" and len(child) > 0
        if key not in row:
            row[key], ranks[key] = val, rank
            if entry:
                entries.add(key)
        elif key == "additional_image_link" or (entry and key in entries):
            row[key] = f"{row[key]},{val}" if row[key] else val
        elif val and (not row[key] or rank > ranks[key]):
            row[key], ranks[key] = val, rank
    return row


def _table(rows: list[tuple[int, dict[str, str]]]) -> tuple[pa.Table, list[int]]:
    """The items as string columns, in the order their elements first appear."""
    keys: dict[str, None] = {}
    for _, r in rows:
        keys.update(dict.fromkeys(r))
    keys.setdefault("sku")
    table = pa.table({k: pa.array([r.get(k, "") for _, r in rows], pa.string()) for k in keys})
    return table, [line for line, _ in rows]


def _flatten_nested(elem: Any) -> str:
    """<g:shipping><g:country>US</g:country><g:price>5 USD</g:price></g:shipping> ->
    "US:::5 USD" (the same text form as a CSV cell)."""
    parts = {_local(c.tag)[1]: (c.text or "").strip() for c in elem}
    if _local(elem.tag)[1] == "shipping":
        return ":".join(parts.get(k, "") for k in ("country", "region", "service", "price"))
    return json.dumps(parts, sort_keys=True, ensure_ascii=False)
