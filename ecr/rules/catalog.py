"""What review checks: the issue codes with their severity, field, title and fix, the
policy-term kinds and the value lists the rules use. No ORM, no Arrow: the engine
(:mod:`ecr.rules.engine`) applies these over columns.

Severity follows Google Merchant Center's practice: an ``error`` stops delivery
(the product becomes Unavailable), a ``warning`` does not. The rule set is seeded
from Merchant Center's data requirements, the published TikTok catalog issue list
(duplicate ids, image type, http(s) links, variants without ``item_group_id``,
emojis in titles) and google/shoptimizer's identifier checks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)

# Term kinds (PolicyTerm.kind in the models).
PROHIBITED = "prohibited"
RESTRICTED = "restricted"
DENIED_CLAIM = "denied_claim"


class Issue(NamedTuple):
    """One finding of review."""

    code: str
    severity: str
    field: str
    message: str
    how_to_fix: str
    rule: str


class RuleInfo(NamedTuple):
    """Static description of an issue code (shown in Diagnostics and the API)."""

    code: str
    severity: str
    field: str
    title: str
    how_to_fix: str
    group: str  # data | tiktok | identifiers | policy


def _r(code: str, severity: str, fld: str, title: str, fix: str, group: str) -> RuleInfo:
    return RuleInfo(code, severity, fld, title, fix, group)


REQUIRED_FIELDS = ("sku", "title", "description", "link", "image_link", "availability", "price")
_FIELD_LABEL = {
    "sku": "id",
    "title": "title",
    "description": "description",
    "link": "link",
    "image_link": "image link",
    "availability": "availability",
    "price": "price",
}

RULES: dict[str, RuleInfo] = {
    r.code: r
    for r in [
        *(
            _r(
                f"missing_{f}",
                ERROR,
                f,
                f"Missing {_FIELD_LABEL[f]}",
                f"Fill in the {_FIELD_LABEL[f]} in your feed or on the product page.",
                "data",
            )
            for f in REQUIRED_FIELDS
        ),
        _r(
            "link_invalid",
            ERROR,
            "link",
            "Product link is not a valid URL",
            "Use a full address of the product page, like https://shop.example/products/123.",
            "data",
        ),
        _r(
            "link_not_http",
            ERROR,
            "link",
            "Product link does not start with http:// or https://",
            "Point the link to your web shop's product page over http(s).",
            "tiktok",
        ),
        _r(
            "image_link_invalid",
            ERROR,
            "image_link",
            "Image link is not a valid URL",
            "Use a full address of the image, like https://shop.example/img/123.jpg.",
            "data",
        ),
        _r(
            "image_link_not_http",
            ERROR,
            "image_link",
            "Image link does not start with http:// or https://",
            "Host the image on a web server and link it over http(s).",
            "tiktok",
        ),
        _r(
            "image_link_not_image_type",
            ERROR,
            "image_link",
            "Image link does not end in an image type",
            "Link the image file itself, ending in .jpg, .jpeg, .png, .gif, .webp, .bmp or .tiff.",
            "tiktok",
        ),
        _r(
            "additional_image_link_invalid",
            WARNING,
            "additional_image_links",
            "Additional image link is not an http(s) link to an image",
            "Fix or remove the additional image links that are not http(s) links to image files.",
            "tiktok",
        ),
        _r(
            "price_not_positive",
            ERROR,
            "price",
            "Price is zero or negative",
            "Set a price above zero.",
            "data",
        ),
        _r(
            "sale_price_not_positive",
            ERROR,
            "sale_price",
            "Sale price is zero or negative",
            "Set a sale price above zero and below the regular price, or remove the sale price.",
            "data",
        ),
        _r(
            "sale_price_not_below_price",
            ERROR,
            "sale_price",
            "Sale price is not below the price",
            "Set a sale price lower than the regular price, or remove the sale price.",
            "data",
        ),
        _r(
            "currency_mismatch",
            ERROR,
            "currency",
            "Currency does not match the catalog",
            "Give prices in the catalog's currency.",
            "data",
        ),
        _r(
            "title_too_long",
            ERROR,
            "title",
            "Title is too long",
            "Shorten the title; put the details in the description.",
            "data",
        ),
        _r(
            "description_too_long",
            ERROR,
            "description",
            "Description is too long",
            "Shorten the description.",
            "data",
        ),
        _r(
            "availability_invalid",
            ERROR,
            "availability",
            "Availability value is not recognised",
            "Use one of: in stock, out of stock, preorder, backorder, discontinued.",
            "data",
        ),
        _r(
            "condition_invalid",
            WARNING,
            "condition",
            "Condition value is not recognised",
            "Use one of: new, refurbished, used.",
            "data",
        ),
        _r(
            "shipping_fee_negative",
            ERROR,
            "shipping_fee",
            "Shipping fee is negative",
            "Set a shipping fee of zero or more.",
            "data",
        ),
        _r(
            "inventory_negative",
            WARNING,
            "inventory_quantity",
            "Inventory quantity is negative",
            "Set the stock count to zero or more.",
            "data",
        ),
        _r(
            "gtin_invalid",
            ERROR,
            "gtin",
            "GTIN is not valid",
            "Copy the GTIN (the barcode: 8, 12, 13 or 14 digits) exactly from the packaging.",
            "identifiers",
        ),
        _r(
            "gtin_reserved",
            WARNING,
            "gtin",
            "GTIN uses a reserved range",
            "GTINs starting with 2 (store-internal) or 98/99 (coupons) don't identify a "
            "product; use the manufacturer's GTIN or leave it empty.",
            "identifiers",
        ),
        _r(
            "identifier_missing",
            WARNING,
            "gtin",
            "Brand is set but there is no GTIN or MPN",
            "Add the product's GTIN, or its MPN if it has no GTIN.",
            "identifiers",
        ),
        _r(
            "brand_missing",
            WARNING,
            "brand",
            "GTIN is set but the brand is missing",
            "Add the manufacturer's brand name.",
            "identifiers",
        ),
        _r(
            "duplicate_id",
            ERROR,
            "sku",
            "Another product has the same id",
            "Give every product its own id; variants share item_group_id, not id.",
            "tiktok",
        ),
        _r(
            "variant_missing_item_group_id",
            WARNING,
            "item_group_id",
            "Variant has no item_group_id",
            "Give all variants (sizes, colours …) of one product the same item_group_id.",
            "tiktok",
        ),
        _r(
            "title_has_emoji",
            WARNING,
            "title",
            "Title contains emojis",
            "Remove emojis and symbols from the title.",
            "tiktok",
        ),
        _r(
            "policy_prohibited_term",
            ERROR,
            "title",
            "Prohibited term",
            "Remove the term. Products of this kind can't be advertised.",
            "policy",
        ),
        _r(
            "policy_restricted_term",
            WARNING,
            "title",
            "Restricted term",
            "Check that the product complies with the policy for this category, or reword it.",
            "policy",
        ),
        _r(
            "policy_denied_claim",
            ERROR,
            "description",
            "Claim on the denied list",
            "Remove the claim; ads may not promise this.",
            "policy",
        ),
        _r(
            "policy_all_caps_title",
            WARNING,
            "title",
            "Title is written in capital letters",
            "Write the title in sentence or title case.",
            "policy",
        ),
        _r(
            "policy_excessive_punctuation",
            WARNING,
            "title",
            "Title has excessive punctuation",
            "Remove repeated punctuation such as !!! or ???.",
            "policy",
        ),
    ]
}


# --- values and helpers shared by the engine and admin validation ----------------

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")
AVAILABILITY_VALUES = frozenset(
    {"in stock", "out of stock", "preorder", "backorder", "discontinued"}
)
CONDITION_VALUES = frozenset({"new", "refurbished", "used"})
# Attributes whose presence makes a product a variant of a larger product.
VARIANT_ATTRIBUTES = frozenset({"color", "colour", "size", "material", "pattern", "age_group"})
_WORD_RE = re.compile(r"\w+")


def tokenize(text: str) -> list[str]:
    """Words of ``text``, case-folded: the unit policy terms match on. A term is its words;
    anything between them (spaces, punctuation, regex metacharacters) only separates. (The
    engine's words of a term, ``columns.words_text``, also keep combining marks and drop
    invisible characters; a term has words for both or for neither.)"""
    return _WORD_RE.findall(unicodedata.normalize("NFKC", text).casefold())


def plural_forms(word: str) -> list[str]:
    """The plurals a policy term's last word also matches as (English: "gun" -> "guns",
    "glass" -> "glasses", "lottery" -> "lotteries"). Words of fewer than three letters and
    words with a digit have none: "xl" is not to find "xls", nor "1" "1s"."""
    if len(word) < 3 or not word.isalpha():
        return []
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return [word + "es"]
    if word.endswith("y") and word[-2] not in "aeiou":
        return [word[:-1] + "ies"]
    return [word + "s"]


@dataclass(frozen=True)
class PolicyTermSpec:
    """One entry of the policy lists: a prohibited/restricted term or a denied claim."""

    term: str
    kind: str  # prohibited | restricted | denied_claim
    category: str = ""
    severity: str = ERROR
    how_to_fix: str = ""


def normalize_id(sku: Any) -> str:
    """The form in which two product ids count as the same (TikTok: duplicate ids)."""
    return str(sku or "").strip().lower()


def find_duplicate_ids(skus: Iterable[Any]) -> frozenset[str]:
    """Normalised ids that occur more than once."""
    seen: set[str] = set()
    dup: set[str] = set()
    for s in skus:
        n = normalize_id(s)
        if not n:
            continue
        if n in seen:
            dup.add(n)
        else:
            seen.add(n)
    return frozenset(dup)
