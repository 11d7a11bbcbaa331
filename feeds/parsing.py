"""Pure feed parsing: detection, header normalisation, value parsers and the rules'
constants (the readers are readers.py, csv_tables.py, records.py, xml_items.py,
shopify_products.py and woocommerce_products.py; the validation of rows is
columnar.validate_table).

Nothing here touches the ORM or Django settings, so the rules can be tested with a
table of cases (and hypothesis) without a database.

The pipeline is::

    raw bytes --decompress.py--> binary stream
        --detect_format / detect_encoding--> readers.parse_feed_tables(): CSV/TSV records
        (csv_tables.py, records.py), XML items (xml_items.py), a Shopify products
        export's variants (shopify_products.py) or a WooCommerce product export's products
        (woocommerce_products.py) --> blocks of canonical string columns
        --> columnar.validate_table() --> (good rows, row errors)
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import xxhash

from catalog_health.tenancy.currencies import ISO_4217_CODES
from catalogs.fields import FEED_FIELDS

# --------------------------------------------------------------------------- errors


class FeedError(Exception):
    """A whole-feed problem: the run fails and the catalog is left as it was.

    ``code`` is stable (used in tests and the API); ``str(exc)`` is a message a
    seller understands.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class RowError:
    """One rejected (or warned) row: line number, sku, field and message."""

    line: int
    sku: str
    field: str
    message: str
    severity: str = "error"  # "error" rejects the row, "warning" keeps it


# --------------------------------------------------------------------------- detection

FORMAT_CSV = "csv"
FORMAT_TSV = "tsv"
FORMAT_XML = "xml"

_HTML_RE = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S)


def detect_compression(head: bytes) -> str:
    """Return "gzip", "zip" or "none" from the first bytes of a file."""
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    return "none"


def detect_encoding(head: bytes, declared: str | None = None) -> str:
    """Pick a text encoding for a CSV/TSV feed.

    A declared encoding wins. Otherwise: a BOM (UTF-8, UTF-16), UTF-16 without BOM
    (NUL bytes in every other position), UTF-8, else Windows-1252 (or Latin-1 when the
    bytes hold code points Windows-1252 leaves undefined). A file is UTF-8 when its
    valid multi-byte characters are at least as many as its invalid bytes: a UTF-8 file
    with a few bad bytes stays UTF-8 (those rows are rejected, see
    records.problem_records), while a Windows-1252 file's accented letters are invalid
    UTF-8 almost every time.
    """
    if declared:
        try:
            return codecs.lookup(declared).name
        except LookupError as exc:
            raise FeedError("encoding", f"Unknown text encoding “{declared}”.") from exc
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 4:
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) // 2
        if odd_nuls > half * 0.6 and even_nuls < half * 0.1:
            return "utf-16-le"
        if even_nuls > half * 0.6 and odd_nuls < half * 0.1:
            return "utf-16-be"
    if utf8_or_single_byte(head) == "utf-8":
        return "utf-8"
    if any(b in head for b in (0x81, 0x8D, 0x8F, 0x90, 0x9D)):
        return "latin-1"
    return "cp1252"


def utf8_or_single_byte(sample: bytes) -> str:
    """ "utf-8" when the sample's valid multi-byte characters are at least as many as its
    invalid bytes, else "cp1252" (detect_encoding picks Latin-1 where it must)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = decoder.decode(sample, final=False)  # a multi-byte char cut at the end is fine
    invalid = text.count("\ufffd") - sample.count("\ufffd".encode())
    if invalid <= 0 or sum(1 for ch in text if ch > "\x7f") - text.count("\ufffd") >= invalid:
        return "utf-8"
    return "cp1252"


def _decode_head(head: bytes, encoding: str) -> str:
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)


def detect_format(head: bytes, encoding: str | None = None) -> str:
    """Return "csv", "tsv" or "xml"; raise FeedError for empty files and HTML pages."""
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise FeedError("empty", "The feed file is empty.")
    enc = encoding or detect_encoding(head)
    text = _decode_head(head[:65536], enc).lstrip("\ufeff \t\r\n")
    if not text:
        raise FeedError("empty", "The feed file is empty.")
    if _HTML_RE.match(text.encode("utf-8", "replace")):
        raise FeedError(
            "html",
            "The address returned a web page (HTML), not a product feed. "
            "Check the feed URL and that the feed does not need a login.",
        )
    if text.startswith("<"):
        return FORMAT_XML
    return FORMAT_TSV if sniff_delimiter(text) == "\t" else FORMAT_CSV


def describe_body(head: bytes) -> str:
    """What a body that is not a feed looks like, by its kind and size only (its text may
    hold secrets: it is never shown back)."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start in (b"{", b"["):
        kind = "a JSON document"
    elif start == b"<":
        kind = "an XML or HTML document"
    elif sum(b < 9 or 13 < b < 32 for b in head[:4096]) > 0:
        kind = "binary data"
    else:
        kind = "text"
    size = f"{len(head)} bytes" if len(head) < 65536 else "at least 64 KiB"
    return f"{kind} ({size})"


def sniff_delimiter(text: str) -> str:
    """Delimiter of the header line: the most frequent of tab, comma, semicolon, pipe."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in ("\t", ",", ";", "|")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


# --------------------------------------------------------------------------- headers

# canonical field -> aliases (already normalised: lowercase, "_" for spaces, no "g:")
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "sku": (
        "id",
        "sku",
        "sku_id",
        "retailer_id",
        "offer_id",
        "item_id",
        "product_id",
        "seller_sku",
    ),
    "title": ("title", "name", "product_name", "product_title"),
    "description": ("description", "product_description", "desc"),
    "link": ("link", "url", "product_url", "product_link", "website_link", "landing_page_url"),
    "image_link": ("image_link", "image_url", "main_image", "main_image_url", "image", "imagelink"),
    "additional_image_link": ("additional_image_link", "additional_image_links", "image_2"),
    "price": ("price", "regular_price"),
    "sale_price": ("sale_price",),
    "availability": ("availability", "stock_status", "availability_status"),
    "brand": ("brand", "brand_name"),
    "gtin": ("gtin", "upc", "ean", "isbn", "gtin13"),
    "mpn": ("mpn",),
    "condition": ("condition", "item_condition"),
    "quantity": (
        "quantity",
        "inventory",
        "inventory_quantity",
        "quantity_to_sell_on_facebook",
        "stock",
    ),
    # one flat price ("5.99 USD") or GMC entries ("US:::5.99 USD"); see parse_shipping
    "shipping": ("shipping", "shipping_fee", "shipping_price", "shipping_cost"),
    # (Meta's fb_product_category is another taxonomy: a custom attribute, see
    # KNOWN_ATTRIBUTES)
    "google_product_category": ("google_product_category",),
    "product_type": ("product_type", "category"),
    "item_group_id": ("item_group_id", "group_id", "spu_id"),
}
# Channel template columns with no product field of their own, kept as custom attributes
# under these keys without the unmapped-column warning (they are not misspelt)
KNOWN_ATTRIBUTES = frozenset({"fb_product_category"})
_ALIAS_TO_FIELD = {alias: canon for canon, aliases in FIELD_ALIASES.items() for alias in aliases}
REQUIRED_COLUMNS = ("sku",)
_SEP_RE = re.compile(r"[\s\-\./]+")


def normalise_header(name: str) -> str:
    """Map a column name of any common template to our canonical name.

    Case-, space- and prefix-insensitive: "g:ID", " Retailer ID ", "sku_id" -> "sku".
    Unknown columns come back normalised (they become custom attributes).
    """
    key = name.strip().lstrip("\ufeff").strip().lower()
    for prefix in ("g:", "g_", "{http://base.google.com/ns/1.0}"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
            break
    key = key.replace("/g:", "/")  # "g:shipping/g:price" (a nested attribute as a column)
    key = _SEP_RE.sub("_", key).strip("_")
    return _ALIAS_TO_FIELD.get(key, key)


def normalise_headers(names: Iterable[str]) -> list[str]:
    """Normalise every header; a duplicate canonical name keeps only its first column."""
    out: list[str] = []
    seen: set[str] = set()
    for i, n in enumerate(names):
        canon = normalise_header(str(n)) or f"column_{i + 1}"
        if canon in seen:
            canon = f"{canon}__dup{i + 1}"
        seen.add(canon)
        out.append(canon)
    return out


def missing_required_columns(columns: Iterable[str]) -> list[str]:
    cols = set(columns)
    return [c for c in REQUIRED_COLUMNS if c not in cols]


# --------------------------------------------------------------------------- values

_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW"}
_PRICE_RE = re.compile(
    r"^\s*(?:(?P<cur1>[A-Za-z]{3}|[$€£¥₹₩])\s*)?"
    r"(?P<num>[0-9][0-9.,' \u00a0\u202f\u2019]*)"
    r"\s*(?:(?P<cur2>[A-Za-z]{3}|[$€£¥₹₩]))?\s*$"
)
MAX_PRICE = Decimal("99999999.99")
# what locales put between thousands besides a dot or comma: a space, the no-break spaces
# of French and other locales' number formats, and the Swiss apostrophes
_GROUP_MARKS = (" ", "\u00a0", "\u202f", "'", "\u2019")


def parse_price(value: str, default_currency: str = "") -> tuple[Decimal, str]:
    """Parse "12.99 USD", "USD 12.99", "12,99 EUR", "1.234,56 EUR", "$5" -> (amount, code).

    Raises ValueError with a seller-readable message.
    """
    if value is None or not str(value).strip():
        raise ValueError("price is empty")
    m = _PRICE_RE.match(str(value))
    if not m or (m.group("cur1") and m.group("cur2")):
        raise ValueError(f"cannot read price “{str(value)[:40]}” (expected e.g. 12.99 USD)")
    written = (m.group("cur1") or m.group("cur2") or "").upper()
    written = _CURRENCY_SYMBOLS.get(written, written)
    if written and written not in ISO_4217_CODES:
        # channels take ISO 4217 codes only: "12.99 RMB" would be refused there, unexplained
        raise ValueError(f"price currency “{written}” is not an ISO 4217 code (e.g. USD, EUR, CNY)")
    cur = written or (default_currency or "").upper()
    num = m.group("num").strip()
    for group_mark in _GROUP_MARKS:
        num = num.replace(group_mark, "")
    last_dot, last_comma = num.rfind("."), num.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        dec_sep = "." if last_dot > last_comma else ","
    elif last_comma >= 0:
        # "12,99" is a decimal comma; "1,234" (three digits after) is a thousands group
        tail = num[last_comma + 1 :]
        dec_sep = "," if num.count(",") == 1 and len(tail) != 3 else "."
    else:
        tail = num[last_dot + 1 :] if last_dot >= 0 else ""
        dec_sep = "." if num.count(".") <= 1 else ","
    group_sep = "," if dec_sep == "." else "."
    if dec_sep in num and num.count(dec_sep) > 1:
        raise ValueError(f"cannot read price “{str(value)[:40]}”")
    num = num.replace(group_sep, "").replace(dec_sep, ".")
    if not num or num.endswith(".") or num.startswith("."):
        raise ValueError(f"cannot read price “{str(value)[:40]}”")
    try:
        amount = Decimal(num)
    except InvalidOperation as exc:
        raise ValueError(f"cannot read price “{str(value)[:40]}”") from exc
    if amount > MAX_PRICE:
        raise ValueError("price is too large")
    if not cur:
        raise ValueError("price has no currency (expected e.g. 12.99 USD)")
    cents = amount.quantize(Decimal("0.01"))
    if cents != amount:
        # "1.234" is a thousand in some notations and one and a quarter in others: rounding
        # it to 1.23 could store a price a thousand times too low without a word
        raise ValueError(
            f"price “{str(value)[:40]}” has more than two decimal places: write the cents "
            "with two digits, and no dot or comma between thousands"
        )
    return cents, cur


AVAILABILITY_IN_STOCK = "in_stock"
AVAILABILITY_OUT_OF_STOCK = "out_of_stock"
AVAILABILITY_PREORDER = "preorder"
AVAILABILITY_BACKORDER = "backorder"
AVAILABILITY_DISCONTINUED = "discontinued"
_AVAILABILITY_SYNONYMS = {
    "in stock": AVAILABILITY_IN_STOCK,
    "instock": AVAILABILITY_IN_STOCK,
    "available": AVAILABILITY_IN_STOCK,
    "available for order": AVAILABILITY_IN_STOCK,
    "limited availability": AVAILABILITY_IN_STOCK,
    # schema.org ItemAvailability names, written as one word ("LimitedAvailability")
    "limitedavailability": AVAILABILITY_IN_STOCK,
    "onlineonly": AVAILABILITY_IN_STOCK,
    "online only": AVAILABILITY_IN_STOCK,
    "soldout": AVAILABILITY_OUT_OF_STOCK,
    "presale": AVAILABILITY_PREORDER,
    "pre sale": AVAILABILITY_PREORDER,
    "out of stock": AVAILABILITY_OUT_OF_STOCK,
    "outofstock": AVAILABILITY_OUT_OF_STOCK,
    "sold out": AVAILABILITY_OUT_OF_STOCK,
    "discontinued": AVAILABILITY_DISCONTINUED,
    "not available": AVAILABILITY_OUT_OF_STOCK,
    "preorder": AVAILABILITY_PREORDER,
    "pre order": AVAILABILITY_PREORDER,
    "backorder": AVAILABILITY_BACKORDER,
    "back order": AVAILABILITY_BACKORDER,
}


def _availability_key(value: str) -> str:
    key = str(value).strip().lower()
    key = key.removeprefix("http://schema.org/").removeprefix("https://schema.org/")
    return " ".join(re.sub(r"[_\-]+", " ", key).split())


def parse_availability(value: str) -> str:
    """Map availability synonyms of Google, Meta and TikTok to one of four values."""
    key = _availability_key(value)
    if not key:
        raise ValueError("availability is empty")
    try:
        return _AVAILABILITY_SYNONYMS[key]
    except KeyError:
        raise ValueError(
            f"unknown availability “{str(value)[:40]}” (use in stock, out of stock, "
            "preorder or backorder)"
        ) from None


# A GTIN cell a spreadsheet stored as a number: "4006381333931.0" (a float's tail: the
# digits are whole) or "4.00638E+12" (scientific notation: the last digits are gone). ASCII
# digits only, as columnar's RE2 patterns read them.
GTIN_FLOAT_TAIL = r"([0-9]+)[.,]0+"
GTIN_SCIENTIFIC = r"[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+"
# A UPC-A (12 digits) starting with 0 that a number-typed column shortened to 11. GS1 keys
# sit right-aligned in a 14-digit field, so leading zeros carry nothing: 11 digits whose
# 0-padded 12 are a valid GTIN are that UPC-A. Seven digits are not padded to an EAN-8: a
# GTIN-8 never starts with 0 (GS1-8 prefixes are 100-139 and 300-969; 0 and 2 start RCN-8s,
# a company's restricted-circulation numbers), so 7 digits are no GTIN-8 that lost a zero,
# and padding them would pass one random number in ten off as a GTIN.
UPC_A_WITHOUT_ITS_ZERO = r"[0-9]{11}"
_GTIN_FLOAT_TAIL_RE = re.compile(GTIN_FLOAT_TAIL)
_GTIN_SCIENTIFIC_RE = re.compile(GTIN_SCIENTIFIC)
_UPC_A_WITHOUT_ITS_ZERO_RE = re.compile(UPC_A_WITHOUT_ITS_ZERO)


def _gs1_check_digit_ok(digits: str) -> bool:
    """Whether ASCII ``digits`` end in their GS1 mod-10 check digit and are not all zeros:
    review's rule (ecr.rules.columns.gtin_check, a vectorised form that feeds may not
    import) for one GTIN; tests/test_gtin_check_digit.py holds the two to the same answers."""
    weights = (3, 1) * 7
    total = sum(int(d) * w for d, w in zip(reversed(digits[:-1]), weights, strict=False))
    return (10 - total % 10) % 10 == int(digits[-1]) and digits.strip("0") != ""


def parse_gtin(value: str) -> str:
    """A GTIN as written, or its digits when a spreadsheet added a float's ".0" tail, with
    a UPC-A's leading 0 put back when the spreadsheet dropped it (UPC_A_WITHOUT_ITS_ZERO).

    Raises ValueError for scientific notation: its digits cannot be recovered, and storing
    the rounded number would name another product."""
    text = str(value).strip()
    if m := _GTIN_FLOAT_TAIL_RE.fullmatch(text):
        text = m.group(1)
    elif _GTIN_SCIENTIFIC_RE.fullmatch(text):
        raise ValueError(
            f"gtin “{text[:40]}”: a spreadsheet turned the GTIN into a number and dropped "
            "its last digits; format the column as text and export the file again"
        )
    if _UPC_A_WITHOUT_ITS_ZERO_RE.fullmatch(text) and _gs1_check_digit_ok("0" + text):
        return "0" + text
    return text


@dataclass(frozen=True)
class Shipping:
    country: str
    region: str
    service: str
    price: Decimal
    currency: str
    text: str = field(default="", compare=False)  # the entry as written (for messages)


_SHIPPING_SPLIT_RE = re.compile(r"\s*,\s*(?=[A-Za-z]{2}:)")


def parse_shipping(value: str, default_currency: str = "") -> list[Shipping]:
    """Parse "US:::5.99 USD" or "US:CA:Ground:5.99 USD,GB:::4 GBP", or one flat price.

    Each entry is country:region:service:price; entries are comma-separated. A value
    without a colon is one flat price for every country ("5.99 USD", or "5.99" in the
    row's currency); only its amount is stored, so a bare number is taken as it is.
    """
    out: list[Shipping] = []
    if not value or not value.strip():
        return out
    if ":" not in value:
        amount, cur = parse_price(value, default_currency or "XXX")
        return [Shipping("", "", "", amount, cur, value.strip())]
    for part in _SHIPPING_SPLIT_RE.split(value.strip()):
        bits = part.split(":")
        if len(bits) != 4 or not re.fullmatch(r"[A-Za-z]{2}", bits[0].strip()):
            raise ValueError(f"cannot read shipping “{part[:40]}” (expected e.g. US:::5.99 USD)")
        amount, cur = parse_price(bits[3], default_currency)
        country = bits[0].strip().upper()
        out.append(Shipping(country, bits[1].strip(), bits[2].strip(), amount, cur, part))
    return out


# --------------------------------------------------------------------------- rules

# Any one field (a custom attribute too) may hold MAX_FIELD_CHARS; a longer one rejects
# its row (records.MAX_ROW_BYTES bounds a whole row before it is read).
MAX_FIELD_CHARS = 64 * 1024
NUL_IN_FIELD = "the field contains a NUL byte, which no product field can hold"
# Max lengths follow the Product model's columns; a longer value rejects the row.
FIELD_MAX_LENGTH = {
    "sku": 100,
    "item_group_id": 100,
    "title": 500,
    "description": 10000,
    "link": 2000,
    "image_link": 2000,
    "brand": 150,
    "gtin": 50,
    "mpn": 70,
    "product_type": 750,
    "google_product_category": 250,
}
TEXT_FIELDS = tuple(f for f in FIELD_MAX_LENGTH if f != "sku")
CONDITIONS = {"new", "refurbished", "used"}
# Canonical fields the Product model has a column for; anything else is a custom attribute.
CORE_FIELDS = frozenset(
    (
        *FIELD_MAX_LENGTH,
        "additional_image_link",
        "price",
        "sale_price",
        "availability",
        "condition",
        "quantity",
        "shipping",
    )
)
# The normalised row, in the order the staging table / COPY uses.
OUTPUT_COLUMNS = ["line", *FEED_FIELDS, "content_hash"]
HASHED_COLUMNS = OUTPUT_COLUMNS[1:-1]


def unmapped_column_warnings(columns: Iterable[str], state: ValidationState, line: int):
    """One warning per run for each column that maps to no product field, so a misspelt
    column is never silent (it is kept as a custom attribute)."""
    out: list[RowError] = []
    for c in sorted(columns):
        if c in CORE_FIELDS or c in KNOWN_ATTRIBUTES or c.startswith("_"):
            continue
        if c in state.reported_columns:
            continue
        state.reported_columns.add(c)
        base, dup, _ = c.partition("__dup")
        if dup:
            msg = _repeated_column_message(base)
        else:
            msg = f"column “{c[:60]}” maps to no product field; kept as a custom attribute"
        out.append(RowError(line, "", base[:100], msg, "warning"))
        state.warnings += 1
    return out


def _repeated_column_message(field: str) -> str:
    """Two columns read as one field. Headers that differ (id and sku) name the same field,
    so the message names the field and the headers that mean it, not a column the file
    does not have twice."""
    aliases = FIELD_ALIASES.get(field, ())
    if len(aliases) < 2:
        return f"column “{field[:60]}” appears twice; only its first column is read"
    what = "the product id" if field == "sku" else f"the {field.replace('_', ' ')}"
    named = ", ".join(aliases[:3]) + (" …" if len(aliases) > 3 else "")
    return (
        f"{what} is in more than one column (headers {named} all name it, with or "
        "without g:); only the first of them is read"
    )


def written_fields(columns: Iterable[str]) -> set[str]:
    """The product fields a feed with these canonical columns writes in update mode (a
    supplemental feed): the others keep their values. "custom_attributes" stands for the
    attributes named by the columns, see custom_attribute_keys."""
    out = {"sku"}
    for c in columns:
        if c in FIELD_MAX_LENGTH or c in ("availability", "condition", "sale_price"):
            out.add(c)
        elif c == "price":
            out |= {"price", "currency"}
        elif c in _WRITES:
            out.add(_WRITES[c])
        elif not c.startswith("_") and "__dup" not in c:
            out.add("custom_attributes")
    return out


_WRITES = {
    "additional_image_link": "additional_image_links",
    "quantity": "inventory_quantity",
    "shipping": "shipping_fee",
}


def custom_attribute_keys(columns: Iterable[str]) -> list[str]:
    """The custom attribute keys the columns write (as stored: at most 100 characters)."""
    return sorted(
        {
            str(c)[:100]
            for c in columns
            if c not in CORE_FIELDS and not c.startswith("_") and "__dup" not in c
        }
    )


@dataclass
class ValidationState:
    """Carried across chunks of one feed: ids already seen and running counts."""

    default_currency: str = ""
    country: str = ""
    seen: set[str] = field(default_factory=set)
    # update mode: a column the file does not carry keeps the product's value, so its
    # absence is not worth a warning (see written_fields)
    partial: bool = False
    columns: set[str] = field(default_factory=set)  # canonical columns met so far
    reported_columns: set[str] = field(default_factory=set)  # named in a warning already
    received: int = 0
    rejected: int = 0
    warnings: int = 0
    # the line of a last row with fewer fields than the header and no line end after it: a
    # CSV/TSV file cut off mid-row (feeds.csv_tables)
    cut_off_line: int | None = None


# the digest content_hash applies to the UTF-8 bytes of the joined values
CONTENT_DIGEST = xxhash.xxh3_128_hexdigest


def content_hash(values: Iterable[str]) -> str:
    """Stable hash of a product's normalised content (unchanged rows are skipped)."""
    return joined_content_hash("\x1f".join(values))


def joined_content_hash(joined: str) -> str:
    """content_hash of the values already joined by \\x1f. xxh3-128: the hash is for change
    detection, not security, and at a million rows a first pull computes it in ~0.5 s
    (blake2b took ~2.4 s; PostgreSQL's md5 in the staging COPY, ~7 s of its time)."""
    return CONTENT_DIGEST((joined + "\x1f").encode("utf-8", "surrogatepass"))


def encoding_problem(name: str) -> str | None:
    """Why ``name`` cannot decode a feed: an unknown name, or a codec that is not a text
    encoding (base64, rot13 …). Refused when saved, rather than failing every run."""
    try:
        is_text = codecs.lookup(name.strip())._is_text_encoding
    except LookupError:
        is_text = False
    if is_text:
        return None
    return (
        f"“{name}” is not a text encoding. Leave it empty to detect the encoding, or name "
        "one such as utf-8, windows-1252 or latin-1."
    )
