"""A WooCommerce product export whose headers are in the store admin's language (the exporter
translates them): recognised and read as the English export is."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from catalogs.models import Product
from catalogs.tests.factories import CatalogFactory
from feeds import woocommerce_products as W
from feeds.tests.feed_rows import parse_feed

# The headers as WooCommerce writes them, in the exporter's order: ID, Type, SKU, Name,
# Published, Is featured?, Visibility in catalog, Short description, Description, In stock?,
# Stock, Backorders allowed?, Sale price, Regular price, Categories, Images, Parent,
# Attribute 1 name, Attribute 1 value(s), Meta: _alg_ean
HEADERS = {
    "de": [
        "ID", "Typ", "Artikelnummer", "Name", "Veröffentlicht", "Ist hervorgehoben?",
        "Sichtbarkeit im Katalog", "Kurzbeschreibung", "Beschreibung", "Vorrätig?", "Lager",
        "Lieferrückstande erlaubt?", "Angebotspreis", "Regulärer Preis", "Kategorien", "Bilder",
        "Übergeordnetes Produkt", "Attribut 1 Name", "Attribut 1 Wert(e)", "Meta: _alg_ean",
    ],
    "fr": [
        "ID", "Type", "UGS", "Nom", "Publié", "Mis en avant\u00a0?", "Visibilité dans le catalogue",
        "Description courte", "Description", "En stock\u00a0?", "Stock",
        "Autoriser les commandes de produits en rupture\u00a0?", "Tarif promo", "Tarif régulier",
        "Catégories", "Images", "Parent", "Nom de l’attribut 1", "Valeur(s) de l’attribut 1 ",
        "Méta : _alg_ean",
    ],
    "es": [
        "ID", "Tipo", "SKU", "Nombre", "Publicado", "¿Está destacado?",
        "Visibilidad en el catálogo", "Descripción corta", "Descripción", "¿En inventario?",
        "Inventario", "¿Permitir reservas de productos agotados?", "Precio rebajado",
        "Precio normal", "Categorías", "Imágenes", "Superior", "Nombre del atributo 1",
        "Valor(es) del atributo 1", "Meta: _alg_ean",
    ],
    "it": [
        "ID", "Tipo", "COD", "Nome", "Pubblicato", "In primo piano?", "Visibilità nel catalogo",
        "Breve descrizione", "Descrizione", "In stock?", "Magazzino",
        "Abilita gli ordini arretrati?", "Prezzo in offerta", "Prezzo di listino", "Categorie",
        "Immagine", "Genitore", "Attributo 1 nome", "Attributo 1 valuta(e)", "Meta: _alg_ean",
    ],
    "nl": [
        "ID", "Type", "Artikelnummer", "Naam", "Gepubliceerd", "Uitgelicht?",
        "Zichtbaarheid in catalogus", "Korte omschrijving", "Beschrijving", "Op voorraad?",
        "Voorraad", "Nabestellingen toestaan?", "Actieprijs", "Reguliere prijs", "Categorieën",
        "Afbeeldingen", "Hoofd", "Naam eigenschap 1", "Waarde eigenschap 1", "Meta: _alg_ean",
    ],
}  # fmt: skip
IMG = "https://shop.example.de/wp-content/uploads"
ROWS = [
    # ID, type, SKU, name, published, featured, visibility, short, description, in stock,
    # stock, backorders, sale, regular, categories, images, parent, attr name, attr value, ean
    ["10", "simple", "HUT-1", "Wollmütze", "1", "0", "visible", "Warm.", "Aus Wolle.\\nWarm.",
     "1", "12", "0", "19,50", "24,00", "Accessoires > Mützen", f"{IMG}/hut.jpg, {IMG}/hut-2.jpg",
     "", "Marke", "Kestrel", "4006381333931"],
    ["11", "simple", "TASSE", "Tasse", "1", "0", "visible", "", "Steingut.", "0", "0", "0", "",
     "9,00", "", f"{IMG}/tasse.jpg", "", "", "", ""],
    ["12", "simple", "ENTWURF", "Noch nicht", "-1", "0", "visible", "", "", "1", "", "0", "",
     "5", "", "", "", "", "", ""],
    ["20", "variable", "PULLI", "Pulli", "1", "0", "visible", "Kuschelig.", "", "1", "", "0",
     "", "", "Kleidung", f"{IMG}/pulli.jpg", "", "Farbe", "Rot, Blau", ""],
    ["21", "variation", "PULLI-ROT", "Pulli - Rot", "1", "0", "visible", "", "", "backorder",
     "-1", "notify", "", "45,00", "", "", "PULLI", "Farbe", "Rot", "0012345678905"],
]  # fmt: skip


def export(lang: str) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HEADERS[lang])
    writer.writerows(ROWS)
    return b"\xef\xbb\xbf" + text.getvalue().encode()


@pytest.mark.parametrize("lang", sorted(HEADERS))
def test_a_translated_export_is_recognised(lang):
    assert W.is_products_export(HEADERS[lang])


@pytest.mark.parametrize("lang", sorted(HEADERS))
def test_a_translated_export_reads_as_the_english_one(lang):
    rows, problems = [], []
    for good, errors in parse_feed(io.BytesIO(export(lang)), default_currency="EUR"):
        rows += good
        problems += errors
    products = {r["sku"]: r for r in rows}

    assert set(products) == {"HUT-1", "TASSE", "PULLI-ROT"}
    assert [(e.sku, e.field, e.severity) for e in problems] == [("ENTWURF", "Published", "warning")]
    hut = products["HUT-1"]
    assert (hut["price"], hut["sale_price"], hut["currency"]) == ("24.00", "19.50", "EUR")
    assert hut["title"] == "Wollmütze" and hut["description"] == "Aus Wolle.\nWarm."
    assert hut["image_link"] == f"{IMG}/hut.jpg"
    assert hut["additional_image_links"] == f'["{IMG}/hut-2.jpg"]'
    assert hut["availability"] == "in_stock" and hut["inventory_quantity"] == "12"
    assert hut["gtin"] == "4006381333931" and hut["product_type"] == "Accessoires > Mützen"
    assert products["TASSE"]["availability"] == "out_of_stock"
    rot = products["PULLI-ROT"]
    assert rot["item_group_id"] == "PULLI" and rot["title"] == "Pulli - Rot"
    assert rot["description"] == "Kuschelig." and rot["image_link"] == f"{IMG}/pulli.jpg"
    assert rot["availability"] == "backorder" and rot["gtin"] == "0012345678905"
    assert rot["product_type"] == "Kleidung"


@pytest.mark.django_db(transaction=True)
def test_import_feed_reads_a_german_export(tenant_a, tmp_path, capsys):
    path = tmp_path / "wc-product-export-de.csv"
    path.write_bytes(export("de"))
    catalog = CatalogFactory(tenant=tenant_a, currency="EUR")

    call_command("import_feed", "--catalog", str(catalog.pk), str(path))

    assert "created 3," in capsys.readouterr().out
    products = {p.sku: p for p in Product.objects.for_tenant(tenant_a).filter(catalog=catalog)}
    assert set(products) == {"HUT-1", "TASSE", "PULLI-ROT"}
    assert products["HUT-1"].price == Decimal("24.00")
    assert products["HUT-1"].sale_price == Decimal("19.50")
    assert products["PULLI-ROT"].item_group_id == "PULLI"


# The Brands column (WooCommerce 9.6+ core brands) as the translated exporter heads it. French
# keeps the English word: fr_FR has not translated it.
BRANDS_HEADER = {"de": "Marken", "fr": "Brands", "es": "Marcas", "it": "Marchi", "nl": "Merken"}


@pytest.mark.parametrize("lang", sorted(BRANDS_HEADER))
def test_a_translated_exports_brands_column_gives_the_brand(lang):
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    # no brand attribute: the brand can only come from the Brands column
    writer.writerow([*HEADERS[lang][:17], BRANDS_HEADER[lang]])
    writer.writerow([*ROWS[0][:17], "Kestrel, Lumen"])
    writer.writerow([*ROWS[3][:17], "Lumen"])  # the parent: its variation inherits the brand
    writer.writerow([*ROWS[4][:17], ""])

    data = io.BytesIO(text.getvalue().encode())
    rows = [r for good, _ in parse_feed(data, default_currency="EUR") for r in good]

    assert {r["sku"]: r["brand"] for r in rows} == {"HUT-1": "Kestrel", "PULLI-ROT": "Lumen"}
