"""Review rules: pure functions over a plain product mapping.

No ORM and no Django settings here, so a table of cases can test every rule and
the bulk review can call :func:`review_product` a million times cheaply.

A product is a mapping with the field names of ``catalogs.Product`` (``sku``,
``title``, ``description``, ``link``, ``image_link``, ``additional_image_links``,
``brand``, ``gtin``, ``mpn``, ``condition``, ``availability``, ``price``,
``sale_price``, ``currency``, ``shipping_fee``, ``inventory_quantity``,
``item_group_id``, ``product_type``, ``google_product_category``,
``custom_attributes``). Missing keys count as empty.

Severity follows Google Merchant Center's practice: an ``error`` stops delivery
(the product becomes Unavailable), a ``warning`` does not. The rule set is seeded
from Merchant Center's data requirements, the published TikTok catalog issue list
(duplicate ids, image type, http(s) links, variants without ``item_group_id``,
emojis in titles) and google/shoptimizer's identifier checks.

Speed: everything the rules need (regexes, term lookup tables) is compiled once
into a :class:`ReviewContext`; :func:`review_product` does one pass over the
product and allocates only for the issues it finds. Policy terms are matched by
tokenising the text into words once and intersecting with a set, so the cost does
not grow with the number of terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
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


# --- compiled helpers -------------------------------------------------------

_URL_RE = re.compile(
    r"(?:[a-z][a-z0-9+.-]*)://"  # scheme
    r"(?:[^\s/?#@]+@)?"  # userinfo
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    r"|\[[0-9a-f:.]+\])"  # host name or [IPv6]
    r"(?::\d{1,5})?"  # port
    r"(?:[/?#]\S*)?",
    re.IGNORECASE,
)
_SCHEME_RE = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")
# Emoji and pictographic symbols (incl. flags, variation selector 16 and ZWJ).
_EMOJI_RE = re.compile(
    "[\U0001f000-\U0001faff\U0001f1e6-\U0001f1ff\u2600-\u27bf\u2b00-\u2bff"
    "\u231a\u231b\u23e9-\u23fa\ufe0f\u200d]"
)
# "!!", "??", "?!", "$$$", "***", "....": more than an ellipsis or one mark.
_PUNCT_RE = re.compile(r"[!?¡¿]{2,}|([*#$%@~^=+|<>_])\1{2,}|\.{4,}|,{2,}")
_WORD_RE = re.compile(r"\w+")
AVAILABILITY_VALUES = frozenset(
    {"in stock", "out of stock", "preorder", "backorder", "discontinued"}
)
CONDITION_VALUES = frozenset({"new", "refurbished", "used"})
# Attributes whose presence makes a product a variant of a larger product.
VARIANT_ATTRIBUTES = frozenset({"color", "colour", "size", "material", "pattern", "age_group"})


def tokenize(text: str) -> list[str]:
    """Words of ``text``, case-folded (the unit that policy terms match on)."""
    return _WORD_RE.findall(text.casefold())


@dataclass(frozen=True)
class PolicyTermSpec:
    """One entry of the policy lists: a prohibited/restricted term or a denied claim."""

    term: str
    kind: str  # prohibited | restricted | denied_claim
    category: str = ""
    severity: str = ERROR
    how_to_fix: str = ""


@dataclass
class ReviewContext:
    """Everything the rules need besides the product, compiled once per review run."""

    currency: str = ""
    terms: Sequence[PolicyTermSpec] = ()
    title_max_length: int = 150
    description_max_length: int = 5000
    caps_min_letters: int = 8
    duplicate_ids: frozenset[str] = frozenset()
    # Compiled lookup tables, built in __post_init__.
    _single: dict[str, PolicyTermSpec] = field(default_factory=dict, init=False, repr=False)
    _multi: dict[str, list[tuple[tuple[str, ...], PolicyTermSpec]]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        self.currency = (self.currency or "").strip().upper()
        for spec in self.terms:
            words = tuple(tokenize(spec.term))
            if not words:
                continue
            if len(words) == 1:
                self._single.setdefault(words[0], spec)
            else:
                self._multi.setdefault(words[0], []).append((words, spec))
        self._single_keys = frozenset(self._single)
        self._multi_keys = frozenset(self._multi)
        self.has_terms = bool(self._single or self._multi)

    def match_terms(self, words: list[str]) -> list[PolicyTermSpec]:
        """Policy entries whose words appear, in order and whole, in ``words``."""
        found: list[PolicyTermSpec] = []
        ws = set(words)
        for w in ws & self._single_keys:
            found.append(self._single[w])
        if ws & self._multi_keys:
            seen: set[str] = set()
            for i, w in enumerate(words):
                for seq, spec in self._multi.get(w, ()):
                    if spec.term not in seen and tuple(words[i : i + len(seq)]) == seq:
                        seen.add(spec.term)
                        found.append(spec)
        return found


def normalize_id(sku: Any) -> str:
    """The form in which two product ids count as the same (TikTok: duplicate ids)."""
    return str(sku or "").strip().casefold()


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


# --- single-field checks (also used directly by tests) ----------------------


def gtin_check_digit_ok(gtin: str) -> bool:
    """GS1 mod-10 check digit of an 8/12/13/14-digit GTIN."""
    if not gtin.isascii() or not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        return False
    # Weights 3,1,3,... from the digit left of the check digit.
    total = 3 * sum(map(int, gtin[-2::-2])) + sum(map(int, gtin[-3::-2]))
    return (10 - total % 10) % 10 == ord(gtin[-1]) - 48


def gtin_problem(gtin: str) -> str | None:
    """``None`` when the GTIN is fine, else the issue code."""
    g = gtin.strip().replace(" ", "").replace("-", "")
    if not gtin_check_digit_ok(g) or not g.strip("0"):
        return "gtin_invalid"
    g13 = g.zfill(14)[1:]
    if len(g) > 8 and (g13.startswith("2") or g13.startswith(("98", "99"))):
        return "gtin_reserved"
    return None


def url_problem(url: str, *, image: bool = False) -> str | None:
    """``None`` for a well-formed http(s) URL (to an image type when ``image``), else a
    suffix: ``invalid``, ``not_http`` or ``not_image_type``."""
    u = url.strip()
    m = _SCHEME_RE.match(u)
    if m and m.group(1).lower() not in ("http", "https"):
        return "not_http"
    if not m or not _URL_RE.fullmatch(u):
        return "invalid"
    if image:
        path = u.split("#", 1)[0].split("?", 1)[0].lower()
        if not path.endswith(IMAGE_EXTENSIONS):
            return "not_image_type"
    return None


def to_decimal(value: Any) -> Decimal | None:
    """A price as Decimal; ``None`` for empty; raises ValueError for garbage."""
    if value is None or value == "":
        return None
    if type(value) is Decimal:  # the common case, straight from the database
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    try:
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return d


def _s(value: Any) -> str:
    """A field as text: feeds are data, and a number or list where text belongs is
    reviewed as its text rather than crashing the review."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _issue(code: str, message: str, *, rule: str = "", fld: str = "", how: str = "") -> Issue:
    info = RULES[code]
    return Issue(
        code, info.severity, fld or info.field, message, how or info.how_to_fix, rule or code
    )


def _cut(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# --- the review -------------------------------------------------------------


def review_product(p: Mapping[str, Any], ctx: ReviewContext) -> list[Issue]:
    """All issues of one product. Errors make it Unavailable, warnings don't."""
    issues: list[Issue] = []
    add = issues.append
    get = p.get

    sku = _s(get("sku"))
    title = _s(get("title"))
    description = _s(get("description"))
    link = _s(get("link"))
    image_link = _s(get("image_link"))

    # Required fields.
    if not str(sku).strip():
        add(_issue("missing_sku", "The product has no id."))
    elif ctx.duplicate_ids and normalize_id(sku) in ctx.duplicate_ids:
        add(_issue("duplicate_id", f"Another product in this catalog also has the id “{sku}”."))
    if not title.strip():
        add(_issue("missing_title", "The product has no title."))
    if not description.strip():
        add(_issue("missing_description", "The product has no description."))

    # Links.
    if not link.strip():
        add(_issue("missing_link", "The product has no link to its page in your shop."))
    else:
        prob = url_problem(link)
        if prob == "not_http":
            add(_issue("link_not_http", f"The link “{_cut(link)}” is not an http(s) address."))
        elif prob:
            add(_issue("link_invalid", f"The link “{_cut(link)}” is not a valid web address."))
    if not image_link.strip():
        add(_issue("missing_image_link", "The product has no image link."))
    else:
        prob = url_problem(image_link, image=True)
        if prob == "not_http":
            add(
                _issue(
                    "image_link_not_http",
                    f"The image link “{_cut(image_link)}” is not an http(s) address.",
                )
            )
        elif prob == "invalid":
            add(
                _issue(
                    "image_link_invalid",
                    f"The image link “{_cut(image_link)}” is not a valid web address.",
                )
            )
        elif prob:
            add(
                _issue(
                    "image_link_not_image_type",
                    f"The image link “{_cut(image_link)}” does not end in an image type "
                    "such as .jpg or .png.",
                )
            )
    extra = get("additional_image_links") or ()
    if extra:
        if isinstance(extra, str):
            extra = [x for x in extra.split(",") if x.strip()]
        elif not isinstance(extra, list | tuple):
            extra = [extra]
        bad = [u for u in extra if url_problem(str(u), image=True)]
        if bad:
            add(
                _issue(
                    "additional_image_link_invalid",
                    f"{len(bad)} additional image link(s) are not http(s) links to an image, "
                    f"e.g. “{_cut(str(bad[0]))}”.",
                )
            )

    # Availability and condition.
    availability = _s(get("availability")).strip()
    if not availability:
        add(_issue("missing_availability", "The product has no availability."))
    elif availability.lower().replace("_", " ") not in AVAILABILITY_VALUES:
        add(_issue("availability_invalid", f"“{_cut(availability, 30)}” is not an availability."))
    condition = _s(get("condition")).strip()
    if condition and condition.lower() not in CONDITION_VALUES:
        add(_issue("condition_invalid", f"“{_cut(condition, 30)}” is not a condition."))

    # Prices.
    try:
        price = to_decimal(get("price"))
    except ValueError:
        price = None
        add(_issue("missing_price", f"The price “{_cut(str(get('price')), 30)}” is not a number."))
    else:
        if price is None:
            add(_issue("missing_price", "The product has no price."))
        elif price <= 0:
            add(_issue("price_not_positive", f"The price is {price}; it must be above zero."))
    try:
        sale = to_decimal(get("sale_price"))
    except ValueError:
        sale = None
        add(
            _issue(
                "sale_price_not_below_price",
                f"The sale price “{_cut(str(get('sale_price')), 30)}” is not a number.",
            )
        )
    if sale is not None and price is not None and price > 0 and sale >= price:
        add(
            _issue(
                "sale_price_not_below_price",
                f"The sale price {sale} is not below the price {price}.",
            )
        )
    currency = _s(get("currency")).strip().upper()
    if ctx.currency and currency and currency != ctx.currency:
        add(
            _issue(
                "currency_mismatch",
                f"The price is in {currency} but the catalog sells in {ctx.currency}.",
            )
        )
    try:
        fee = to_decimal(get("shipping_fee"))
    except ValueError:
        fee = None
    if fee is not None and fee < 0:
        add(_issue("shipping_fee_negative", f"The shipping fee is {fee}."))
    qty = get("inventory_quantity")
    if isinstance(qty, int) and not isinstance(qty, bool) and qty < 0:
        add(_issue("inventory_negative", f"The inventory quantity is {qty}."))

    # Lengths.
    if len(title) > ctx.title_max_length:
        add(
            _issue(
                "title_too_long",
                f"The title has {len(title)} characters; the limit is {ctx.title_max_length}.",
            )
        )
    if len(description) > ctx.description_max_length:
        add(
            _issue(
                "description_too_long",
                f"The description has {len(description)} characters; "
                f"the limit is {ctx.description_max_length}.",
            )
        )

    # Identifiers (google/shoptimizer-style).
    gtin = _s(get("gtin")).strip()
    brand = _s(get("brand")).strip()
    mpn = _s(get("mpn")).strip()
    if gtin:
        code = gtin_problem(gtin)
        if code == "gtin_invalid":
            add(
                _issue(
                    code,
                    f"“{_cut(gtin, 30)}” is not a valid GTIN: it must have 8, 12, 13 or 14 "
                    "digits and a correct check digit.",
                )
            )
        elif code:
            add(_issue(code, f"The GTIN {gtin} is in a reserved range."))
        if not brand:
            add(_issue("brand_missing", "The product has a GTIN but no brand."))
    elif brand and not mpn:
        add(
            _issue(
                "identifier_missing",
                f"The brand is “{_cut(brand, 30)}” but there is no GTIN or MPN.",
            )
        )

    # Variants without item_group_id (TikTok).
    attrs = get("custom_attributes")
    if attrs and isinstance(attrs, Mapping) and not _s(get("item_group_id")).strip():
        keys = {str(k).lower() for k in attrs}
        hit = keys & VARIANT_ATTRIBUTES
        if hit:
            add(
                _issue(
                    "variant_missing_item_group_id",
                    f"The product has variant attributes ({', '.join(sorted(hit))}) "
                    "but no item_group_id.",
                )
            )

    # Title style.
    if title:
        if _EMOJI_RE.search(title):
            add(_issue("title_has_emoji", "The title contains emojis or pictographic symbols."))
        if title.isupper() and sum(c.isalpha() for c in title) >= ctx.caps_min_letters:
            add(
                _issue("policy_all_caps_title", "The title is written entirely in capital letters.")
            )
        m = _PUNCT_RE.search(title)
        if m:
            add(
                _issue(
                    "policy_excessive_punctuation",
                    f"The title contains “{m.group(0)}”.",
                )
            )

    # Policy terms and denied claims.
    if ctx.has_terms:
        reported: set[str] = set()
        for fld, text in (("title", title), ("description", description)):
            if not text:
                continue
            for spec in ctx.match_terms(tokenize(text)):
                if spec.term in reported:
                    continue
                reported.add(spec.term)
                add(_policy_issue(spec, fld))
    return issues


def _policy_issue(spec: PolicyTermSpec, fld: str) -> Issue:
    cat = f" ({spec.category})" if spec.category else ""
    if spec.kind == DENIED_CLAIM:
        code = "policy_denied_claim"
        msg = f"The {fld} makes the claim “{spec.term}”{cat}, which ads may not make."
    elif spec.kind == PROHIBITED:
        code = "policy_prohibited_term"
        msg = f"The {fld} contains “{spec.term}”, a prohibited term{cat}."
    else:
        code = "policy_restricted_term"
        msg = f"The {fld} contains “{spec.term}”, a restricted term{cat}."
    info = RULES[code]
    return Issue(
        code,
        spec.severity if spec.severity in SEVERITIES else info.severity,
        fld,
        msg,
        spec.how_to_fix or info.how_to_fix,
        f"policy.{spec.kind}:{spec.term}",
    )


def review_status(issues: Iterable[Issue]) -> str:
    """``unavailable`` when any issue is an error, else ``available``."""
    return "unavailable" if any(i.severity == ERROR for i in issues) else "available"


def review_batch(products: Sequence[Mapping[str, Any]], ctx: ReviewContext) -> list[list[Issue]]:
    """Review a list of products, adding duplicate-id detection within the list to
    the ids the context already knows to be duplicated."""
    dups = find_duplicate_ids(p.get("sku") for p in products)
    if dups - ctx.duplicate_ids:
        ctx = ReviewContext(
            currency=ctx.currency,
            terms=ctx.terms,
            title_max_length=ctx.title_max_length,
            description_max_length=ctx.description_max_length,
            caps_min_letters=ctx.caps_min_letters,
            duplicate_ids=ctx.duplicate_ids | dups,
        )
    return [review_product(p, ctx) for p in products]
