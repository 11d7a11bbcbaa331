"""Pure validation of seller edits and tracking numbers (no ORM): tables of cases test them."""

import re
import unicodedata
from decimal import Decimal

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


# --- Tracking numbers ------------------------------------------------------------------------
# One rule for every place a tracking number is entered (Mark shipped, the API, order files),
# listed (Manage Orders' "Shipped without tracking") and scored (flagged's valid tracking rate).

# Unicode's control and format characters (Cc, Cf: C0 and C1 controls, DEL, zero-width and
# direction marks, the byte order mark, tags …) and the line and paragraph separators (Zl,
# Zp), as of Unicode 14; catalogs/tests/test_tracking_number.py checks the list against
# ``unicodedata``. No carrier prints one in a tracking number: a number holding one was
# damaged on its way (a spreadsheet, a copy from a web page) and would not scan. NUL is left
# out: PostgreSQL neither stores nor matches it (entry refuses it, ``_REFUSED``).
INVISIBLE = (
    r"\u0001-\u001f\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    r"\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    r"\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    r"\U000e0001\U000e0020-\U000e007f"
)
# Unicode's other white space (Zs): blank, but harmless around or between the characters.
BLANK = r"\u0020\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
# A valid tracking number: no invisible character, and at least one that is not blank. Read
# by Python, PostgreSQL (``~``) and SQLite (Django's REGEXP, Python's ``re``) alike.
TRACKING_VALID_PATTERN = rf"\A[^{INVISIBLE}]*[^{BLANK}{INVISIBLE}][^{INVISIBLE}]*\Z"
MAX_TRACKING = 64  # the column's length

_OUTER = re.compile(rf"\A[\x00{BLANK}{INVISIBLE}]+|[\x00{BLANK}{INVISIBLE}]+\Z")
_REFUSED = re.compile(rf"[\x00{INVISIBLE}]")
# Controls have no Unicode name: the ones a seller may meet, named as editors name them
_CONTROL_NAMES = {
    "\x00": "NULL",
    "\t": "TAB",
    "\n": "LINE FEED",
    "\r": "CARRIAGE RETURN",
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
}


def tracking_number_clean(number: str) -> str:
    """The number without outer blanks and invisible characters: the junk exports and copies
    carry around a number (TikTok's trailing tab, a spreadsheet's byte order mark, a web
    page's direction marks) goes, as outer spaces always did. "" when nothing else is left:
    the line has none."""
    return _OUTER.sub("", number)


def tracking_number_error(number: str) -> str | None:
    """What is wrong with a cleaned tracking number, or None: too long, or an invisible
    character inside it, named, since the seller cannot see it. "" is no error here: each
    entry decides whether a line may have none."""
    if len(number) > MAX_TRACKING:
        return f"is longer than {MAX_TRACKING} characters"
    found = _REFUSED.search(number)
    if found is None:
        return None
    c = found.group()
    name = _CONTROL_NAMES.get(c) or unicodedata.name(c, "CONTROL CHARACTER")
    return (
        f"contains U+{ord(c):04X} {name} at character {found.start() + 1}, an invisible "
        "character no carrier prints: type the number again"
    )
