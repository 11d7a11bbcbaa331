"""Pages of the flagged app and Manage Orders, against real PostgreSQL."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog_health.tenancy.roles import Role
from catalogs.models import Order
from catalogs.order_io import ORDER_COLUMNS
from catalogs.tests.factories import CatalogFactory, ProductFactory
from catalogs.tests.order_factories import DailyImpressionFactory, OrderFactory
from flagged.models import FlagState
from flagged.scoring import FlagStatus, Level
from flagged.services import flags_score

from .factories import FlagStateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(tenant_a):
    return CatalogFactory(tenant=tenant_a)


def tab_url(tenant, **params):
    return reverse("flagged:flagged_list", kwargs={"tenant_slug": tenant.slug})


def detail_url(tenant, product):
    return reverse(
        "flagged:flagged_detail", kwargs={"tenant_slug": tenant.slug, "product_id": product.pk}
    )


def make_states(catalog, n, status=FlagStatus.IMPACTED):
    states = []
    base = timezone.now() - timedelta(days=3)
    for i in range(n):
        product = ProductFactory(catalog=catalog)
        states.append(
            FlagStateFactory(
                product=product,
                status=status,
                status_since=base + timedelta(minutes=i),
            )
        )
        DailyImpressionFactory(
            product=product, date=timezone.now().date() - timedelta(days=1), impressions=100
        )
        DailyImpressionFactory(
            product=product, date=timezone.now().date() - timedelta(days=8), impressions=200
        )
    return states


def test_tab_counters_reasons_trend_and_fixed_queries(client, member, catalog):
    make_states(catalog, 60)
    make_states(catalog, 3, status=FlagStatus.AT_RISK)
    FlagStateFactory(product=ProductFactory(catalog=catalog), status=FlagStatus.NONE)
    client.force_login(member(catalog.tenant, Role.SELLER))
    client.get(tab_url(catalog.tenant))  # the first page of a tenant stores it in the session
    counts = {}
    for size in (25, 50):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(tab_url(catalog.tenant), {"size": size})
        assert response.status_code == 200
        assert len(response.context["rows"]) == size
        counts[size] = len(queries)
    assert counts[25] == counts[50], counts
    assert counts[25] <= 14, [q["sql"][:100] for q in queries.captured_queries]
    assert response.context["counters"] == {"impacted": 60, "at_risk": 3, "resolved": 0}
    html = response.content.decode()
    assert "Overdue unshipped rate 12% (target 4%)" in html
    assert "-50.0%" in html  # impressions trend: 100 yesterday vs 200 the week before


def test_one_catalogs_tab_counts_and_links_that_catalog(client, member, catalog, tenant_b):
    other = CatalogFactory(tenant=catalog.tenant, name="Hats")
    make_states(catalog, 3)
    make_states(other, 2)
    make_states(other, 1, status=FlagStatus.AT_RISK)
    client.force_login(member(catalog.tenant, Role.VIEWER))
    response = client.get(tab_url(catalog.tenant), {"catalog": other.pk})
    assert response.context["counters"] == {"impacted": 2, "at_risk": 1, "resolved": 0}
    assert len(response.context["rows"]) == 3
    html = response.content.decode()
    assert f'href="?catalog={other.pk}&amp;status=impacted"' in html
    response = client.get(tab_url(catalog.tenant))
    assert response.context["counters"] == {"impacted": 5, "at_risk": 1, "resolved": 0}
    foreign = CatalogFactory(tenant=tenant_b)
    response = client.get(tab_url(catalog.tenant), {"catalog": foreign.pk})
    assert response.context["counters"] == {"impacted": 0, "at_risk": 0, "resolved": 0}
    assert response.context["rows"] == []


def test_tab_keyset_pages_and_filters(client, member, catalog):
    states = make_states(catalog, 30)
    at_risk = make_states(catalog, 2, status=FlagStatus.AT_RISK)
    client.force_login(member(catalog.tenant, Role.VIEWER))
    seen, cursor = [], None
    while True:
        params = {"size": 25, "status": "impacted"}
        if cursor:
            params["cursor"] = cursor
        response = client.get(tab_url(catalog.tenant), params)
        seen += [r.state.pk for r in response.context["rows"]]
        cursor = response.context["page"].next_cursor
        if not cursor:
            break
    assert sorted(seen) == sorted(s.pk for s in states)
    response = client.get(tab_url(catalog.tenant), {"status": "at_risk"})
    assert [r.state.pk for r in response.context["rows"]] == [s.pk for s in reversed(at_risk)]
    response = client.get(tab_url(catalog.tenant), {"reason": "late_dispatch_rate"})
    assert response.context["rows"] == []
    response = client.get(tab_url(catalog.tenant), {"reason": "overdue_unshipped_rate"})
    assert len(response.context["rows"]) == 32
    sku = states[3].product.sku
    response = client.get(tab_url(catalog.tenant), {"q": sku})
    assert [r.product.sku for r in response.context["rows"]] == [sku]
    response = client.get(tab_url(catalog.tenant), {"sort": "since", "size": 200})
    since = [r.state.status_since for r in response.context["rows"]]
    assert since == sorted(since) and len(since) == 32


@pytest.mark.parametrize(
    "bad",
    [
        {"size": "abc"},
        {"size": "7"},
        {"sort": "nope"},
        # digits to str.isdigit() that int() refuses: an odd catalog id, not an error page
        {"catalog": "²"},
        {"catalog": "1²"},
    ],
)
def test_one_bad_filter_keeps_the_others(client, member, catalog, bad):
    """A link with an odd size or sort still shows (and exports) only the tab it names."""
    make_states(catalog, 2)
    make_states(catalog, 3, status=FlagStatus.AT_RISK)
    client.force_login(member(catalog.tenant, Role.SELLER))
    params = {"status": "at_risk", **bad}
    response = client.get(tab_url(catalog.tenant), params)
    assert {r.state.status for r in response.context["rows"]} == {FlagStatus.AT_RISK}
    assert len(response.context["rows"]) == 3
    export = reverse("flagged:flagged_export", kwargs={"tenant_slug": catalog.tenant.slug})
    body = b"".join(client.get(export, params).streaming_content).decode()
    assert len(list(csv.reader(io.StringIO(body)))) == 1 + 3


def _cursor(value, pk: int) -> str:
    raw = json.dumps([value, pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        # a "Next page" link of one sort kept while the sort is changed in the address
        ("severity", _cursor({"dt": "2026-03-01T00:00:00+00:00"}, 1)),
        ("-since", _cursor(2, 1)),
        # cursors edited by hand: well-formed, but not a value of the sort's column
        ("-since", _cursor("yesterday", 1)),
        ("since", _cursor([1, 2], 1)),
        ("-since", _cursor({"dec": "NaN"}, 1)),
        ("severity", _cursor("high", 1)),
        # JSON as Python reads it: Infinity is a number there, and no row's
        ("severity", _cursor(float("inf"), 1)),
        ("-since", _cursor({"dt": "2026-03-01T00:00:00+00:00"}, float("inf"))),
    ],
    ids=[
        "since-cursor-by-severity",
        "severity-cursor-by-since",
        "text",
        "list",
        "nan",
        "word",
        "infinite-value",
        "infinite-id",
    ],
)
def test_a_cursor_that_does_not_fit_the_sort_opens_the_first_page(
    client, member, catalog, sort, cursor
):
    states = make_states(catalog, 3)
    client.force_login(member(catalog.tenant, Role.VIEWER))
    response = client.get(tab_url(catalog.tenant), {"sort": sort, "cursor": cursor})
    assert response.status_code == 200
    assert sorted(r.state.pk for r in response.context["rows"]) == sorted(s.pk for s in states)


def test_export_is_formula_injection_safe(client, member, catalog):
    product = ProductFactory(catalog=catalog, title='=HYPERLINK("http://evil","x")', sku="+SKU1")
    FlagStateFactory(product=product)
    client.force_login(member(catalog.tenant, Role.VIEWER))
    response = client.get(
        reverse("flagged:flagged_export", kwargs={"tenant_slug": catalog.tenant.slug})
    )
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("sku,title,catalog,status,since,reasons,product_id\r\n")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:4] == ["sku", "title", "catalog", "status"]
    assert rows[1][6] == str(product.pk) and len(rows) == 2
    assert rows[1][0] == "'+SKU1"
    assert rows[1][1].startswith("'=HYPERLINK")
    assert rows[1][3] == "Impacted"
    assert "Overdue unshipped rate 12% (target 4%)" in rows[1][5]


def test_details_page_metrics_graph_history_and_review_links(client, member, catalog):
    product = ProductFactory(catalog=catalog)
    now = timezone.now()
    for i in range(20):
        OrderFactory(
            product=product,
            placed_at=now - timedelta(days=5, hours=i),
            ship_by=now - timedelta(days=3),
            shipped_at=None,
            tracking_number="",
        ) if i < 4 else OrderFactory(product=product, placed_at=now - timedelta(days=5, hours=i))
    for d in range(10):
        DailyImpressionFactory(product=product, date=now.date() - timedelta(days=d))
    flags_score(tenant=catalog.tenant)
    client.force_login(member(catalog.tenant, Role.SELLER))
    url = detail_url(catalog.tenant, product)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    overdue = next(
        m for m in response.context["metrics"] if m["result"].metric == "overdue_unshipped_rate"
    )
    assert overdue["result"].level == Level.IMPACTED
    assert overdue["value_text"] == "20%"
    assert len(overdue["orders"]) == 4
    assert (
        "status=overdue" in overdue["review_url"] and f"sku={product.sku}" in overdue["review_url"]
    )
    assert html.count("Review overdue orders") == 1
    assert "/static/vendor/plotly/plotly-finance.min.js" in html
    assert 'id="impressions-figure"' in html
    assert "None → <b>Impacted</b>" not in html and "Not flagged → <b>Impacted</b>" in html
    figure = response.context["figure_json"]
    assert figure["layout"]["xaxis"]["title"]["text"] == "Date"
    assert [s["name"] for s in figure["layout"]["shapes"]] == ["Impacted period"]


def test_manage_orders_filters_and_marks_shipped(client, member, catalog, tenant_b):
    product = ProductFactory(catalog=catalog)
    now = timezone.now()
    overdue = [
        OrderFactory(
            product=product, ship_by=now - timedelta(days=1), shipped_at=None, tracking_number=""
        )
        for _ in range(3)
    ]
    OrderFactory(product=product)  # shipped
    foreign = OrderFactory(product__catalog__tenant=tenant_b, shipped_at=None, tracking_number="")
    url = reverse("catalogs:order_list", kwargs={"tenant_slug": catalog.tenant.slug})
    client.force_login(member(catalog.tenant, Role.VIEWER, username="v"))
    response = client.get(url, {"status": "overdue", "sku": product.sku})
    assert {o.pk for o in response.context["page"].rows} == {o.pk for o in overdue}
    assert (
        client.post(url, {"ship_one": overdue[0].pk, f"tracking-{overdue[0].pk}": "1Z"}).status_code
        == 403
    )
    client.force_login(member(catalog.tenant, Role.SELLER, username="s"))
    # single
    response = client.post(url, {"ship_one": overdue[0].pk, f"tracking-{overdue[0].pk}": " 1ZA "})
    assert response.status_code == 302
    # bulk, one without tracking: refused as a whole, nothing changes
    data = {
        "order": [overdue[1].pk, overdue[2].pk],
        f"tracking-{overdue[1].pk}": "1ZB",
        f"tracking-{overdue[2].pk}": "",
        "bulk": "1",
    }
    client.post(url, data)
    assert Order.objects.get(pk=overdue[1].pk).shipped_at is None
    data[f"tracking-{overdue[2].pk}"] = "1ZC"
    data["order"].append(foreign.pk)
    data[f"tracking-{foreign.pk}"] = "1ZX"
    client.post(url, data)
    got = {o.pk: o.tracking_number for o in Order.objects.filter(pk__in=[o.pk for o in overdue])}
    assert got == {overdue[0].pk: "1ZA", overdue[1].pk: "1ZB", overdue[2].pk: "1ZC"}
    assert Order.objects.get(pk=foreign.pk).shipped_at is None  # another tenant's: untouched
    # A line shipped without tracking gets its number; its shipping time stays.
    untracked = OrderFactory(product=product, tracking_number="")
    shipped_at = untracked.shipped_at
    client.post(url, {"ship_one": untracked.pk, f"tracking-{untracked.pk}": "1ZLATE"})
    untracked.refresh_from_db()
    assert (untracked.tracking_number, untracked.shipped_at) == ("1ZLATE", shipped_at)


def test_manage_orders_shows_an_unknown_tracking_number_as_unknown(client, member, catalog):
    """A shipped line whose file did not say its tracking (Shopify's export) reads
    "unknown", not "none"; it is not among the lines shipped without tracking (it does not
    count against the rate), and the seller can still add its number."""
    product = ProductFactory(catalog=catalog)
    unknown = OrderFactory(product=product, tracking_number=None)
    none = OrderFactory(product=product, tracking_number="")
    url = reverse("catalogs:order_list", kwargs={"tenant_slug": catalog.tenant.slug})
    client.force_login(member(catalog.tenant, Role.VIEWER, username="v"))
    page = client.get(url).content.decode()
    assert (
        page.count('id="tracking-unknown-') == 1 and f'id="tracking-unknown-{unknown.pk}"' in page
    )
    assert page.count(">none</span>") == 1
    listed = client.get(url, {"status": "no_tracking"}).context["page"].rows
    assert [o.pk for o in listed] == [none.pk]
    client.force_login(member(catalog.tenant, Role.SELLER, username="s"))
    assert "Not in the order file: add it" in client.get(url).content.decode()
    shipped_at = unknown.shipped_at
    client.post(url, {"ship_one": unknown.pk, f"tracking-{unknown.pk}": "1ZSHOP"})
    unknown.refresh_from_db()
    assert (unknown.tracking_number, unknown.shipped_at) == ("1ZSHOP", shipped_at)


def test_upload_reports_row_errors_and_keeps_good_rows(client, member, catalog):
    product = ProductFactory(catalog=catalog, sku="SKU-OK")
    client.force_login(member(catalog.tenant, Role.SELLER))
    url = reverse(
        "catalogs:catalog_upload",
        kwargs={"tenant_slug": catalog.tenant.slug, "catalog_id": catalog.pk},
    )
    header = ",".join(ORDER_COLUMNS)
    body = "\n".join(
        [
            header,
            "A1,SKU-OK,1,10.00,1.00,2026-03-01T10:00:00Z,2026-03-03T10:00:00Z,,,,,",
            "A2,SKU-NOPE,1,10.00,1.00,2026-03-01T10:00:00Z,2026-03-03T10:00:00Z,,,,,",
            "A3,SKU-OK,1,ten,1.00,2026-03-01T10:00:00Z,2026-03-03T10:00:00Z,,,,,",
        ]
    ).encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    # an order file is previewed before anything is saved, then imported
    response = client.post(url, {"kind": "orders", "file": SimpleUploadedFile("o.csv", body)})
    assert response.status_code == 302
    preview = client.get(response.url).content.decode()
    assert "SKU-NOPE" in preview and "ten" in preview
    assert not Order.objects.for_tenant(catalog.tenant).exists()
    client.post(response.url, {"date_order": ""})
    assert Order.objects.for_tenant(catalog.tenant).get().product_id == product.pk


def test_end_to_end_orders_to_impacted_to_fixed_to_resolved(client, member, catalog):
    """Orders come in, the product is Impacted, the seller ships in Manage Orders, the
    status moves at the next scorings and the product is Resolved."""
    tenant = catalog.tenant
    product = ProductFactory(catalog=catalog, sku="E2E-1")
    now = timezone.now()
    on_time = [
        OrderFactory(product=product, placed_at=now - timedelta(days=10, hours=i))
        for i in range(45)
    ]
    late = [
        OrderFactory(
            product=product,
            placed_at=now - timedelta(days=6, hours=i),
            ship_by=now - timedelta(days=4),
            shipped_at=None,
            tracking_number="",
        )
        for i in range(5)
    ]
    assert on_time
    flags_score(tenant=tenant, now=now)
    state = FlagState.objects.for_tenant(tenant).get(product=product)
    assert state.status == FlagStatus.IMPACTED  # 5 of 50 overdue: 10% > 4%
    client.force_login(member(tenant, Role.SELLER))
    url = reverse("catalogs:order_list", kwargs={"tenant_slug": tenant.slug})
    listed = client.get(url, {"status": "overdue", "sku": "E2E-1"}).context["page"].rows
    assert {o.pk for o in listed} == {o.pk for o in late}
    data = {"order": [o.pk for o in late], "bulk": "1"}
    data.update({f"tracking-{o.pk}": f"1Z-{o.pk}" for o in late})
    client.post(url, data)
    flags_score(tenant=tenant, now=now + timedelta(minutes=1))
    state.refresh_from_db()
    # No order is overdue any more; shipping them late still counts as late dispatch (10%).
    assert (state.overdue_num, state.late_num) == (0, 5)
    assert state.status == FlagStatus.IMPACTED
    # The seller keeps shipping on time; three weeks later the 5 late shipments are
    # 5 of 305 (1.6%, under the 2% at-risk threshold).
    later = now + timedelta(days=21)
    for i in range(300):
        OrderFactory(product=product, placed_at=later - timedelta(days=1, minutes=4 * i))
    flags_score(tenant=tenant, now=later)
    state.refresh_from_db()
    assert state.status == FlagStatus.RESOLVED
    response = client.get(detail_url(tenant, product))
    assert [h["to"] for h in response.context["history"]] == ["Resolved", "Impacted"]


def test_details_count_the_orders_to_fix_of_a_higher_is_better_metric(client, member, catalog):
    """Valid tracking counts the orders with a number; the ones listed to fix lack one."""
    product = ProductFactory(catalog=catalog)
    now = timezone.now()
    for i in range(30):
        OrderFactory(
            product=product,
            placed_at=now - timedelta(days=5, hours=i),
            ship_by=now - timedelta(days=3),
            shipped_at=now - timedelta(days=4),
            tracking_number="" if i < 6 else f"1Z{i}",
        )
    flags_score(tenant=catalog.tenant)
    client.force_login(member(catalog.tenant, Role.SELLER))
    url = detail_url(catalog.tenant, product)
    response = client.get(url)
    tracking = next(
        m for m in response.context["metrics"] if m["result"].metric == "valid_tracking_rate"
    )
    assert tracking["result"].level == Level.IMPACTED
    assert len(tracking["orders"]) == 6
    html = response.content.decode()
    assert "Orders to fix (6)" in html
    assert "24 / 30" in html  # the metric itself still counts the orders with tracking


def test_details_of_a_product_never_flagged(client, member, catalog):
    product = ProductFactory(catalog=catalog)
    client.force_login(member(catalog.tenant, Role.VIEWER))
    url = detail_url(catalog.tenant, product)
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "never been flagged" in html
    assert "Not flagged" in html
    assert "No impressions recorded" in html
    assert "Review " not in html  # no Review button without a reason


def test_details_escape_hostile_sku_and_title(client, member, catalog):
    product = ProductFactory(
        catalog=catalog,
        sku='<a href="javascript:alert(1)">x</a>',
        title="<script>alert(1)</script>",
    )
    FlagStateFactory(product=product)
    client.force_login(member(catalog.tenant, Role.VIEWER))
    html = client.get(detail_url(catalog.tenant, product)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert '<a href="javascript' not in html
    tab = client.get(tab_url(catalog.tenant)).content.decode()
    assert "<script>alert(1)</script>" not in tab


@pytest.mark.parametrize("sort", ["-since", "since", "severity"])
def test_keyset_walk_visits_every_row_once_in_order(client, member, catalog, sort):
    states = make_states(catalog, 23) + make_states(catalog, 9, status=FlagStatus.AT_RISK)
    same_time = timezone.now() - timedelta(days=1)
    FlagState.objects.filter(pk__in=[s.pk for s in states[:6]]).update(status_since=same_time)
    client.force_login(member(catalog.tenant, Role.VIEWER))
    seen, cursor = [], None
    while True:
        params = {"size": 25, "sort": sort, **({"cursor": cursor} if cursor else {})}
        response = client.get(tab_url(catalog.tenant), params)
        seen += [r.state for r in response.context["rows"]]
        cursor = response.context["page"].next_cursor
        if not cursor:
            break
    assert sorted(s.pk for s in seen) == sorted(s.pk for s in states)
    key = {
        "-since": lambda s: (s.status_since, s.pk),
        "since": lambda s: (s.status_since, s.pk),
        "severity": lambda s: (s.worst_level, s.pk),
    }[sort]
    assert [key(s) for s in seen] == sorted(map(key, seen), reverse=sort != "since")


def _fill_states(tenant, n: int) -> None:
    """n flagged states written in one statement (product ids need no rows: the tab's index
    walk is what is measured, and FlagState has no database FK to products)."""
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO flagged_flagstate (tenant_id, product_id, status, status_since,
              worst_level, updated_at, oos_num, oos_den, oos_level, overdue_num, overdue_den,
              overdue_level, late_num, late_den, late_level, fee_num, fee_den, fee_level,
              tracking_num, tracking_den, tracking_level)
            SELECT %(t)s, 1000000 + g,
                   (ARRAY['impacted', 'at_risk', 'resolved'])[1 + g %% 3],
                   now() - (g %% 700) * interval '1 minute', 2 - g %% 3, now(),
                   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            FROM generate_series(1, %(n)s) g
            """,
            {"t": tenant.pk, "n": n},
        )
        cur.execute("ANALYZE flagged_flagstate")


@pytest.mark.parametrize(
    ("sort", "filters", "index"),
    [
        ("-since", {}, "flagstate_since_idx"),
        ("since", {}, "flagstate_since_idx"),
        ("severity", {}, "flagstate_severity_idx"),
        ("-since", {"status": "impacted"}, "flagstate_tab_idx"),
        ("since", {"status": "at_risk"}, "flagstate_tab_idx"),
    ],
)
@pytest.mark.parametrize("removed", [0, 300])
def test_tab_pages_deep_in_the_walk_are_an_index_range_scan(
    tenant_a, sort, filters, index, removed
):
    """A page after a cursor is bounded by the row comparison inside the index scan of its
    sort (no Sort node, no filter over the rows before the cursor), also when products
    removed from their catalog are left out."""
    from flagged import selectors

    _fill_states(tenant_a, 6000)
    catalog = CatalogFactory(tenant=tenant_a)
    for _ in range(removed):
        product = ProductFactory(catalog=catalog, removed_at=timezone.now())
        FlagStateFactory(product=product, status_since=timezone.now() - timedelta(hours=3))
    with connection.cursor() as cur:
        cur.execute("ANALYZE catalogs_product")
        cur.execute("ANALYZE flagged_flagstate")
    page = selectors.flagged_page(tenant=tenant_a, filters=filters, cursor=None, sort=sort, size=50)
    for _ in range(3):  # a few pages in
        page = selectors.flagged_page(
            tenant=tenant_a, filters=filters, cursor=page.next_cursor, sort=sort, size=50
        )
    with CaptureQueriesContext(connection) as queries:
        selectors.flagged_page(
            tenant=tenant_a, filters=filters, cursor=page.next_cursor, sort=sort, size=50
        )
    sql = next(q["sql"] for q in queries.captured_queries if "flagged_flagstate" in q["sql"])
    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert index in plan and "Sort" not in plan, plan
    index_cond = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "ROW(" in index_cond, plan
