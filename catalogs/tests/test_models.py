"""Constraints the database itself enforces on catalogs and products."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalogs.models import Product
from catalogs.tests.factories import CatalogFactory, ProductFactory


def _insert_products(
    cur,
    tenant,
    catalog,
    count: int,
    *,
    title: str = "'Product ' || g",
    availability: str = "'in_stock'",
    price: str = "g",
    last_changed_at: str = "now()",
) -> None:
    """``count`` products in one INSERT … SELECT; the keyword arguments are SQL
    expressions of the series number g."""
    cur.execute(
        "INSERT INTO catalogs_product (tenant_id, catalog_id, sku, item_group_id, title, "  # noqa: S608 - the tests' own expressions
        "description, link, image_link, additional_image_links, brand, gtin, mpn, condition, "
        "availability, price, currency, product_type, google_product_category, "
        "custom_attributes, content_hash, review_status, last_changed_at) "
        f"SELECT %s, %s, 'S-' || g, '', {title}, '', '', '', '[]', '', '', '', 'new', "
        f"{availability}, {price}, 'USD', '', '', '{{}}', '', 'available', {last_changed_at} "
        "FROM generate_series(1, %s) g",
        [tenant.pk, catalog.pk, count],
    )


@pytest.mark.django_db
def test_a_product_cannot_belong_to_another_tenants_catalog(tenant_a, tenant_b):
    """One foreign key (tenant_id, catalog_id) -> catalog (tenant_id, id): the database
    itself refuses a product whose tenant is not its catalog's."""
    theirs = CatalogFactory(tenant=tenant_b)
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        Product.objects.create(tenant=tenant_b, catalog=theirs, sku="ok")
        with pytest.raises(IntegrityError), transaction.atomic():
            Product.objects.create(tenant=tenant_a, catalog=theirs, sku="crossed")


@pytest.mark.django_db
@pytest.mark.parametrize(("availability", "rows"), [("discontinued", 10), ("backorder", 0)])
def test_a_filter_on_a_rarer_availability_uses_its_index_under_every_sort(
    tenant_a, availability, rows
):
    """product_availability_idx leaves in-stock products out (most of a feed: a first pull
    writes fewer index entries); a filter on any other value, one in 500 products or none,
    still finds its products through it whatever the list's sort."""
    from catalogs import selectors

    catalog = CatalogFactory(tenant=tenant_a)
    with connection.cursor() as cur:
        _insert_products(
            cur,
            tenant_a,
            catalog,
            5000,
            availability="CASE WHEN g %% 500 = 0 THEN 'discontinued' ELSE 'in_stock' END",
        )
        cur.execute("ANALYZE catalogs_product")
        cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'product_availability_idx'")
        assert cur.fetchone()[0].endswith("WHERE (NOT ((availability)::text = 'in_stock'::text))")
    for sort in selectors.PRODUCT_SORTS:
        qs, field = selectors.product_sorted(
            selectors.product_search(
                tenant=tenant_a, catalog=catalog, filters={"availability": availability}
            ),
            catalog=catalog,
            sort=sort,
        )
        qs = qs.order_by(field, "id")
        assert "product_availability_idx" in qs[:100].explain(), sort
        assert len(qs) == rows


def _sort_key(product_id):
    """A product's sort key, and whether its last change is the product's."""
    from catalogs.models import ProductSortKey

    key = ProductSortKey.objects.filter(product_id=product_id).first()
    if key is None:
        return None
    product = Product.objects.get(pk=product_id)
    assert key.last_changed_at == product.last_changed_at
    return (key.tenant_id, key.catalog_id, key.title, key.price)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("write", "expected"),
    [
        ("create", ("Trail", "10.00")),
        ("save_title", ("Renamed", "10.00")),
        ("update_price", ("Trail", "7.50")),
        ("update_price_to_null", ("Trail", None)),
        ("update_other_fields", ("Trail", "10.00")),
        ("update_last_changed", ("Trail", "10.00")),
        ("bulk_update_title", ("Bulk", "10.00")),
        ("move_catalog", ("Trail", "10.00")),
        ("delete", None),
        ("delete_catalog", None),
    ],
)
def test_every_write_of_a_product_keeps_its_sort_key_in_step(tenant_a, write, expected):
    """The database's triggers keep the list's sort key (title, price) right whatever
    path writes the product: ORM saves, queryset updates and deletes, cascades."""
    catalog = CatalogFactory(tenant=tenant_a)
    product = Product.objects.create(
        tenant=tenant_a, catalog=catalog, sku="S1", title="Trail", price=Decimal("10.00")
    )
    other = CatalogFactory(tenant=tenant_a)
    products = Product.objects.filter(pk=product.pk)
    changed_at = product.last_changed_at + timedelta(hours=1)
    match write:
        case "save_title":
            product.title = "Renamed"
            product.save()
        case "update_price":
            products.update(price=Decimal("7.50"))
        case "update_price_to_null":
            products.update(price=None)
        case "update_other_fields":
            products.update(review_status="available", availability="out_of_stock")
        case "update_last_changed":
            products.update(last_changed_at=changed_at)
        case "bulk_update_title":
            product.title = "Bulk"
            Product.objects.bulk_update([product], ["title"])
        case "move_catalog":
            products.update(catalog=other)
        case "delete":
            product.delete()
        case "delete_catalog":
            catalog.delete()
    if expected is None:
        assert _sort_key(product.pk) is None
    else:
        title, price = expected
        moved = write == "move_catalog"
        assert _sort_key(product.pk) == (
            tenant_a.pk,
            other.pk if moved else catalog.pk,
            title,
            None if price is None else Decimal(price),
        )


def _stored_title(product_id):
    from catalogs.models import ProductSortKey

    return (
        ProductSortKey.objects.filter(product_id=product_id).values_list("title", flat=True).first()
    )


@pytest.mark.django_db
@pytest.mark.parametrize("caller_deferred", [False, True])
def test_bulk_writes_get_their_sort_keys_written_after_them(tenant_a, caller_deferred):
    """What a re-pull's merge does: products updated and inserted with the triggers off,
    then their sort keys written set-based; the triggers work again afterwards. A caller
    that deferred them itself (a first pull) fills them itself: nothing is written."""
    from catalogs import sort_keys

    catalog = CatalogFactory(tenant=tenant_a)
    with connection.cursor() as cur:
        _insert_products(cur, tenant_a, catalog, 3)
    untouched, changed = Product.objects.filter(catalog=catalog).order_by("sku")[:2]
    later = timezone.now() + timedelta(hours=1)
    written = (
        "SELECT id FROM catalogs_product WHERE catalog_id = %s AND (sku = %s OR sku LIKE 'N-%%')"
    )
    with transaction.atomic(), connection.cursor() as cur:
        if caller_deferred:
            sort_keys.sort_keys_defer(cur)
        with sort_keys.sort_keys_written_after(
            cur, catalog_id=catalog.pk, ids_sql=written, params=[catalog.pk, changed.sku]
        ):
            Product.objects.filter(pk=changed.pk).update(
                title="Changed", price=Decimal("9.99"), last_changed_at=later
            )
            ProductFactory(
                tenant=tenant_a, catalog=catalog, sku="N-1", title="New", price=Decimal("5")
            )
            assert _stored_title(changed.pk) == changed.title  # not yet
        new = Product.objects.get(catalog=catalog, sku="N-1")
        if caller_deferred:
            assert _stored_title(changed.pk) == changed.title
            assert _stored_title(new.pk) is None
            return
        assert _sort_key(changed.pk) == (tenant_a.pk, catalog.pk, "Changed", Decimal("9.99"))
        assert _sort_key(new.pk) == (tenant_a.pk, catalog.pk, "New", Decimal("5"))
        assert _sort_key(untouched.pk)[2] == untouched.title
        Product.objects.filter(pk=untouched.pk).update(title="By trigger")
        assert _sort_key(untouched.pk)[2] == "By trigger"


@pytest.mark.django_db
def test_a_deferred_bulk_insert_gets_its_sort_keys_from_a_new_partition(tenant_a):
    """What a first pull does on PostgreSQL: products inserted with the triggers deferred,
    then one partition filled and indexed in bulk and attached, in the same transaction."""
    from catalogs import selectors, sort_keys

    catalog = CatalogFactory(tenant=tenant_a)
    with transaction.atomic(), connection.cursor() as cur:
        sort_keys.sort_keys_defer(cur)
        _insert_products(cur, tenant_a, catalog, 300, title="'Product ' || (1000 - g)")
        assert _sort_key(Product.objects.filter(catalog=catalog).first().pk) is None  # deferred
        # a row of the catalog left in the default partition (its product went by TRUNCATE,
        # which fires no delete trigger) must not make the ATTACH fail
        cur.execute(
            "INSERT INTO catalogs_productsortkey (tenant_id, product_id, catalog_id, title, "
            "last_changed_at) VALUES (%s, 999999999, %s, 'stale', now())",
            [tenant_a.pk, catalog.pk],
        )
        assert sort_keys.sort_keys_fill_new_partition(
            cur, tenant_id=tenant_a.pk, catalog_id=catalog.pk
        )
        cur.execute(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE c.relname LIKE %s",
            [sort_keys.sort_key_partition(catalog.pk) + "%"],
        )
        attached = cur.fetchone()[0]  # the partition and its four indexes
    assert attached == 5
    page = selectors.product_page(
        tenant=tenant_a, catalog=catalog, filters={}, cursor=None, sort="title", size=25
    )
    assert [p.title for p in page.rows][:3] == ["Product 700", "Product 701", "Product 702"]
    # later writes go through the triggers again, into the catalog's partition
    Product.objects.filter(catalog=catalog, sku="S-1").update(title="Aardvark")
    page = selectors.product_page(
        tenant=tenant_a, catalog=catalog, filters={}, cursor=None, sort="title", size=1
    )
    assert [p.sku for p in page.rows] == ["S-1"]


@pytest.mark.django_db(transaction=True)
def test_the_partition_of_a_deleted_catalog_is_dropped_and_no_other(tenant_a):
    from catalogs import sort_keys
    from catalogs.tasks import drop_orphan_sort_key_partitions

    def build(catalog):
        Product.objects.create(tenant=tenant_a, catalog=catalog, sku="S1", title="T")
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("DELETE FROM catalogs_productsortkey WHERE catalog_id = %s", [catalog.pk])
            sort_keys.sort_keys_fill_new_partition(
                cur, tenant_id=tenant_a.pk, catalog_id=catalog.pk
            )

    def partitions():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT relname FROM pg_class WHERE relname LIKE 'catalogs_productsortkey%%' "
                "AND relkind = 'r' ORDER BY relname"
            )
            return [row[0] for row in cur.fetchall()]

    def left_unattached(catalog):
        """What a first pull that failed after committing its sort keys leaves."""
        with connection.cursor() as cur:
            table = sort_keys.sort_keys_new_partition_table(
                cur, tenant_id=tenant_a.pk, catalog_id=catalog.pk
            )
            cur.execute(
                f"INSERT INTO {table} VALUES (%s, -1, %s, 'ghost', 1, now())",  # noqa: S608
                [tenant_a.pk, catalog.pk],
            )
        return table

    kept, deleted = CatalogFactory(tenant=tenant_a), CatalogFactory(tenant=tenant_a)
    build(kept)
    build(deleted)
    deleted_partition = sort_keys.sort_key_partition(deleted.pk)
    assert deleted_partition in partitions()
    deleted.delete()  # its products' delete trigger empties the partition
    gone, alive = CatalogFactory(tenant=tenant_a), CatalogFactory(tenant=tenant_a)
    gone_table, alive_table = left_unattached(gone), left_unattached(alive)
    gone.delete()
    # what the nightly task runs (it may also drop partitions other tests left behind)
    assert drop_orphan_sort_key_partitions() >= 2
    assert deleted_partition not in partitions() and gone_table not in partitions()
    assert sort_keys.sort_key_partition(kept.pk) in partitions()
    assert alive_table in partitions()  # its catalog's next first pull drops it
    assert "catalogs_productsortkey_default" in partitions()
    assert drop_orphan_sort_key_partitions() == 0
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE {alive_table}")


@pytest.mark.django_db
def test_the_title_and_price_sorts_walk_an_index_in_a_partition_or_the_default(tenant_a):
    """A catalog with its own partition walks that partition's (title | price |
    last_changed_at, product) index; one in the default partition walks the default's
    (tenant, catalog, ...) index. The catalog's last change is one lookup in the same."""
    from catalogs import selectors, sort_keys

    own, shared = CatalogFactory(tenant=tenant_a), CatalogFactory(tenant=tenant_a)
    others = [CatalogFactory(tenant=tenant_a) for _ in range(3)]  # the default's neighbours
    with transaction.atomic(), connection.cursor() as cur:
        sort_keys.sort_keys_defer(cur)
        for catalog in (own, shared, *others):
            _insert_products(cur, tenant_a, catalog, 3000)
        sort_keys.sort_keys_fill_new_partition(cur, tenant_id=tenant_a.pk, catalog_id=own.pk)
        cur.execute(f"SET LOCAL {sort_keys.DEFER_SORT_KEYS} = 'off'")
        cur.execute(
            "INSERT INTO catalogs_productsortkey (tenant_id, product_id, catalog_id, title, "
            "price, last_changed_at) SELECT tenant_id, id, catalog_id, title, price, "
            "last_changed_at FROM catalogs_product WHERE catalog_id <> %s",
            [own.pk],
        )
        cur.execute("ANALYZE catalogs_product")
        cur.execute("ANALYZE catalogs_productsortkey_default")
    partition = sort_keys.sort_key_partition(own.pk)
    for sort, key in (
        ("title", "title"),
        ("price", "price"),
        ("-price", "price"),
        ("changed", "changed"),
    ):
        for catalog, index in (
            (own, f"{partition}_{key}"),
            (shared, f"product_sort_default_{key}_idx"),
        ):
            qs, field = selectors.product_sorted(
                selectors.product_search(tenant=tenant_a, catalog=catalog, filters={}),
                catalog=catalog,
                sort=sort,
            )
            plan = qs.order_by(field, "-id" if field.startswith("-") else "id")[:50].explain()
            assert index in plan and "Sort" not in plan, (sort, plan)
    for catalog in (own, shared):
        Product.objects.filter(catalog=catalog, sku="S-7").update(last_changed_at=timezone.now())
        latest = Product.objects.filter(catalog=catalog).order_by("-last_changed_at").first()
        assert latest.sku == "S-7"
        assert selectors.products_last_changed(tenant=tenant_a, catalog=catalog) == (
            latest.last_changed_at
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "column"),
    [
        ("sku", "sku"),
        ("title", "title"),
        ("price", "price"),
        ("-price", "price"),
        ("changed", "last_changed_at"),
    ],
)
def test_a_later_page_starts_at_its_cursor_in_the_index(tenant_a, sort, column):
    """Keyset pages deep in a catalog cost what the first does: the rows after the cursor
    are a row comparison that bounds the index scan, not a filter over the rows before."""
    from django.test.utils import CaptureQueriesContext

    from catalogs import selectors, sort_keys

    catalog = CatalogFactory(tenant=tenant_a)
    with transaction.atomic(), connection.cursor() as cur:
        sort_keys.sort_keys_defer(cur)
        _insert_products(
            cur,
            tenant_a,
            catalog,
            3000,
            price="g %% 97",
            last_changed_at="now() - g * interval '1 second'",
        )
        sort_keys.sort_keys_fill_new_partition(cur, tenant_id=tenant_a.pk, catalog_id=catalog.pk)
        cur.execute("ANALYZE catalogs_product")

    def page(cursor):
        return selectors.product_page(
            tenant=tenant_a, catalog=catalog, filters={}, cursor=cursor, sort=sort, size=100
        )

    first = page(None)
    with CaptureQueriesContext(connection) as ctx:
        second = page(first.next_cursor)
    assert not {p.pk for p in first.rows} & {p.pk for p in second.rows}
    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + ctx.captured_queries[-1]["sql"])
        bounds = [row[0] for row in cur.fetchall() if "Index Cond" in row[0] and column in row[0]]
    assert any(("> " in b or "< " in b or ">= " in b) for b in bounds), bounds
