"""What a run stores: update mode's supplemental semantics, the app's own column names, and
inputs that used to fail a whole run (issue: trustworthy ingest). Every path is exercised:
the first pull straight into the products, the staged delta, and a re-pull that skips the
unchanged records unread (transactional tests, so the parallel writers run as in a worker)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalogs.tests.factories import CatalogFactory
from feeds.models import FeedRowError, FeedSettings, RunStatus, UpdateMode
from feeds.tests.factories import ProductSourceFactory
from feeds.tests.test_services import products, upload_run

pytestmark = pytest.mark.django_db(transaction=True)

FULL = (
    "id,title,brand,mpn,condition,item_group_id,price,availability,inventory,shipping,"
    "product_type,google_product_category,color\n"
    "A,Hat,Lumen,M-1,new,G1,10.00 USD,in stock,7,US:::4.00 USD,Hats,Apparel,Red\n"
    "B,Cap,Kestrel,M-2,used,G2,12.00 USD,out of stock,3,US:::2.00 USD,Caps,Apparel,Blue\n"
)


@pytest.fixture(autouse=True)
def fs(db):
    FeedSettings.objects.update_or_create(
        pk=1, defaults={"manual_refresh_min_seconds": 0, "rejected_share_threshold": 0.9}
    )


@pytest.fixture
def catalog(tenant_a):
    return CatalogFactory(tenant=tenant_a)


def sources(catalog):
    return (
        ProductSourceFactory(catalog=catalog, mode=UpdateMode.REPLACE),
        ProductSourceFactory(catalog=catalog, mode=UpdateMode.UPDATE),
    )


def ok(run):
    assert run.status == RunStatus.SUCCEEDED, (run.error_code, run.error_message)
    return run


def test_update_mode_writes_only_the_columns_of_its_file(tenant_a, catalog):
    full, supplemental = sources(catalog)
    ok(upload_run(tenant_a, full, FULL.encode()))
    run = ok(upload_run(tenant_a, supplemental, b"id,price\nA,11.00 USD\n"))
    assert (run.created, run.updated, run.unchanged) == (0, 1, 0)
    a = products(catalog).get(sku="A")
    assert a.price == Decimal("11.00")
    assert (a.title, a.brand, a.mpn, a.condition, a.item_group_id) == (
        "Hat",
        "Lumen",
        "M-1",
        "new",
        "G1",
    )
    assert (a.availability, a.inventory_quantity, a.shipping_fee) == (
        "in_stock",
        7,
        Decimal("4.00"),
    )
    assert (a.product_type, a.google_product_category) == ("Hats", "Apparel")
    assert a.custom_attributes == {"color": "Red"}
    # the same supplemental file again changes nothing (read or skipped unread)
    run = ok(upload_run(tenant_a, supplemental, b"id,price\nA,11.00 USD\nB,12.00 USD\n"))
    assert (run.updated, run.unchanged) == (0, 2)
    # and the full feed again puts the price back, recognising the rest as unchanged
    run = ok(upload_run(tenant_a, full, FULL.encode()))
    assert (run.created, run.updated, run.unchanged) == (0, 1, 1)
    assert products(catalog).get(sku="A").price == Decimal("10.00")


def test_an_empty_cell_in_a_present_column_clears_the_field(tenant_a, catalog):
    full, supplemental = sources(catalog)
    ok(upload_run(tenant_a, full, FULL.encode()))
    ok(upload_run(tenant_a, supplemental, b"id,brand,inventory,color,size\nA,,,,L\nB,Acme,1,,\n"))
    a, b = products(catalog).get(sku="A"), products(catalog).get(sku="B")
    assert (a.brand, a.inventory_quantity, a.title) == ("", None, "Hat")
    assert a.custom_attributes == {"size": "L"}  # color cleared, size added
    assert (b.brand, b.inventory_quantity, b.custom_attributes) == ("Acme", 1, {})
    assert b.shipping_fee == Decimal("2.00") and b.availability == "out_of_stock"


def test_update_mode_creates_new_products_from_the_columns_it_has(tenant_a, catalog):
    full, supplemental = sources(catalog)
    ok(upload_run(tenant_a, full, FULL.encode()))
    run = ok(upload_run(tenant_a, supplemental, b"id,title\nC,Bag\n"))
    assert run.created == 1 and products(catalog).count() == 3
    c = products(catalog).get(sku="C")
    assert (c.title, c.price, c.availability) == ("Bag", None, "in_stock")


def test_update_mode_first_pull_then_update(tenant_a, catalog):
    _, supplemental = sources(catalog)
    ok(upload_run(tenant_a, supplemental, FULL.encode()))  # straight into the products
    ok(upload_run(tenant_a, supplemental, b"id,title\nB,Cap v2\n"))
    b = products(catalog).get(sku="B")
    assert (b.title, b.brand, b.price, b.inventory_quantity) == (
        "Cap v2",
        "Kestrel",
        Decimal("12.00"),
        3,
    )


def test_the_apps_own_field_names_are_read(tenant_a, catalog):
    full, _ = sources(catalog)
    run = ok(
        upload_run(
            tenant_a,
            full,
            b"id,title,price,inventory_quantity,shipping_fee,colour\n"
            b"A,Hat,10.00 USD,5,3.50,Red\n"
            b"B,Cap,10.00 USD,6,2.25 USD,Blue\n",
        )
    )
    a, b = products(catalog).get(sku="A"), products(catalog).get(sku="B")
    assert (a.inventory_quantity, a.shipping_fee) == (5, Decimal("3.50"))
    assert (b.inventory_quantity, b.shipping_fee) == (6, Decimal("2.25"))
    assert a.custom_attributes == {"colour": "Red"}
    # the column that maps to no field is named once, as a warning
    column_warnings = FeedRowError.objects.filter(run=run, field="colour")
    assert [(w.severity, w.line) for w in column_warnings] == [("warning", 1)]
    assert "kept as a custom attribute" in column_warnings[0].message


@pytest.mark.parametrize("header", ["quantity", "inventory", "quantity_to_sell_on_facebook"])
def test_inventory_aliases(tenant_a, catalog, header):
    full, _ = sources(catalog)
    ok(upload_run(tenant_a, full, f"id,title,price,{header}\nA,Hat,1 USD,9\n".encode()))
    assert products(catalog).get(sku="A").inventory_quantity == 9


@pytest.mark.parametrize(
    "header,value",
    [("shipping", "US:::5.99 USD"), ("shipping", "5.99 USD"), ("g:shipping/g:price", "5.99 USD")],
)
def test_a_single_flat_shipping_price(tenant_a, catalog, header, value):
    full, _ = sources(catalog)
    ok(upload_run(tenant_a, full, f"id,title,price,{header}\nA,Hat,1 USD,{value}\n".encode()))
    assert products(catalog).get(sku="A").shipping_fee == Decimal("5.99")


def test_a_gmc_tsv_with_empty_custom_columns_on_some_rows(tenant_a, catalog):
    full, _ = sources(catalog)
    head = "id\ttitle\tprice\tavailability\tcolor\tsize\tgender\tage_group\n"
    rows = []
    for i in range(160):
        extra = "\t\t\t" if i % 23 == 0 else "Blue\tM\tmale\tadult"
        rows.append(f"P{i}\tItem {i}\t{i + 1}.00 USD\tin stock\t{extra}")
    run = ok(upload_run(tenant_a, full, (head + "\n".join(rows) + "\n").encode()))
    assert run.created == 160
    assert products(catalog).get(sku="P0").custom_attributes == {}
    assert products(catalog).get(sku="P1").custom_attributes == {
        "age_group": "adult",
        "color": "Blue",
        "gender": "male",
        "size": "M",
    }


def test_an_update_runs_diff_lists_only_what_it_changed(tenant_a, catalog):
    from feeds.models import FeedRunChange

    full, supplemental = sources(catalog)
    ok(upload_run(tenant_a, full, FULL.encode()))
    run = ok(upload_run(tenant_a, supplemental, b"id,price,size\nA,11.00 USD,L\n"))
    change = FeedRunChange.objects.get(run=run, sku="A")
    assert change.changes == {
        "price": ["10.00", "11.00"],
        "custom_attributes": [{"color": "Red"}, {"color": "Red", "size": "L"}],
    }


def test_the_demos_update_run_keeps_the_fields_its_file_lacks(tenant_a, catalog):
    import io

    from catalogs.tests.factories import ProductFactory
    from feeds import demo

    for i in range(5):
        ProductFactory(
            catalog=catalog,
            item_group_id=f"G{i}",
            mpn=f"M{i}",
            condition="new",
            product_type="Shoes",
            google_product_category="187",
        )
    demo.seed_demo(tenants=[tenant_a], stdout=io.StringIO())
    kept = (
        products(catalog)
        .exclude(sku__startswith="DEMO")
        .values_list(
            "item_group_id",
            "mpn",
            "condition",
            "inventory_quantity",
            "shipping_fee",
            "product_type",
        )
    )
    assert len(kept) == 5
    for group, mpn, condition, inventory, shipping_fee, product_type in kept:
        assert group and mpn and condition == "new" and product_type == "Shoes"
        assert (inventory, shipping_fee) == (10, Decimal("4.99"))


def test_a_replace_run_rereads_a_line_an_update_run_applied(tenant_a, catalog):
    """Found by the reference-model drill: an update run stored a line's fingerprint, and a
    replace run of the same line skipped it as unchanged, so the columns absent from the file
    kept the update run's values instead of resetting."""
    full, supplemental = sources(catalog)
    ok(upload_run(tenant_a, full, b"id,title,availability\nD,Hat,out of stock\nE,Cap,in stock\n"))
    ok(upload_run(tenant_a, supplemental, b"id,title\nD,Hat\n"))
    assert products(catalog).get(sku="D").availability == "out_of_stock"
    ok(upload_run(tenant_a, full, b"id,title\nD,Hat\nE,Cap\n"))
    assert products(catalog).get(sku="D").availability == "in_stock"
