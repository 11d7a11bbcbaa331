"""Links as the channels take them (pure: no Django, no ORM): RFC 3986 URLs, and the
additional images as one value. specs writes items with them; xml_sql writes the same in SQL
with these very patterns."""

from __future__ import annotations

import re

# Links as RFC 3986 has them (Google requires it), written the same by xml_sql.link: the
# characters XML forbids and tabs and line breaks dropped (as a browser drops them), spaces
# at the ends trimmed, then every character that is neither unreserved nor reserved (a
# space, a quote, a brace, anything beyond ASCII) percent-encoded as its UTF-8 bytes, and a
# "%" that starts no %XX written %25. The scheme and host go as they are: PostgreSQL has no
# IDNA to write a host in punycode as the fast path must. Both patterns are read by Python
# and PostgreSQL alike.
URL_DROP = "[\u0001-\u001f\ufffe\uffff]"
URL_TRIM = " \u3000"
URL_NOT_KEPT = "[^]!#-;=?-\u005b_a-z~%]"
URL_BARE_PERCENT = "%(?![0-9A-Fa-f]{2})"
URL_HEAD = "^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*"
_URL_DROP = re.compile(URL_DROP)
_URL_ESCAPED = re.compile(URL_NOT_KEPT + "|" + URL_BARE_PERCENT)
_URL_HEAD = re.compile(URL_HEAD)


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{b:02X}" for b in match.group().encode())


def url(value: str) -> str:
    """The link as the channels take it: "https://shop.example/a b/é" is
    "https://shop.example/a%20b/%C3%A9"; an encoded link is left as it is, so encoding
    twice changes nothing. A link with nothing to do costs one search in C."""
    if not _URL_ESCAPED.search(value):
        return value
    value = _URL_DROP.sub("", value).strip(URL_TRIM)
    head = _URL_HEAD.match(value)
    start = head.end() if head else 0
    return value[:start] + _URL_ESCAPED.sub(_percent, value[start:])


def image_list(urls: list[str]) -> str:
    """The additional images as one value: each URL as `url` writes it, joined by ",", a
    comma inside a URL written %2C (Google's rule for text feeds; the XML writers split this
    value again, so one image stays one element), empty ones (a URL of characters XML
    forbids only, too) left out."""
    written = (url(u).replace(",", "%2C") for u in urls if u)
    return ",".join(u for u in written if u)
