"""What each channel's feed carries and how it writes values (pure: no Django, no ORM).

A product row becomes an *item*: a dict of the channel's own column names to text, already
written the way that channel's specification wants it (prices "12.99 USD", availability
words, condition). Field rules then work on those columns, and the writers only lay them
out (RSS 2.0 elements, CSV or TSV cells).

References: Google Merchant Center product data specification, Meta commerce catalog
fields, TikTok catalog template (its first nine columns are required, in this order).

Lengths are counted in characters as the channels count them, Unicode code points (Python's
len(), PostgreSQL's char_length()): an emoji beyond the BMP is one, never two UTF-16 halves.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .dates import availability_date
from .links import image_list, url

GOOGLE, META, TIKTOK = "google", "meta", "tiktok"
XML, CSV, TSV = "xml", "csv", "tsv"

# Which formats a channel reads (the issue: Google RSS or TSV, Meta CSV or XML, TikTok CSV).
CHANNEL_FORMATS: dict[str, tuple[str, ...]] = {
    GOOGLE: (XML, TSV),
    META: (CSV, XML),
    TIKTOK: (CSV,),
}

# The columns a product row carries into a channel item (selectors.FEED_ROW_COLUMNS order).
ROW_COLUMNS = (
    "id",
    "sku",
    "item_group_id",
    "title",
    "description",
    "link",
    "image_link",
    "additional_image_links",
    "brand",
    "gtin",
    "mpn",
    "condition",
    "availability",
    "price",
    "sale_price",
    "currency",
    "product_type",
    "google_product_category",
    "custom_attributes",
    "flag_status",
)

_AVAILABILITY = {
    # our value: (Google, Meta/TikTok)
    "in_stock": ("in stock", "in stock"),
    "out_of_stock": ("out of stock", "out of stock"),
    "preorder": ("preorder", "preorder"),
    # Meta and TikTok have no "backorder": they call it "available for order"
    "backorder": ("backorder", "available for order"),
    # Google has no "discontinued": not buyable is "out of stock" there
    "discontinued": ("out of stock", "discontinued"),
}


@dataclass(frozen=True)
class ChannelSpec:
    channel: str
    id_column: str
    # required columns first, in the order the channel's template lists them
    required: tuple[str, ...]
    optional: tuple[str, ...]
    # texts the channel takes up to so many characters of: shortened to fit (`shorten`)
    text_limits: dict[str, int] = field(default_factory=dict)
    # ids longer than this are refused; an id cannot be shortened (orders and conversions
    # name it), so such a product is left out of the feed. None: no limit below ours (100).
    id_limit: int | None = None
    # other values that cannot be shortened, by column: a link (a cut one leads nowhere), a
    # group id (cut, it joins or splits variant groups), a part number or GTIN (cut, it names
    # another product). Over its limit the product is left out, as for a long id.
    value_limits: dict[str, int] = field(default_factory=dict)
    # each additional image URL over this is left out (the other images still go)
    image_url_limit: int | None = None
    # how many additional images the channel takes: the first ones go, in order
    image_count: int | None = None
    # a product with none of these columns (blank) is refused: left out of the feed
    brand_required: tuple[str, ...] = ()
    # availability words the channel requires an availability_date with: an item with one
    # and no date the channel reads (`availability_date`) is refused, left out
    dated_availability: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


_OPTIONAL = (
    "additional_image_link",
    "sale_price",
    "sale_price_effective_date",
    "item_group_id",
    "google_product_category",
    "product_type",
    "gtin",
    "mpn",
)

SPECS: dict[str, ChannelSpec] = {
    # Google Merchant Center product data specification: id up to 50 characters, title
    # 150, description 5,000, brand 70, product_type 750, custom labels 100; link and
    # images 2,000, item_group_id 50, mpn 70, gtin 50; up to 10 additional images;
    # availability_date required with preorder and backorder.
    GOOGLE: ChannelSpec(
        GOOGLE,
        "id",
        ("id", "title", "description", "link", "image_link", "availability", "price"),
        # availability_date: required with preorder and backorder
        ("condition", "brand", *_OPTIONAL, "availability_date"),
        text_limits={
            "title": 150,
            "description": 5000,
            "brand": 70,
            "product_type": 750,
            **{f"custom_label_{n}": 100 for n in range(5)},
        },
        id_limit=50,
        value_limits={
            "link": 2000,
            "image_link": 2000,
            "item_group_id": 50,
            "mpn": 70,
            "gtin": 50,
        },
        image_url_limit=2000,
        image_count=10,
        dated_availability=("preorder", "backorder"),
    ),
    # Meta commerce catalog fields: id up to 100 characters (ours too), title 200, description
    # 9,999, brand 100 (required: "the brand name, MPN or GTIN"); up to 20 additional images.
    META: ChannelSpec(
        META,
        "id",
        (
            "id",
            "title",
            "description",
            "availability",
            "condition",
            "price",
            "link",
            "image_link",
            "brand",
        ),
        # Meta's own taxonomy beside Google's (a feed's fb_product_category column, kept by
        # the ingest as a custom attribute)
        (*_OPTIONAL, "fb_product_category"),
        text_limits={"title": 200, "description": 9999, "brand": 100},
        image_count=20,
        brand_required=("brand", "gtin", "mpn"),
    ),
    # TikTok catalog product parameters: nine required fields, brand among them ("an error
    # message if any of the required fields are missing"). It publishes no lengths: texts
    # and additional images are kept within Google's, which TikTok's Google-style template
    # takes; ids are left alone (leaving products out on a guess would lose them).
    TIKTOK: ChannelSpec(
        TIKTOK,
        "sku_id",
        (
            "sku_id",
            "title",
            "description",
            "availability",
            "condition",
            "price",
            "link",
            "image_link",
            "brand",
        ),
        _OPTIONAL,
        text_limits={"title": 150, "description": 5000, "brand": 70},
        image_count=10,
        brand_required=("brand",),
    ),
}


# Shortening a text to a channel's limit (`shorten`; xml_sql writes the same in SQL, with
# these very patterns: both regular expression dialects read \uXXXX and \UXXXXXXXX).
# Spaces a text is cut at; the punctuation that joins words, trimmed with them.
SPACES = " \t\n\r\u3000"
_SPACE_CLASS = "[ \\t\\n\\r\\u3000]"
TRIM_AFTER_CUT = SPACES + ",;:-/|&+\u2013\u2014"
_MARKS = ("Mn", "Mc", "Me")


def _escape(cp: int) -> str:
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


def _extend_class() -> str:
    """A character class of what extends the character before it (UAX #29's Extend, near
    enough): combining marks (Mn, Mc, Me; the variation selectors are Mn), the zero-width
    joiner and non-joiner, emoji skin tones and tag characters. Cutting before one would
    strip an accent off its letter or split an emoji."""
    cps = [cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) in _MARKS]
    cps += [0x200C, 0x200D, *range(0x1F3FB, 0x1F400), *range(0xE0020, 0xE0080)]
    return _char_class(cps)


def _char_class(cps: list[int]) -> str:
    """A regular expression character class of these code points, as ranges."""
    ranges: list[list[int]] = []
    for cp in sorted(set(cps)):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    parts = (_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in ranges)
    return "[" + "".join(parts) + "]"


@functools.cache
def cluster_tail() -> str:
    """A regular expression of the last grapheme cluster of a text: a character, then what
    extends it, or a zero-width joiner and the character it joins (an emoji sequence). The
    leftmost start from which the rest is one cluster is the last cluster's first character
    (none before it can be: that character is neither an extension nor joined). Built on
    first use: the scan of Unicode takes a third of a second, which no process should pay
    at start-up."""
    return "(?:.(?:\\u200d.|" + _extend_class() + ")*)$"


@functools.cache
def _cluster_tail_re() -> re.Pattern[str]:
    return re.compile("(?s)" + cluster_tail().removesuffix("$") + "\\Z")


def _not_nfc_safe() -> list[int]:
    """The code points a text in NFC may not hold as they are, or only in some places (UAX
    #15's quick check: NFC_Quick_Check No or Maybe, or a combining class other than 0). A
    text without any of them is in NFC: Latin, with its precomposed accents, never holds
    one; a combining accent, a compatibility ideograph or a Hangul jamo is one."""
    cps: set[int] = set()
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        if unicodedata.combining(ch) or unicodedata.normalize("NFC", ch) != ch:
            cps.add(cp)  # No, or a mark whose order matters
            continue
        parts = unicodedata.decomposition(ch).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            cps.add(int(parts[1], 16))  # Maybe: composes with the character before it
    cps.update(range(0x1161, 0x1176), range(0x11A8, 0x11C3))  # Hangul vowels and finals
    return sorted(cps)


@functools.cache
def maybe_not_nfc() -> str:
    """A regular expression (Python's and PostgreSQL's) matching a text that may not be in
    NFC (`_not_nfc_safe`); built on first use, as `cluster_tail`."""
    return _char_class(_not_nfc_safe())


def nfc(text: str) -> str:
    """The text in Unicode NFC, the form the channels compare text in: "e" and a combining
    acute become "é", one character, as the channel counts it. xml_sql.nfc writes the same
    in SQL. ASCII and most text in NFC already cost a check in C only."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


WORD_HEAD = "^(.*)" + _SPACE_CLASS
_WORD_HEAD = re.compile("(?s)" + WORD_HEAD)

# What a channel reads as no value at all: spaces, and the characters every writer drops
# (writers._XML_BAD). The pattern is read by Python and PostgreSQL alike.
BLANK = "^[ \\t\\n\\r\\u3000\\u0001-\\u0008\\u000b\\u000c\\u000e-\\u001f\\ufffe\\uffff]*$"
_BLANK = re.compile("(?s)" + BLANK.removesuffix("$") + "\\Z")


def is_blank(text: str) -> bool:
    return _BLANK.match(text) is not None


def word_cut_minimum(limit: int) -> int:
    """A word cut that keeps fewer characters than this (a title of one long word, text
    without spaces such as Chinese or Thai) is not used: the cut goes between characters."""
    return limit * 4 // 5


def shorten(text: str, limit: int) -> str:
    """The text within limit characters: cut after the last whole word that fits (spaces and
    joining punctuation before the cut trimmed), or, when that would keep too little of it,
    between two characters, never inside a grapheme cluster (a letter and its accents, an
    emoji sequence). xml_sql.shortened writes the same in SQL."""
    if len(text) <= limit:
        return text
    head = text[: limit + 1]  # one more: a space right after the limit ends a whole word
    match = _WORD_HEAD.match(head)
    if match:
        words = match.group(1).rstrip(TRIM_AFTER_CUT)
        if len(words) >= word_cut_minimum(limit):
            return words
    # head's last cluster is cut by the limit (or is the character past it): without it.
    # A text of one cluster longer than the limit (a letter under a pile of marks) has no
    # boundary inside: cut at the limit.
    return _cluster_tail_re().sub("", head, count=1) or text[:limit]


def label_column(slot: int) -> str:
    return f"custom_label_{slot}"


def base_columns(channel: str, *, label_slot: int | None) -> list[str]:
    """The columns of a channel's feed before rules: its template, then the flag label."""
    cols = list(SPECS[channel].columns)
    if label_slot is not None:
        cols.append(label_column(label_slot))
    return cols


# Currencies whose ISO 4217 minor unit is not 2 (ISO 4217 list one, "Minor unit" column;
# funds and metals codes without one are left at 2). Channels read "1200 JPY", not
# "1200.00 JPY". xml_sql writes prices with the same table.
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"], 0),
    **dict.fromkeys(["RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}
DEFAULT_MINOR_UNITS = 2

# ASCII letters only, so PostgreSQL (xml_sql: translate()) writes the same whatever its
# locale: upper() there and str.upper() here differ beyond ASCII ("ß").
LOWER_ASCII = "abcdefghijklmnopqrstuvwxyz"
_UPPER_ASCII = str.maketrans(LOWER_ASCII, LOWER_ASCII.upper())


def currency_code(currency: str) -> str:
    """The currency as channels read ISO 4217 codes: in capitals (a catalog's currency is
    saved as typed)."""
    return currency.translate(_UPPER_ASCII)


def minor_units(currency: str) -> int:
    """How many decimals a price in this ISO 4217 currency has (any letter case)."""
    return MINOR_UNITS.get(currency_code(currency), DEFAULT_MINOR_UNITS)


def written_amount(amount: Decimal | float, currency: str) -> Decimal:
    """The amount as a price writes it: in the currency's minor units, rounded half away
    from zero (as PostgreSQL's round()). A float is SQLite's numeric column read by raw SQL:
    its shortest text is the amount."""
    if not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), ROUND_HALF_UP)


def money(amount: Decimal | float | None, currency: str) -> str:
    """12.99 USD, 1200 JPY, 1.500 KWD: the number with the currency's minor units
    (`written_amount`), a space, the ISO 4217 code in capitals."""
    if amount is None:
        return ""
    value = written_amount(amount, currency)
    return f"{value + 0:f} {currency_code(currency)}"  # + 0: no "-0" where PostgreSQL has "0"


def on_sale(price: Decimal | float | None, sale_price: Decimal | float | None, cur: str) -> bool:
    """A sale price goes only when, as written, it is above zero and below the price: the
    channels refuse one equal to the price, and 1200.40 and 1200.00 JPY both read 1200 JPY
    (the review flags a sale price not below the price, sale_price_not_below_price)."""
    if sale_price is None or price is None:
        return False
    sale = written_amount(sale_price, cur)
    return 0 < sale < written_amount(price, cur)


# the columns that hold links: a rule may add Google's mobile_link
LINK_COLUMNS = ("link", "image_link", "mobile_link")
# values every channel requires that no writer fills in (empty availability is "in stock")
REQUIRED_VALUES = ("title", "description", "link")


def no_price(price: str) -> bool:
    """A price the channels refuse outright: none, or an amount not above zero as written
    ("0 JPY" for 0.40 JPY). A price a rule writes in another form is `value_problem`'s."""
    amount = price.strip(SPACES).split(" ", 1)[0]
    if not amount:
        return True
    try:
        return Decimal(amount) <= 0
    except ArithmeticError:
        return False


# A GTIN as the review reads it (ecr.rules.columns.gtin_check): spaces at its ends trimmed,
# spaces and hyphens inside dropped, then 8, 12, 13 or 14 digits. Both patterns are read by
# Python and PostgreSQL alike (xml_sql writes the same in SQL).
GTIN_SEPARATORS = " -"
GTIN_SHAPE = "^(?:[0-9]{8}|[0-9]{12,14})$"
_GTIN_SHAPE = re.compile(GTIN_SHAPE.removesuffix("$") + "\\Z")


def gtin_digits(gtin: str) -> str:
    """The GTIN as channels read it: "4006 3813 3393 1" (as printed under a barcode) is
    "4006381333931". A value that is not a GTIN written with separators goes as stored."""
    digits = gtin.strip(SPACES).translate(_NO_GTIN_SEPARATORS)
    return digits if _GTIN_SHAPE.match(digits) else gtin


_NO_GTIN_SEPARATORS = str.maketrans("", "", GTIN_SEPARATORS)

# Columns of one form, which the channel checks (Google disapproves "<g:price>call
# us</g:price>"): a rule setting one to junk is refused; an item a rule gave junk is left out.
RULE_CHECKED_COLUMNS = (
    "price",
    "sale_price",
    "availability",
    "condition",
    "availability_date",
    *LINK_COLUMNS,
)
CONDITIONS = ("new", "refurbished", "used")
_MONEY = re.compile(r"[0-9]+(?:\.[0-9]+)? [A-Z]{3}\Z")  # as `money` writes a price
_WEB_URL = re.compile(r"https?://[^/?#\s]", re.IGNORECASE)
# columns a rule may leave empty: an empty sale price is no sale, an empty mobile_link none,
# an empty availability_date none (an item that needs one is then left out)
_MAY_BE_EMPTY = ("sale_price", "mobile_link", "availability_date")


def availability_words(channel: str) -> tuple[str, ...]:
    """The availability values the channel reads, as item_builder writes them."""
    column = 0 if channel == GOOGLE else 1
    return tuple(dict.fromkeys(words[column] for words in _AVAILABILITY.values()))


def value_problem(channel: str, column: str, value: str) -> str | None:
    """Why the channel would refuse this value of a typed column (RULE_CHECKED_COLUMNS), as
    a sentence; None for a value it takes and for every other column."""
    if column not in RULE_CHECKED_COLUMNS or (not value and column in _MAY_BE_EMPTY):
        return None
    if column in ("price", "sale_price"):
        if not _MONEY.match(value):
            return (
                f"{column} must be an amount and a currency code, such as 12.99 USD "
                f"(got {value[:30]!r})."
            )
        if column == "price" and no_price(value):
            return f"price must be above zero (got {value[:30]!r})."
        return None
    if column == "availability":
        words = availability_words(channel)
        if value not in words:
            return f"availability is one of {', '.join(words)} (got {value[:30]!r})."
        return None
    if column == "condition":
        if value not in CONDITIONS:
            return f"condition is one of {', '.join(CONDITIONS)} (got {value[:30]!r})."
        return None
    if column == "availability_date":
        if SPECS[channel].dated_availability and not availability_date(value):
            return (
                "availability_date must be an ISO 8601 date and time, such as "
                f"2026-03-01T13:00-0800 (got {value[:30]!r})."
            )
        return None
    if not _WEB_URL.match(url(value)):
        return f"{column} must be an http or https URL (got {value[:30]!r})."
    return None


def rule_value_checker(
    channel: str, columns: Iterable[str]
) -> Callable[[dict[str, str]], bool] | None:
    """A function telling whether an item's values in these columns (the typed ones field
    rules wrote) are all ones the channel takes; None when the rules write no typed column,
    so the writers skip the call altogether. An empty value is judged elsewhere (no price,
    no image) or taken."""
    checked = [c for c in RULE_CHECKED_COLUMNS if c in set(columns)]
    if not checked:
        return None

    def valid(item: dict[str, str]) -> bool:
        for column in checked:
            value = item.get(column)
            if value and value_problem(channel, column, value) is not None:
                return False
        return True

    return valid


def availability_word(channel: str, value: str) -> str:
    words = _AVAILABILITY.get(value)
    if words is None:
        return "in stock" if not value else value.replace("_", " ")
    return words[0] if channel == GOOGLE else words[1]


def dated_values(channel: str) -> tuple[str, ...]:
    """Our availability values the channel requires an availability_date with (as words of
    its own: ChannelSpec.dated_availability); none where it requires none."""
    dated = SPECS[channel].dated_availability
    return tuple(ours for ours in _AVAILABILITY if availability_word(channel, ours) in dated)


def flag_label(status: str | None) -> str:
    """What custom_label_N says: the words campaigns filter on."""
    return status if status in ("impacted", "at_risk") else ""


def _json(value: Any, default: Any) -> Any:
    if value is None:
        return default
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return default
    return value


def _attr_text(value: Any) -> str:
    """A custom attribute as text, as PostgreSQL's ->> gives it (xml_sql's fast path), in
    NFC."""
    if value is None:
        return ""
    if isinstance(value, str):
        return nfc(value)
    return nfc(json.dumps(value, ensure_ascii=False))


# Values that go as stored, never in NFC: codes the channel and the seller's systems match
# byte for byte (ids, part numbers, GTINs) and links, whose bytes the server reads. Every
# other text goes in NFC.
AS_STORED = (*LINK_COLUMNS, "additional_image_link", "item_group_id", "gtin", "mpn")


def item_builder(
    channel: str, *, catalog_currency: str, label_slot: int | None
) -> Callable[[tuple], dict[str, str]]:
    """A function turning one product row (ROW_COLUMNS order) into a channel item."""
    id_col = SPECS[channel].id_column
    label_col = label_column(label_slot) if label_slot is not None else None
    google, meta = channel == GOOGLE, channel == META
    dated = dated_values(channel)

    def build(row: tuple) -> dict[str, str]:
        (
            _pk,
            sku,
            item_group_id,
            title,
            description,
            link,
            image_link,
            extra_images,
            brand,
            gtin,
            mpn,
            condition,
            availability,
            price,
            sale_price,
            currency,
            product_type,
            category,
            custom,
            flag_status,
        ) = row
        cur = currency or catalog_currency
        sale = on_sale(price, sale_price, cur)
        images = _json(extra_images, [])
        attrs = _json(custom, {})
        words = _AVAILABILITY.get(availability)
        item = {
            id_col: sku,
            "title": nfc(title) if title else "",
            "description": nfc(description) if description else "",
            "link": url(link) if link else "",
            "image_link": url(image_link) if image_link else "",
            "availability": (words[0] if google else words[1])
            if words
            else availability_word(channel, availability or ""),
            "price": money(price, cur),
            "condition": nfc(condition) if condition else "new",
            "brand": nfc(brand) if brand else "",
            "additional_image_link": image_list(images) if images else "",
            "sale_price": money(sale_price, cur) if sale else "",
            # only with a sale price: a window without one says nothing a channel can use
            # (Google ignores it, others flag it)
            "sale_price_effective_date": _attr_text(attrs.get("sale_price_effective_date"))
            if attrs and sale
            else "",
            "item_group_id": item_group_id or "",
            "google_product_category": nfc(category) if category else "",
            "product_type": nfc(product_type) if product_type else "",
            "gtin": gtin_digits(gtin) if gtin else "",
            "mpn": mpn or "",
        }
        if google:
            # the date a preorder or backorder ships (an imported feed's column, kept as a
            # custom attribute); said of a product in stock it means nothing
            item["availability_date"] = (
                availability_date(_attr_text(attrs.get("availability_date")))
                if attrs and availability in dated
                else ""
            )
        if meta:
            item["fb_product_category"] = (
                _attr_text(attrs.get("fb_product_category")) if attrs else ""
            )
        if label_col is not None:
            item[label_col] = flag_label(flag_status)
        return item

    return build


def item_fitter(
    channel: str, *, after_rules: bool = False
) -> Callable[[dict[str, str]], dict[str, str] | None]:
    """A function giving an item (after the feed's rules) as the channel takes it: texts in
    NFC (item_builder writes them so; after rules, which may add any text, again here),
    links as `url` writes them (again after rules), texts over the channel's limits shortened,
    additional image URLs over its limit left out and the first images up to its count kept
    (empty ones are no image), None for an item the channel would refuse (no price above
    zero, no image, no title, description or link, no brand (nor GTIN or MPN on Meta) where
    one is required, a value that cannot be shortened over its limit, no availability date
    where the availability needs one)."""
    spec = SPECS[channel]
    limits = list(spec.text_limits.items())
    value_limits = list(spec.value_limits.items())
    image_limit = spec.image_url_limit
    image_count = spec.image_count
    brand_required = spec.brand_required
    dated = spec.dated_availability
    as_stored = {spec.id_column, *AS_STORED}

    def fit(item: dict[str, str]) -> dict[str, str] | None:
        if after_rules:
            for col, value in item.items():
                if col not in as_stored and value and not value.isascii():
                    item[col] = nfc(value)
            for col in LINK_COLUMNS:
                if item.get(col):
                    item[col] = url(item[col])
            if item.get("additional_image_link"):
                item["additional_image_link"] = image_list(item["additional_image_link"].split(","))
            # as Google takes it; a value that is no date stays, for rule_value_checker
            if dated and item.get("availability_date"):
                item["availability_date"] = (
                    availability_date(item["availability_date"]) or item["availability_date"]
                )
        if no_price(item.get("price") or "") or not item.get("image_link"):
            return None
        if brand_required and all(is_blank(item.get(c) or "") for c in brand_required):
            return None
        if any(is_blank(item.get(c) or "") for c in REQUIRED_VALUES):
            return None
        if dated and item.get("availability") in dated and not item.get("availability_date"):
            return None
        for col, limit in value_limits:
            value = item.get(col)
            if value and len(value) > limit:
                return None
        for col, limit in limits:
            value = item.get(col)
            if value and len(value) > limit:
                item[col] = shorten(value, limit)
        images = item.get("additional_image_link")
        if images and (
            (image_limit is not None and len(images) > image_limit)
            or (image_count is not None and images.count(",") >= image_count)
        ):
            urls = [
                u for u in images.split(",") if u and (image_limit is None or len(u) <= image_limit)
            ]
            item["additional_image_link"] = ",".join(urls[:image_count])
        return item

    return fit
