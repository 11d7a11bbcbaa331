"""One rule for a tracking number at every entry: Mark shipped, the API, the order CSV parser
and the order file import trim outer blanks and invisible characters, refuse a number with one
inside (naming it), and keep what they accept valid for the valid tracking rate. Manage Orders
lists a stored number the rate counts against as "no tracking", and Mark shipped replaces it."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from catalog_health.tenancy.roles import Role
from catalogs import order_files, selectors, services
from catalogs.models import Order
from catalogs.order_formats import order_file_open
from catalogs.order_io import order_row_parse
from catalogs.rules import (
    BLANK,
    INVISIBLE,
    TRACKING_VALID_PATTERN,
    invisible_trim,
    tracking_number_error,
)
from catalogs.tests.export_samples import csv_cell, tiktok_csv, tiktok_row
from catalogs.tests.factories import ProductFactory
from catalogs.tests.order_factories import OrderFactory

# (id, as typed or exported, as stored (None: refused), what the refusal names)
ENTRIES = [
    ("UPS", "1Z999AA10123456784", "1Z999AA10123456784", ""),
    ("outer spaces", "  1Z999AA1  ", "1Z999AA1", ""),
    ("inner spaces as carriers print them", "1Z 999 AA1", "1Z 999 AA1", ""),
    ("letters beyond ASCII", "SF順豊1234é", "SF順豊1234é", ""),
    ("TikTok's trailing tab", "BR123456789\t", "BR123456789", ""),
    ("a spreadsheet's byte order mark", "\ufeff1Z999", "1Z999", ""),
    ("direction marks copied from a page", "\u200e1Z999\u200f", "1Z999", ""),
    ("zero-width space at the end", "1Z999\u200b", "1Z999", ""),
    ("DEL at the end", "1Z999\x7f", "1Z999", ""),
    ("no-break spaces around", "\u00a01Z999\u00a0", "1Z999", ""),
    ("64 characters", "A" * 64, "A" * 64, ""),
    ("tab inside", "1Z\t999", None, "U+0009 TAB"),
    ("DEL inside", "1Z\x7f999", None, "U+007F DELETE"),
    ("NUL inside", "1Z\x00999", None, "U+0000 NULL"),
    ("C1 control inside", "1Z\x85999", None, "U+0085"),
    ("zero-width space inside", "1Z\u200b999", None, "U+200B ZERO WIDTH SPACE"),
    ("right-to-left override inside", "1Z\u202e999", None, "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("soft hyphen inside", "1Z\u00ad999", None, "U+00AD SOFT HYPHEN"),
    ("line separator inside", "1Z\u2028999", None, "U+2028 LINE SEPARATOR"),
    ("word joiner inside", "1Z\u2060999", None, "U+2060 WORD JOINER"),
    ("language tag inside", "1Z\U000e0041 9", None, "U+E0041 TAG LATIN CAPITAL LETTER A"),
    ("65 characters", "A" * 65, None, "longer than 64 characters"),
]
ENTRY_IDS = [e[0] for e in ENTRIES]
# what a file or an API line may also say: the line has none (stored "")
NONE = [("empty", ""), ("spaces", "   "), ("zero-width space only", "\u200b"), ("DEL", "\x7f")]


def _valid(number: str) -> bool:
    return re.search(TRACKING_VALID_PATTERN, number) is not None


@pytest.mark.parametrize(("typed", "stored", "named"), [e[1:] for e in ENTRIES], ids=ENTRY_IDS)
def test_the_rule(typed, stored, named):
    cleaned = invisible_trim(typed)
    error = tracking_number_error(cleaned)
    if stored is None:
        assert error is not None and named in error
    else:
        assert (cleaned, error) == (stored, None)
        assert _valid(cleaned)


@pytest.mark.parametrize("typed", [n[1] for n in NONE], ids=[n[0] for n in NONE])
def test_what_cleans_to_nothing_is_none(typed):
    assert invisible_trim(typed) == ""
    assert tracking_number_error("") is None
    assert not _valid("")


@given(st.text(max_size=80))
def test_what_entry_accepts_the_rate_counts_valid_unless_empty(text):
    cleaned = invisible_trim(text)
    if tracking_number_error(cleaned) is None:
        assert _valid(cleaned) == (cleaned != "")


def test_the_character_lists_follow_unicode():
    import unicodedata

    invisible, blank = re.compile(f"[{INVISIBLE}]"), re.compile(f"[{BLANK}]")
    for cp in range(1, 0x110000):
        c = chr(cp)
        category = unicodedata.category(c)
        assert bool(invisible.match(c)) == (category in ("Cc", "Cf", "Zl", "Zp")), hex(cp)
        assert bool(blank.match(c)) == (category == "Zs"), hex(cp)


# --- entry points ----------------------------------------------------------------------------


def _api_line(tracking: str) -> dict:
    return {
        "order_id": "A1",
        "sku": "SKU-1",
        "item_price": "10.00",
        "placed_at": "2026-03-01T10:00:00Z",
        "ship_by": "2026-03-03T10:00:00Z",
        "shipped_at": "2026-03-02T10:00:00Z",
        "tracking_number": tracking,
    }


@pytest.mark.parametrize(("typed", "stored", "named"), [e[1:] for e in ENTRIES], ids=ENTRY_IDS)
def test_an_api_or_csv_line(typed, stored, named):
    parsed = order_row_parse(2, _api_line(typed), tz="UTC")
    if stored is None:
        assert isinstance(parsed, list)
        assert [e.column for e in parsed] == ["tracking_number"]
        assert named in parsed[0].message
    else:
        assert not isinstance(parsed, list), parsed
        assert parsed.tracking_number == stored


def test_an_order_file():
    """Every entry as one line of a TikTok Shop export (NUL aside: a file holding one is not
    text), read by the import's typing step."""
    entries = [e for e in ENTRIES if "\x00" not in e[1]] + [(n, t, "", "") for n, t in NONE]
    rows = [
        tiktok_row(order_id=f"57646141304000{i:04d}", tracking=csv_cell(typed))
        for i, (_, typed, _, _) in enumerate(entries)
    ]
    frames, errors = [], []
    for lines, errs, _ in order_file_open(tiktok_csv(*rows)).chunks():
        frames.append(lines)
        errors.extend(errs)
    lines = pd.concat(frames, ignore_index=True)
    stored = dict(zip(lines["order_id"], lines["tracking_number"], strict=True))
    refused = {e.line: e for e in errors}
    for i, (name, _, expected, named) in enumerate(entries):
        order_id = f"57646141304000{i:04d}"
        if expected is None:
            error = refused[i + 2]
            assert (error.column, order_id in stored) == ("tracking_number", False), name
            assert named in error.message, name
        else:
            assert stored[order_id] == expected, name
    assert len(refused) == sum(e[2] is None for e in entries)


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "stored", "named"), [e[1:] for e in ENTRIES], ids=ENTRY_IDS)
def test_mark_shipped(tenant_a, typed, stored, named):
    order = OrderFactory(product=ProductFactory(catalog__tenant=tenant_a), shipped_at=None)
    if stored is None:
        with pytest.raises(ValidationError) as exc:
            services.orders_mark_shipped(tenant=tenant_a, actor=None, tracking={order.pk: typed})
        assert named in exc.value.message_dict[str(order.pk)][0]
        order.refresh_from_db()
        assert order.shipped_at is None
    else:
        assert services.orders_mark_shipped(tenant=tenant_a, actor=None, tracking={order.pk: typed})
        order.refresh_from_db()
        assert order.tracking_number == stored


@pytest.mark.django_db
@pytest.mark.parametrize("typed", [n[1] for n in NONE], ids=[n[0] for n in NONE])
def test_mark_shipped_asks_for_a_number_that_cleans_to_nothing(tenant_a, typed):
    order = OrderFactory(product=ProductFactory(catalog__tenant=tenant_a), shipped_at=None)
    with pytest.raises(ValidationError) as exc:
        services.orders_mark_shipped(tenant=tenant_a, actor=None, tracking={order.pk: typed})
    assert exc.value.message_dict[str(order.pk)] == ["Enter a tracking number."]


@pytest.mark.django_db
def test_the_api_names_the_character_and_stores_the_trimmed_number(
    api_client_for, member, tenant_a
):
    product = ProductFactory(catalog__tenant=tenant_a, sku="SKU-1")
    api = api_client_for(member(tenant_a, "seller"), tenant_a)
    lines = [
        {**_api_line("1Z\u200b999"), "order_id": "A1"},
        {**_api_line("\ufeff1Z999\u200b"), "order_id": "A2"},
    ]
    body = api.post(
        "/api/v1/orders/bulk/", {"catalog": product.catalog_id, "orders": lines}, format="json"
    ).json()
    assert body["written"] == 1 and body["refused"] == 1
    [error] = body["errors"]
    assert (error["index"], error["field"]) == (0, "tracking_number")
    assert "U+200B ZERO WIDTH SPACE" in error["message"]
    assert list(Order.objects.for_tenant(tenant_a).values_list("tracking_number", flat=True)) == [
        "1Z999"
    ]


# --- stored numbers --------------------------------------------------------------------------

# (id, as stored, counted valid by the rate)
STORED = [
    ("UPS", "1Z999AA10123456784", True),
    ("outer spaces", "  1Z999AA1  ", True),
    ("letters beyond ASCII", "SF順豊1234é", True),
    ("unknown", None, None),
    ("empty", "", False),
    ("spaces only", "   ", False),
    ("no-break space only", "\u00a0", False),
    ("tab only", "\t", False),
    ("DEL alone", "\x7f", False),
    ("DEL inside", "1Z\x7f999", False),
    ("zero-width space only", "\u200b", False),
    ("zero-width space inside", "1Z\u200b999", False),
    ("byte order mark", "\ufeff1Z999", False),
    ("line separator", "1Z999\u2028", False),
]


@pytest.fixture
def stored_lines(tenant_a):
    product = ProductFactory(catalog__tenant=tenant_a)
    return {
        name: OrderFactory(product=product, tracking_number=number) for name, number, _ in STORED
    }


@pytest.mark.django_db
def test_manage_orders_lists_every_number_the_rate_counts_against(tenant_a, stored_lines):
    listed = set(
        selectors.order_search(tenant=tenant_a, filters={"status": "no_tracking"}).values_list(
            "pk", flat=True
        )
    )
    assert listed == {stored_lines[name].pk for name, _, valid in STORED if valid is False}


@pytest.mark.django_db
def test_mark_shipped_replaces_every_number_the_rate_counts_against(tenant_a, stored_lines):
    tracking = {order.pk: "1ZNEW" for order in stored_lines.values()}
    changed = services.orders_mark_shipped(tenant=tenant_a, actor=None, tracking=tracking)
    after = dict(Order.objects.for_tenant(tenant_a).values_list("pk", "tracking_number"))
    for name, number, valid in STORED:
        assert after[stored_lines[name].pk] == (number if valid else "1ZNEW"), name
    assert changed == sum(not valid for _, _, valid in STORED)


@pytest.mark.django_db
def test_manage_orders_offers_to_replace_a_number_the_rate_counts_against(
    client, member, tenant_a, stored_lines
):
    client.force_login(member(tenant_a, Role.SELLER))
    url = reverse("catalogs:order_list", kwargs={"tenant_slug": tenant_a.slug})
    page = client.get(url).content.decode()
    for name, _, valid in STORED:
        pk = stored_lines[name].pk
        assert (f'name="tracking-{pk}"' in page) == (not valid), name
    assert page.count("Not a valid number: type it again") == sum(
        valid is False and number.strip() != "" for _, number, valid in STORED
    )


@pytest.mark.django_db(transaction=True)
def test_an_order_file_import_trims_and_refuses_tracking_numbers(tenant_a, catalog):
    def load(tracking: str):
        result = order_files.orders_import_file(
            tenant=tenant_a,
            catalog=catalog,
            data=tiktok_csv(tiktok_row(tracking=csv_cell(tracking))),
            actor=None,
        )
        return result, Order.objects.for_tenant(tenant_a).get().tracking_number

    result, stored = load("\ufeffBR1\u200b")
    assert (result.written, stored) == (1, "BR1")
    result, stored = load("BR\u200b1")
    assert (result.written, stored) == (0, "BR1")
    assert "U+200B ZERO WIDTH SPACE" in result.errors[0].message
