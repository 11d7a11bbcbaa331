"""The reference model of ingest: what a catalog holds after a sequence of feed runs.

Small and slow on purpose: a dict of products and the rules in plain words, so that every
optimised path of the pipeline (the first pull straight into the products, the staged
delta, the unchanged records skipped unread, SQLite) can be checked against it field by
field. Row-level reading (prices, availability, duplicates) is the pipeline's one set of
row rules, ``feeds.columnar.validate_table`` (tested on its own in test_parsing.py); what
this model owns is the catalog:

- a row that cannot be read at all (a NUL byte, bad bytes in a UTF-8 file, a bare CR
  outside quotes, a field over 64 KiB) is rejected; so is a row the rules reject;
- a run fails (and changes nothing) when it has no rows or rejects more than the allowed
  share of them;
- replace mode: every accepted row is the product's whole content; the active products
  the feed does not name (neither accepted nor rejected) are removed, unless that is more
  than the allowed share of the catalog: then the run is held until confirmed;
- update mode (a supplemental feed): an accepted row writes only the fields of the file's
  columns (custom attributes key by key); an empty cell clears its field; nothing is
  removed; a new id creates a product from the columns it has;
- a product the feed names again is brought back if it was removed.

``FeedSpec`` is a generated feed (rows and how they are written: delimiter, quoting,
line ending, encoding, BOM, hostile rows); ``feeds()`` is its hypothesis strategy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from feeds.columnar import validate_table
from feeds.parsing import ValidationState, normalise_headers

SKUS = ("A", "B", "C", "D", "E", "F")
# per column: the cells a row may have ("" = empty). Some are rejected by the rules
# ("ten", "bogus"), some warned about ("lots"), some need quoting (commas, quotes, "\n").
CELLS: dict[str, tuple[str, ...]] = {
    "title": ("Hat", "Café crème", 'Zoë\'s "best"', "", "a,b", "two\nlines", "Crêpe"),
    "description": ("", "Nice", "Smooth, warm"),
    "price": ("10.00 USD", "5 USD", "12,50 EUR", "", "ten"),
    "brand": ("Lumen", "", "Kestrel"),
    "availability": ("in stock", "out of stock", "", "bogus"),
    "inventory_quantity": ("", "3", "lots", "-2"),
    "quantity": ("7", ""),
    "shipping": ("", "US:::5.99 USD", "4.50 USD", "US:::1 USD,GB:::2 GBP"),
    "shipping_fee": ("", "3.50", "2 USD"),
    "color": ("", "Red", "Blue"),
    "size": ("", "XL"),
}
# the product fields each column writes in update mode (custom attributes by key)
WRITES: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "description": ("description",),
    "price": ("price", "currency"),
    "brand": ("brand",),
    "availability": ("availability",),
    "inventory_quantity": ("inventory_quantity",),
    "quantity": ("inventory_quantity",),
    "shipping": ("shipping_fee",),
    "shipping_fee": ("shipping_fee",),
}
CUSTOM = ("color", "size")
ALTERNATIVES = (("inventory_quantity", "quantity"), ("shipping", "shipping_fee"))
HOSTILE = ("nul", "bad_byte", "bare_cr", "huge")
BAD_BYTE = "\ue000"  # written as the byte 0xFF in a UTF-8 file
COMPARED = (
    "title",
    "description",
    "link",
    "image_link",
    "additional_image_links",
    "brand",
    "gtin",
    "mpn",
    "condition",
    "item_group_id",
    "availability",
    "price",
    "sale_price",
    "currency",
    "shipping_fee",
    "inventory_quantity",
    "product_type",
    "google_product_category",
    "custom_attributes",
)


@dataclass(frozen=True)
class RowSpec:
    sku: str
    cells: tuple[str, ...]  # one per column after the id
    hostile: str = ""  # one of HOSTILE: the row cannot be read and is rejected


@dataclass(frozen=True)
class FeedSpec:
    columns: tuple[str, ...]  # after "id"
    rows: tuple[RowSpec, ...]
    delimiter: str = ","
    quote_all: bool = False
    newline: str = "\n"
    encoding: str = "utf-8"  # "utf-8", "utf-8-sig" or "cp1252"

    def render(self) -> tuple[bytes, list[int]]:
        """The file's bytes, and the line each row starts on (the header is line 1)."""
        out, lines, line = [], [], 2
        out.append(self.delimiter.join(("id", *self.columns)) + self.newline)
        for row in self.rows:
            text = self._row(row)
            lines.append(line)
            line += text.count("\n")  # (a bare CR ends no line)
            out.append(text)
        text = "".join(out)
        if self.encoding == "cp1252":
            return text.encode("cp1252"), lines
        data = text.encode("utf-8").replace(BAD_BYTE.encode(), b"\xff")
        return (b"\xef\xbb\xbf" + data if self.encoding == "utf-8-sig" else data), lines

    def _row(self, row: RowSpec) -> str:
        cells = [row.sku, *row.cells]
        out = []
        for i, cell in enumerate(cells):
            if row.hostile == "bare_cr" and i == 1:
                out.append(cell)  # unquoted: the CR is outside quotes
            else:
                out.append(self._quote(cell))
        return self.delimiter.join(out) + self.newline

    def _quote(self, cell: str) -> str:
        if self.quote_all or any(c in cell for c in (self.delimiter, '"', "\n", "\r")):
            return '"' + cell.replace('"', '""') + '"'
        return cell


@st.composite
def feeds(draw, *, hostile: bool = True) -> FeedSpec:
    """A random feed: a random subset of columns, rows with random (often empty) cells and
    duplicate ids, random quoting, delimiter, line ending and encoding; with ``hostile``,
    now and then a row that cannot be read."""
    columns = [c for c in CELLS if draw(st.booleans())]
    for a, b in ALTERNATIVES:  # one column per field (a second would be ignored)
        if a in columns and b in columns:
            columns.remove(draw(st.sampled_from((a, b))))
    rows = []
    for _ in range(draw(st.integers(0, 7))):
        sku = draw(st.sampled_from(SKUS))
        cells = [draw(st.sampled_from(CELLS[c])) for c in columns]
        kind = ""
        if hostile and columns and draw(st.integers(0, 9)) == 0:
            kind = draw(st.sampled_from(HOSTILE))
            cells[0] = {
                "nul": "Hat\x00",
                "bad_byte": "Café crème " + BAD_BYTE,  # valid UTF-8 around one bad byte
                "bare_cr": "Hat\rRed",
                "huge": "x" * (64 * 1024 + 1),
            }[kind]
        rows.append(RowSpec(sku, tuple(cells), kind))
    encoding = draw(st.sampled_from(("utf-8", "utf-8-sig", "cp1252")))
    spec = FeedSpec(
        tuple(columns),
        tuple(rows),
        delimiter=draw(st.sampled_from((",", "\t"))),
        quote_all=draw(st.booleans()),
        newline=draw(st.sampled_from(("\n", "\r\n"))),
        encoding=encoding,
    )
    if encoding == "cp1252" and any(r.hostile in ("bad_byte", "nul") for r in rows):
        spec = FeedSpec(**{**spec.__dict__, "encoding": "utf-8"})
    if spec.delimiter == "\t" and not columns:
        spec = FeedSpec(**{**spec.__dict__, "delimiter": ","})
    return spec


def typed(field_name: str, value: str) -> Any:
    """A parser output string as the product stores it."""
    if field_name in ("price", "sale_price", "shipping_fee"):
        return Decimal(value) if value else None
    if field_name == "inventory_quantity":
        return int(value) if value else None
    if field_name in ("additional_image_links", "custom_attributes"):
        return json.loads(value)
    return value


@dataclass
class Outcome:
    status: str  # "succeeded", "failed" or "held"
    unreadable: set[tuple[int, str]] = field(default_factory=set)  # (line, sku) row errors


@dataclass
class CatalogModel:
    currency: str = "USD"
    country: str = "US"
    rejected_share: float = 0.5
    removal_share: float = 0.5
    products: dict[str, dict[str, Any]] = field(default_factory=dict)  # with "removed"

    def active(self) -> set[str]:
        return {s for s, p in self.products.items() if not p["removed"]}

    def run(self, spec: FeedSpec, mode: str, *, confirmed: bool = False) -> Outcome:
        _, lines = spec.render()
        state = ValidationState(
            default_currency=self.currency, country=self.country, partial=mode != "replace"
        )
        names = normalise_headers(("id", *spec.columns))
        rejected: set[str] = set()
        unreadable = set()
        readable: list[tuple[int, RowSpec]] = []
        for line, row in zip(lines, spec.rows, strict=True):
            if row.hostile:
                state.received += 1
                state.rejected += 1
                rejected.add(row.sku)
                unreadable.add((line, row.sku))
            else:
                readable.append((line, row))
        table = pa.table(
            {
                name: pa.array([(r.sku, *r.cells)[i] for _, r in readable], pa.string())
                for i, name in enumerate(names)
            }
        )
        good, errors = validate_table(table, [line for line, _ in readable], state)
        accepted = good.drop_columns(["line", "content_hash"]).to_pylist()
        rejected |= {e.sku for e in errors if e.severity == "error"}
        if state.received == 0 or state.rejected / state.received > self.rejected_share:
            return Outcome("failed", unreadable)
        staged = {r["sku"] for r in accepted}
        to_remove: set[str] = set()
        if mode == "replace":
            active = self.active()
            to_remove = active - staged - rejected
            if active and len(to_remove) / len(active) > self.removal_share and not confirmed:
                return Outcome("held", unreadable)
        written: set[str] = set()
        for c in spec.columns:
            written.update(WRITES.get(c, ()))
        keys = [c for c in spec.columns if c in CUSTOM]
        for r in accepted:
            new = {f: typed(f, r[f]) for f in COMPARED}
            old = self.products.get(r["sku"])
            if mode == "replace" or old is None:
                self.products[r["sku"]] = {**new, "removed": False}
                continue
            for f in written:
                old[f] = new[f]
            attrs = {k: v for k, v in old["custom_attributes"].items() if k not in keys}
            old["custom_attributes"] = {**attrs, **new["custom_attributes"]}
            old["removed"] = False
        for sku in to_remove:
            self.products[sku]["removed"] = True
        return Outcome("succeeded", unreadable)


def snapshot(products) -> dict[str, dict[str, Any]]:
    """Stored products (a queryset or dicts) in the model's form."""
    out = {}
    for p in products.values("sku", "removed_at", *COMPARED):
        row = {f: p[f] for f in COMPARED}
        for f in ("price", "sale_price", "shipping_fee"):
            if row[f] is not None:
                row[f] = Decimal(row[f]).quantize(Decimal("0.01"))
        row["removed"] = p["removed_at"] is not None
        out[p["sku"]] = row
    return out
