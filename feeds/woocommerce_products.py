"""A WooCommerce product CSV export (Products → Export) as product-feed rows (pure: no ORM).

WooCommerce writes one row per product and one per variation, by post ID: ``ID`` is
WordPress's post number and ``SKU`` the seller's product id, so a product's id is its SKU
(its ID when it has none: WooCommerce does not require SKUs). A *variable* product is the
parent of its variations and no product a shopper can buy: its row is not a product, its
variations are, and they inherit its name, description, images, brand and categories; a
variation names its parent in ``Parent`` (the parent's SKU, or ``id:`` and its ID), which
is their item group. A *grouped* product is a set of other products, each with its own
row: not a product either. ``Published`` is 1 for a published product; -1 (a draft, or a
variation of one), 0 (private) and 2 (pending review) are left out with a warning, as
products not in the feed are.

The export carries no currency (prices are in the catalog's), writes a description's line
breaks as ``\\n``, joins a list (images, categories, brands) with ", " and writes a comma
inside a value ``\\,``, and puts ``'`` before text that starts with = + - or @ (against
spreadsheet formulas): each is read back as the shop holds it.

``Products`` turns the export's rows, as they stream in, into one row per product in the
feed's canonical columns, which the pipeline validates like any feed's
(``columnar.validate_table``): readers.parse_feed_tables recognises the export from its
header (``is_products_export``). Variations usually come after their parent (by ID); one
whose parent has not come yet waits for it, until the end of the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from catalogs.fields import WOOCOMMERCE_EXPORT_MARKERS

from .parsing import RowError

GTIN = "gtin, upc, ean, or isbn"
# "Meta: <key>" columns of the common GTIN plugins (key without its leading "_", any case)
GTIN_META = frozenset(
    {
        "gtin",
        "ean",
        "upc",
        "isbn",
        "barcode",
        "global_unique_id",
        "wpm_gtin_code",  # Pixel Manager
        "hwp_product_gtin",  # Product GTIN (EAN, UPC, ISBN) for WooCommerce
        "hwp_var_gtin",
        "alg_ean",  # EAN for WooCommerce
        "ts_gtin",  # Germanized
        "woosea_gtin",  # Product Feed PRO
    }
)
BRAND_ATTRIBUTES = frozenset({"brand", "brands", "pa_brand"})
# what each canonical column is read from ("attributes": any "Attribute N name" column,
# "gtin meta": a GTIN_META column): a column is written when the export has one of its
# sources (an update-mode run then keeps the fields the export does not carry)
SOURCES = {
    "sku": ("sku", "id"),
    "item_group_id": ("parent",),
    "title": ("name",),
    "description": ("description", "short description"),
    "image_link": ("images",),
    "additional_image_link": ("images",),
    "brand": ("brands", "attributes"),
    "gtin": (GTIN, "gtin meta"),
    "availability": ("in stock?", "stock"),
    "quantity": ("stock",),
    "price": ("regular price", "sale price"),
    "sale_price": ("sale price",),
    "product_type": ("categories",),
}
UNPUBLISHED = {"-1": "a draft", "0": "private", "2": "pending review"}
NO_ID = "the row has no SKU and no ID, so it cannot be identified"
ORPHAN = "its parent product “{}” is not in the export: read without the parent's data"
Row = Mapping[str, object]  # an export's row: cells by its column names
# (line, canonical cells) of the products read, and the rows' problems
Found = tuple[list[tuple[int, dict[str, str]]], list[RowError]]
_FORMULA_ESCAPE = re.compile(r"^'(?=[=+\-@\t\r])")
_LIST_SPLIT = re.compile(r"(?<!\\),")
_INTEGER = re.compile(r"-?\d+")


def _key(name: object) -> str:
    """A header as compared: any case, runs of spaces (no-break ones too) as one space."""
    text = str(name).strip().lstrip("\ufeff").replace("\u2019", "'")
    return " ".join(text.split()).lower()


# The exporter writes its headers in the store admin's language. These are WooCommerce's own
# translations of the columns read here (WC_Product_CSV_Exporter::get_default_column_names,
# "Attribute %d name", "Attribute %d value(s)" and "Meta: %s"), from the language packs of
# translate.wordpress.org, project "Plugins - WooCommerce - Stable" (de_DE, fr_FR, es_ES,
# it_IT and nl_NL, PO-Revision-Date 2022-03-16, WooCommerce 6.3), in the exporter's order.
_ENGLISH = (
    "id", "type", "sku", "name", "published", "is featured?", "visibility in catalog",
    "short description", "description", "in stock?", "stock", "backorders allowed?",
    "sale price", "regular price", "categories", "images", "parent", "attribute %d name",
    "attribute %d value(s)", "meta: %s",
)  # fmt: skip
_TRANSLATED = {
    "de_DE": (
        "ID", "Typ", "Artikelnummer", "Name", "Veröffentlicht", "Ist hervorgehoben?",
        "Sichtbarkeit im Katalog", "Kurzbeschreibung", "Beschreibung", "Vorrätig?", "Lager",
        "Lieferrückstande erlaubt?", "Angebotspreis", "Regulärer Preis", "Kategorien", "Bilder",
        "Übergeordnetes Produkt", "Attribut %d Name", "Attribut %d Wert(e)", "Meta: %s",
    ),
    "fr_FR": (
        "ID", "Type", "UGS", "Nom", "Publié", "Mis en avant ?", "Visibilité dans le catalogue",
        "Description courte", "Description", "En stock ?", "Stock",
        "Autoriser les commandes de produits en rupture ?", "Tarif promo", "Tarif régulier",
        "Catégories", "Images", "Parent", "Nom de l’attribut %d", "Valeur(s) de l’attribut %d",
        "Méta : %s",
    ),
    "es_ES": (
        "ID", "Tipo", "SKU", "Nombre", "Publicado", "¿Está destacado?",
        "Visibilidad en el catálogo", "Descripción corta", "Descripción", "¿En inventario?",
        "Inventario", "¿Permitir reservas de productos agotados?", "Precio rebajado",
        "Precio normal", "Categorías", "Imágenes", "Superior", "Nombre del atributo %d",
        "Valor(es) del atributo %d", "Meta: %s",
    ),
    "it_IT": (
        "ID", "Tipo", "COD", "Nome", "Pubblicato", "In primo piano?", "Visibilità nel catalogo",
        "Breve descrizione", "Descrizione", "In stock?", "Magazzino",
        "Abilita gli ordini arretrati?", "Prezzo in offerta", "Prezzo di listino", "Categorie",
        "Immagine", "Genitore", "Attributo %d nome", "Attributo %d valuta(e)", "Meta: %s",
    ),
    "nl_NL": (
        "ID", "Type", "Artikelnummer", "Naam", "Gepubliceerd", "Uitgelicht?",
        "Zichtbaarheid in catalogus", "Korte omschrijving", "Beschrijving", "Op voorraad?",
        "Voorraad", "Nabestellingen toestaan?", "Actieprijs", "Reguliere prijs", "Categorieën",
        "Afbeeldingen", "Hoofd", "Naam eigenschap %d", "Waarde eigenschap %d", "Meta: %s",
    ),
}  # fmt: skip
# The Brands column came after those translations (WooCommerce 9.6 core brands:
# WC_Admin_Brands::add_column_to_importer_exporter adds __("Brands")), translated in the same
# project's language packs (PO-Revision-Dates 2025-02 to 2026-05); fr_FR keeps the English word.
_BRANDS = {"de_DE": "Marken", "fr_FR": "Brands", "es_ES": "Marcas", "it_IT": "Marchi",
           "nl_NL": "Merken"}  # fmt: skip
# English column -> the header as _key reads it, per language (English first)
HEADERS = {
    "en": {e: e for e in (*_ENGLISH, "brands")},
    **{
        lang: dict(zip((*_ENGLISH, "brands"), map(_key, (*names, _BRANDS[lang])), strict=True))
        for lang, names in _TRANSLATED.items()
    },
}
# GTIN's column came after those translations (WooCommerce 9.2); its acronyms are kept in
# every language, so its header is recognised by them
_GTIN_HEADER = re.compile(r"gtin, ?upc, ?ean\b.*isbn")


def _language(cols: set[str]) -> dict[str, str] | None:
    """The export's headers (English column -> header) when ``cols`` has the SKU or ID
    column and two of the exporter's own columns in one language, else None."""
    for names in HEADERS.values():
        markers = {names[m] for m in WOOCOMMERCE_EXPORT_MARKERS}
        if cols & {names["sku"], names["id"]} and len(cols & markers) >= 2:
            return names
    return None


def is_products_export(header: Iterable[object]) -> bool:
    """A header with ``SKU`` or ``ID`` and two of the exporter's own columns (any case), in
    English or in one of the languages of HEADERS."""
    return _language({_key(h) for h in header}) is not None


def _english(key: str, names: dict[str, str]) -> str:
    """A header's English column name (as _key reads it); an unknown header as it is."""
    for english, translated in names.items():
        if "%" not in translated:
            if key == translated:
                return english
            continue
        pattern = re.escape(translated).replace("%d", r"(\d+)").replace("%s", "(.*)")
        if m := re.fullmatch(pattern, key):
            return english.replace("%d", m.group(1)).replace("%s", m.group(1).strip())
    return GTIN if _GTIN_HEADER.match(key) else key


def _text(text: str) -> str:
    """A description as the shop holds it: \\n a line break, \\\\n the two characters."""
    return re.sub(r"\\\\n|\\n", lambda m: "\\n" if len(m.group()) == 3 else "\n", text)


def _values(cell: str) -> list[str]:
    """The values of a list cell (", "-joined, a comma inside a value written \\,)."""
    parts = (v.strip().replace("\\,", ",") for v in _LIST_SPLIT.split(cell))
    return [v for v in parts if v]


@dataclass(frozen=True)
class _Parent:
    """What a variable product's variations inherit."""

    id: str
    published: str
    title: str
    description: str
    images: tuple[str, ...]
    brand: str
    product_type: str
    stock: str


class Products:
    """Products and variations of a WooCommerce export, as its rows stream in.

    ``add`` takes (line, row) pairs (a row: cells by the export's column names) and
    returns the products read so far and the rows' problems; ``finish`` the variations
    still waiting for a parent. Problems are row errors (a row with neither SKU nor ID) or
    warnings (an unpublished product left out; a variation without its parent).
    """

    def __init__(self, header: Iterable[object]):
        header = list(header)
        names = _language({_key(h) for h in header}) or HEADERS["en"]
        raw = {_key(h): str(h).strip().lstrip("\ufeff").strip() for h in header}
        # cells are looked up by the English column name, whatever the export's language
        self.names = {_english(k, names): h for k, h in raw.items()}
        # the id columns as the readers' header keys spell them, SKU first
        self.id_columns = tuple(self.names[k].lower() for k in ("sku", "id") if k in self.names)
        self.attributes = sorted(
            (k, k.replace(" name", " value(s)"))
            for k in self.names
            if re.fullmatch(r"attribute \d+ name", k)
        )
        self.gtin_meta = [
            k
            for k in self.names
            if k.startswith("meta:") and k[5:].strip().lstrip("_") in GTIN_META
        ]
        present = {*self.names, *(["attributes"] if self.attributes else [])}
        present |= {"gtin meta"} if self.gtin_meta else set()
        self.columns = [c for c, sources in SOURCES.items() if present & set(sources)]
        self.parents: dict[str, _Parent] = {}
        self.waiting: dict[str, list[tuple[int, Row]]] = {}

    def add(self, rows: Iterable[tuple[int, Row]]) -> Found:
        out, problems = [], []
        for line, row in rows:
            types = {t.strip().lower() for t in self._get(row, "type").split(",")}
            pid = self._get(row, "sku") or self._get(row, "id")
            if not pid:
                problems.append(RowError(line, "", "SKU", NO_ID))
            elif "variable" in types:
                parent = self._parent(pid, row)
                for key in {pid, f"id:{self._get(row, 'id')}"}:
                    self.parents[key] = parent
                    for waiting in self.waiting.pop(key, []):
                        self._emit(out, problems, waiting, parent)
            elif "grouped" in types:
                continue  # its products have their own rows
            elif "variation" in types and (ref := self._get(row, "parent")):
                if ref in self.parents:
                    self._emit(out, problems, (line, row), self.parents[ref])
                else:
                    self.waiting.setdefault(ref, []).append((line, row))
            else:
                self._emit(out, problems, (line, row), None)
        return out, problems

    def finish(self) -> Found:
        """The variations whose parent never came, read on their own (with a warning)."""
        out, problems = [], []
        waiting = sorted(
            ((line, ref, row) for ref, rows in self.waiting.items() for line, row in rows),
            key=lambda w: w[0],
        )
        self.waiting = {}
        for line, ref, row in waiting:
            sku = self._get(row, "sku") or self._get(row, "id")
            message = ORPHAN.format(ref[:60])
            problems.append(RowError(line, sku[:100], "Parent", message, "warning"))
            self._emit(out, problems, (line, row), None)
        return out, problems

    def _get(self, row: Row, key: str) -> str:
        value = row.get(self.names.get(key, key))
        return "" if value is None else _FORMULA_ESCAPE.sub("", str(value).strip())

    def _parent(self, pid: str, row: Row) -> _Parent:
        get = self._get
        return _Parent(
            id=pid,
            published=get(row, "published"),
            title=get(row, "name"),
            description=_text(get(row, "description") or get(row, "short description")),
            images=tuple(_values(get(row, "images"))),
            brand=self._brand(row),
            product_type=next(iter(_values(get(row, "categories"))), ""),
            stock=get(row, "stock"),
        )

    def _brand(self, row: Row) -> str:
        brands = _values(self._get(row, "brands"))
        if brands:
            return brands[0]
        for name, value in self.attributes:
            if self._get(row, name).lower() in BRAND_ATTRIBUTES:
                return next(iter(_values(self._get(row, value))), "")
        return ""

    def _gtin(self, row: Row) -> str:
        return self._get(row, GTIN) or next(
            (v for k in self.gtin_meta if (v := self._get(row, k))), ""
        )

    def _emit(
        self,
        out: list,
        problems: list[RowError],
        item: tuple[int, Row],
        parent: _Parent | None,
    ) -> None:
        line, row = item
        values = self._product(row, parent)
        status = self._get(row, "published")
        if parent is not None and status == "1":
            status = parent.published  # a private parent's variations are not for sale
        if status in UNPUBLISHED:
            message = f"left out: the product is {UNPUBLISHED[status]} in WooCommerce"
            problems.append(RowError(line, values["sku"][:100], "Published", message, "warning"))
            return
        out.append((line, {c: values[c] for c in self.columns}))

    def _product(self, row: Row, parent: _Parent | None) -> dict[str, str]:
        get = self._get
        # a variation's own image first, then its parent's images
        own, inherited = _values(get(row, "images")), parent.images if parent else ()
        images = list(dict.fromkeys((*own, *inherited)))
        stock = get(row, "stock")
        if stock.lower() == "parent":  # the variation's stock is managed by its parent
            stock = parent.stock if parent else ""
        regular, sale = get(row, "regular price"), get(row, "sale price")
        description = _text(get(row, "description") or get(row, "short description"))
        return {
            "sku": get(row, "sku") or get(row, "id"),
            "item_group_id": (parent.id if parent else get(row, "parent").removeprefix("id:")),
            "title": get(row, "name") or (parent.title if parent else ""),
            "description": description or (parent.description if parent else ""),
            "image_link": images[0] if images else "",
            # the list a text feed writes: a comma inside a URL is %2C
            "additional_image_link": ",".join(i.replace(",", "%2C") for i in images[1:]),
            "brand": self._brand(row) or (parent.brand if parent else ""),
            "gtin": self._gtin(row),  # (a variant's own: never its parent's)
            "availability": self._availability(row, stock),
            "quantity": stock if _INTEGER.fullmatch(stock) else "",
            "price": regular or sale,
            "sale_price": sale if regular else "",
            "product_type": next(iter(_values(get(row, "categories"))), "")
            or (parent.product_type if parent else ""),
        }

    def _availability(self, row: Row, stock: str) -> str:
        """``In stock?`` (1, 0 or backorder), checked against a managed stock of 0 or less
        (sold out unless ``Backorders allowed?`` is 1 or notify)."""
        status = self._get(row, "in stock?").lower()
        if status == "backorder":
            return "backorder"
        if status == "0":
            return "out of stock"
        if _INTEGER.fullmatch(stock) and int(stock) <= 0:
            backorders = self._get(row, "backorders allowed?").lower() in ("1", "notify")
            return "backorder" if backorders else "out of stock"
        return "in stock"
