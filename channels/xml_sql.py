"""The RSS 2.0 <item> of each product written by PostgreSQL itself: the fast path of XML
feeds without rules (pure: builds SQL text, runs nothing).

writers.py is the reference: for the same rows both paths write byte-identical items
(tests/test_xml_sql.py), so the values follow specs.item_builder and the escaping follows
writers.xml_text. Python then only joins the texts a server-side cursor hands it, instead
of building a dict and formatting ~18 values per product.
"""

from __future__ import annotations

from . import specs

# characters XML 1.0 forbids (NUL cannot be in PostgreSQL text): dropped, as xml_text does.
# A regular expression (compiled once per query): translate() with this list was 7x slower.
_BAD = "[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _esc(expr: str) -> str:
    return (
        f"replace(replace(replace(regexp_replace({expr}, {_lit(_BAD)}, '', 'g'), '&', '&amp;'), "
        "'<', '&lt;'), '>', '&gt;')"
    )


def _money(amount: str, currency: str) -> str:
    return f"CASE WHEN {amount} IS NULL THEN '' ELSE ({amount})::text || ' ' || {currency} END"


def _availability(channel: str) -> str:
    google = channel == specs.GOOGLE
    whens = " ".join(
        f"WHEN {_lit(ours)} THEN {_lit(words[0] if google else words[1])}"
        for ours, words in specs._AVAILABILITY.items()
    )
    # an unknown value: what availability_word writes for it
    other = (
        "CASE WHEN p.availability = '' THEN 'in stock' ELSE replace(p.availability, '_', ' ') END"
    )
    return f"CASE p.availability {whens} ELSE {other} END"


def item_sql(channel: str, *, catalog_currency: str, label_slot: int | None) -> tuple[str, list]:
    """A SQL expression over `p` (product) and `fs` (flag state) giving one <item> line,
    and its parameters (the catalog's currency)."""
    spec = specs.SPECS[channel]
    currency = "COALESCE(NULLIF(p.currency, ''), %s)"
    values = {
        spec.id_column: "p.sku",
        "title": "p.title",
        "description": "p.description",
        "link": "p.link",
        "image_link": "p.image_link",
        "availability": _availability(channel),
        "price": _money("p.price", currency),
        "condition": "COALESCE(NULLIF(p.condition, ''), 'new')",
        "brand": "p.brand",
        "sale_price": _money("p.sale_price", currency),
        "sale_price_effective_date": (
            "COALESCE(p.custom_attributes ->> 'sale_price_effective_date', '')"
        ),
        "item_group_id": "p.item_group_id",
        "google_product_category": "p.google_product_category",
        "product_type": "p.product_type",
        "gtin": "p.gtin",
        "mpn": "p.mpn",
    }
    columns = specs.base_columns(channel, label_slot=label_slot)
    parts = ["'<item>'"]
    for col in columns:
        tag = col if col in ("title", "link", "description") else f"g:{col}"
        if col == "additional_image_link":
            # as the Python path: the images joined by ",", one element per non-empty piece
            joined = (
                "btrim(regexp_replace(array_to_string(ARRAY("
                "SELECT jsonb_array_elements_text(p.additional_image_links)), ','), "
                "',{2,}', ',', 'g'), ',')"
            )
            parts.append(
                "CASE WHEN p.additional_image_links = '[]'::jsonb THEN '' "
                f"WHEN {joined} = '' THEN '' "
                f"ELSE '<{tag}>' || replace({_esc(joined)}, ',', '</{tag}><{tag}>') "
                f"|| '</{tag}>' END"
            )
            continue
        if label_slot is not None and col == specs.label_column(label_slot):
            expr = "CASE WHEN fs.status IN ('impacted', 'at_risk') THEN fs.status ELSE '' END"
        else:
            expr = values[col]
        parts.append(
            f"CASE WHEN ({expr}) <> '' THEN '<{tag}>' || {_esc(expr)} || '</{tag}>' ELSE '' END"
        )
    parts.append("'</item>' || chr(10)")
    sql = " || ".join(parts)
    # the only parameter is the catalog's currency, wherever a price needs it
    return sql, [catalog_currency] * sql.count("%s")
