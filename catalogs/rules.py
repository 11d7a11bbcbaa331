"""Pure validation of seller edits, of the ids and tracking numbers sellers paste, of the
dates of orders and impressions, and of what an image link points at (no ORM): tables of
cases test them."""

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

EDITABLE_FIELDS = ("inventory_quantity", "price", "sale_price", "shipping_fee", "availability")
MAX_MONEY = Decimal("999999999999.99")
MAX_INVENTORY = 2_147_483_647  # the column's range (a PostgreSQL integer)


def product_edit_errors(values: dict) -> dict[str, str]:
    """Errors keyed by field for the merged (current + edited) values of a product."""
    errors: dict[str, str] = {}
    price, sale = values.get("price"), values.get("sale_price")
    qty, ship = values.get("inventory_quantity"), values.get("shipping_fee")
    if price is not None and price <= 0:
        errors["price"] = "Price must be greater than zero."
    elif price is not None and price > MAX_MONEY:
        errors["price"] = "Price is too large."
    if sale is not None:
        if sale <= 0:
            errors["sale_price"] = "Sale price must be greater than zero, or left empty."
        elif price is None:
            errors["sale_price"] = "Set a price before a sale price."
        elif sale >= price:
            errors["sale_price"] = "Sale price must be lower than the price."
    if qty is not None and qty < 0:
        errors["inventory_quantity"] = "Inventory cannot be negative."
    elif qty is not None and qty > MAX_INVENTORY:
        errors["inventory_quantity"] = f"Inventory is at most {MAX_INVENTORY:,}."
    if ship is not None and ship < 0:
        errors["shipping_fee"] = "Shipping fee cannot be negative."
    if ship is not None and ship > MAX_MONEY:
        errors["shipping_fee"] = "Shipping fee is too large."
    if values.get("availability") == "in_stock" and qty == 0:
        errors["availability"] = (
            "A product with zero inventory cannot be In stock: raise the inventory "
            "or set it Out of stock."
        )
    return errors


def product_edit_refusal(removed_at: datetime | None, *, time_zone: str) -> str | None:
    """Why a product may not be edited at all, or None. A product its feed removed is in no
    channel feed, score or API listing, so an edit would show nowhere, and the feed's values
    replace it if the product comes back: the page shows it read-only, every entry refuses.
    The day is the tenant's (time_zone), as the product page shows it."""
    if removed_at is None:
        return None
    removed_on = removed_at.astimezone(ZoneInfo(time_zone)).date()
    return (
        f"The feed removed this product on {removed_on.isoformat()}: a removed product "
        "cannot be edited. If the feed lists it again, it comes back with the feed's "
        "values, so change them in the feed."
    )


# --- Invisible characters in what sellers paste ------------------------------------------------
# One rule for every place a tracking number is entered (Mark shipped, the API, order files,
# Django admin), listed (Manage Orders' "Shipped without tracking") and scored (flagged's
# valid tracking rate); an order's id and SKU keep to its trimming and refusal, since one
# holding an invisible character matches no order and no product, and so does a catalog's
# name, which would show as an empty or garbled link.

# Unicode's control and format characters (Cc, Cf: C0 and C1 controls, DEL, zero-width and
# direction marks, the byte order mark, tags …) and the line and paragraph separators (Zl,
# Zp), as of Unicode 14; catalogs/tests/test_tracking_number.py checks the list against
# ``unicodedata``. No carrier prints one in a tracking number, no shop in an order id or SKU:
# a value holding one was damaged on its way (a spreadsheet, a copy from a web page) and
# would not scan or match. NUL is left out: PostgreSQL neither stores nor matches it (entry
# refuses it, ``REFUSED``).
INVISIBLE = (
    r"\u0001-\u001f\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    r"\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    r"\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    r"\U000e0001\U000e0020-\U000e007f"
)
# Unicode's other white space (Zs): blank, but harmless around or between the characters.
BLANK = r"\u0020\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
# What entry refuses inside a value (a character class's contents, as INVISIBLE and BLANK)
REFUSED = rf"\x00{INVISIBLE}"
# A valid tracking number: no invisible character, and at least one that is not blank. Read
# by Python, PostgreSQL (``~``) and SQLite (Django's REGEXP, Python's ``re``) alike.
TRACKING_VALID_PATTERN = rf"\A[^{INVISIBLE}]*[^{BLANK}{INVISIBLE}][^{INVISIBLE}]*\Z"
MAX_TRACKING = 64  # the column's length

_OUTER = re.compile(rf"\A[{BLANK}{REFUSED}]+|[{BLANK}{REFUSED}]+\Z")
_REFUSED = re.compile(f"[{REFUSED}]")
# Controls have no Unicode name: the ones a seller may meet, named as editors name them
_CONTROL_NAMES = {
    "\x00": "NULL",
    "\t": "TAB",
    "\n": "LINE FEED",
    "\r": "CARRIAGE RETURN",
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
}


def invisible_trim(text: str) -> str:
    """The text without outer blanks and invisible characters: the junk exports and copies
    carry around a value (TikTok's trailing tab, a spreadsheet's byte order mark, a web
    page's direction marks) goes, as outer spaces always did. "" when nothing else is left."""
    return _OUTER.sub("", text)


# The zero-width non-joiner and joiner shape the letters of Persian and Indic words and join
# emoji sequences (a family: man, ZWJ, woman, ZWJ, girl): inside text a person reads (a
# catalog's name), they are part of it; inside an id or a tracking number they are damage.
TEXT_JOINERS = frozenset("\u200c\u200d")


def invisible_character_named(text: str, allowed: frozenset[str] = frozenset()) -> str | None:
    """The first invisible character of a text but those ``allowed``, named with where it
    is, since the seller cannot see it ("U+200B ZERO WIDTH SPACE at character 3"), or None."""
    for found in _REFUSED.finditer(text):
        c = found.group()
        if c in allowed:
            continue
        name = _CONTROL_NAMES.get(c) or unicodedata.name(c, "CONTROL CHARACTER")
        return f"U+{ord(c):04X} {name} at character {found.start() + 1}"
    return None


def identifier_error(text: str, *, max_length: int) -> str | None:
    """What is wrong with a trimmed order id or SKU, or None: too long, or an invisible
    character inside it, named. "" is no error here: each entry says it is required."""
    return _pasted_text_error(text, max_length, "no id holds: type it again")


MAX_CATALOG_NAME = 200  # the column's length


def catalog_name_error(name: str) -> str | None:
    """What is wrong with a trimmed catalog name, or None: too long, or an invisible
    character inside it (but the joiners of written words, TEXT_JOINERS), named. "" is no
    error here: each entry says it is required."""
    return _pasted_text_error(
        name, MAX_CATALOG_NAME, "no catalog name needs: type it again", allowed=TEXT_JOINERS
    )


def tracking_number_error(number: str) -> str | None:
    """What is wrong with a cleaned tracking number, or None: too long, or an invisible
    character inside it, named. "" is no error here: each entry decides whether a line may
    have none."""
    return _pasted_text_error(number, MAX_TRACKING, "no carrier prints: type the number again")


def _pasted_text_error(
    text: str, max_length: int, advice: str, allowed: frozenset[str] = frozenset()
) -> str | None:
    if len(text) > max_length:
        return f"is longer than {max_length} characters"
    named = invisible_character_named(text, allowed)
    if named is None:
        return None
    return f"contains {named}, an invisible character {advice}"


def entry_refusal(label: str, text: str, error: str) -> str:
    """A refusal as the forms say it: the field, the value as typed, what is wrong."""
    return f"{label} {text[:40]!r} {error}."


# --- Dates in the future -----------------------------------------------------------------------
# One rule for every entry of order lines and daily impressions (order files of every format,
# the app's CSV, the bulk API, Django admin). An order placed, shipped, delivered or cancelled,
# or impressions counted, later than now is a typo in the year or a day and month read the
# wrong way (12/11): stored, it would put impressions past today on the Flagged detail graph,
# orders into scoring windows that have not happened and shipments into the metrics timed by
# them (late dispatch, valid tracking).

# How far past now a date is still taken: a marketplace in another time zone may already be
# on tomorrow, and clocks drift.
FUTURE_ALLOWANCE = timedelta(days=1)
_FUTURE_ADVICE = "check the year, and whether day and month were swapped"


@dataclass(frozen=True)
class FutureLimit:
    """The latest an order line may be placed (shipped …) and a day of impressions dated,
    seen from one moment (now) in the tenant's time zone: one limit for a whole file or
    request."""

    latest_time: datetime  # now plus the allowance, in the tenant's time zone
    latest_day: date  # the tenant's tomorrow


def future_limit(*, now: datetime, time_zone: str) -> FutureLimit:
    zone = ZoneInfo(time_zone)
    return FutureLimit(
        latest_time=(now + FUTURE_ALLOWANCE).astimezone(zone),
        latest_day=now.astimezone(zone).date() + FUTURE_ALLOWANCE,
    )


def future_time_error(moment: datetime, *, limit: FutureLimit) -> str | None:
    """Why an order line placed (shipped, delivered, cancelled) at moment is refused, naming
    it in the tenant's time zone, or None."""
    if moment <= limit.latest_time:
        return None
    zone = limit.latest_time.tzinfo
    shown = moment.astimezone(zone)
    return (
        f"{shown:%Y-%m-%d %H:%M} is in the future: after {limit.latest_time:%Y-%m-%d %H:%M} "
        f"({zone}), a day from now; {_FUTURE_ADVICE}"
    )


def ship_by_due(start, *, handling_days: int):
    """When an order line without a ship-by of its own must ship: its paid (else placed)
    time plus its catalog's handling time. ``start`` is a datetime or a pandas Series of
    them (timedelta arithmetic is the same on both)."""
    return start + timedelta(days=handling_days)


# The times of an order line that tell what has happened to it: none can be later than now.
# Its ship-by is when it is due, ahead of every open order: not checked.
HAPPENED_TIMES = ("placed_at", "shipped_at", "delivered_at", "cancelled_at")


def future_times_errors(
    times: Mapping[str, datetime | None], *, limit: FutureLimit
) -> dict[str, str]:
    """Why each of an order line's HAPPENED_TIMES is refused, by field (those given and later
    than the limit): the rule of every entry of order lines."""
    errors = {}
    for name in HAPPENED_TIMES:
        moment = times.get(name)
        error = moment and future_time_error(moment, limit=limit)
        if error:
            errors[name] = error
    return errors


def future_day_error(day: date, *, limit: FutureLimit) -> str | None:
    """Why impressions dated day are refused (later than the tenant's tomorrow), or None."""
    if day <= limit.latest_day:
        return None
    return (
        f"{day.isoformat()} is in the future: after {limit.latest_day.isoformat()} "
        f"({limit.latest_time.tzinfo}), tomorrow; {_FUTURE_ADVICE}"
    )


# --- Whose order line or impression ------------------------------------------------------------
# Every entry of order lines and impressions resolves the product by its SKU within the
# tenant and the catalog, so a line is one tenant's, in one of its catalogs, of one of that
# catalog's products, and carries the product's SKU. Django admin, where all four are typed,
# is held to the same: a mismatch would file one tenant's sales under another's catalog or
# product, scored and graphed there.


def sales_row_link_errors(
    *, tenant_id: int, tenant_name: str, catalog, product, sku: str
) -> dict[str, str]:
    """Errors keyed by field for a line's tenant, catalog (tenant_id, pk, name) and product
    (pk, tenant_id, catalog_id, sku), read from those attributes only; {} when they belong
    together."""
    if catalog.tenant_id != tenant_id:
        return {
            "catalog": f"{catalog.name} is another tenant's catalog: choose one of "
            f"{tenant_name}'s catalogs."
        }
    if (product.tenant_id, product.catalog_id) != (catalog.tenant_id, catalog.pk):
        return {
            "product": f"Product {product.pk} ({product.sku}) is not in {catalog.name}: "
            f"choose one of {catalog.name}'s products."
        }
    if product.sku != sku:
        return {
            "sku": f"The product's SKU is {product.sku!r}: give it, or choose the product of "
            f"SKU {sku!r}."
        }
    return {}


# The path (before any ? or #) ends in an image type: the rule for an image link, which
# review applies to whole columns in RE2 (ecr.rules.columns) and pages to one link.
IMAGE_PATH_PATTERN = r"(?i)^[^#?]*\.(?:jpe?g|png|gif|webp|bmp|tiff?)(?:[#?]|$)"
IMAGE_PATH_RE = re.compile(IMAGE_PATH_PATTERN)


def image_link_is_image(link: str) -> bool:
    """Whether a page may show ``link`` as a picture: an image type, as review requires. A
    link review refuses (a .pdf, a product page) is not requested: it would fail as an
    image, or load a whole document, for a tile the seller cannot read anyway."""
    return bool(IMAGE_PATH_RE.match(link.strip()))
