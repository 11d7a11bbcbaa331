"""A field the caller cannot write (read-only, or not a field of the resource) is a 400 naming
it on every route that takes an object's fields, never a 200 that ignored it: the client would
believe it changed something. A field sent back with the value it has is accepted, so a PUT of
what GET answered works."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog_health.tenancy.roles import Role
from catalogs.models import Order, Product, ReviewStatus
from catalogs.tests.factories import CatalogFactory, ProductFactory
from channels.models import ChannelFeed
from channels.tests.factories import ChannelFeedFactory
from feeds.models import ProductSource
from feeds.tests.factories import ProductSourceFactory

from .test_tenant_isolation import MODEL_FACTORIES
from .urlwalk import api_routes

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(tenant_a):
    catalog = CatalogFactory(tenant=tenant_a)
    return {
        "catalog": catalog,
        "product": ProductFactory(catalog=catalog, price="10.00"),
        "source": ProductSourceFactory(catalog=catalog),
        "feed": ChannelFeedFactory(catalog=catalog),
    }


@pytest.fixture
def owner_api(api_client_for, member, tenant_a):
    return api_client_for(member(tenant_a, Role.OWNER), tenant_a)


def _new_source(o) -> dict:
    return {"catalog": o["catalog"].pk, "name": "New", "kind": "url", "url": "https://x.test/f.csv"}


def _new_feed(o) -> dict:
    return {"catalog": o["catalog"].pk, "channel": "google", "format": "xml"}


READ_ONLY = "This field is read-only."
UNKNOWN = "Unknown field."

# (method, url, body, {field: message}); a body is built from the objects of the fixture.
CASES = [
    ("patch", "products/{product}/", lambda o: {"review_status": "available"}, READ_ONLY),
    ("patch", "products/{product}/", lambda o: {"id": 1 + o["product"].pk}, READ_ONLY),
    ("patch", "products/{product}/", lambda o: {"sku": "OTHER", "price": "3"}, READ_ONLY),
    ("put", "products/{product}/", lambda o: {"last_seen_at": "2020-01-01T00:00:00Z"}, READ_ONLY),
    ("patch", "products/{product}/", lambda o: {"prise": "3"}, UNKNOWN),
    ("patch", "sources/{source}", lambda o: {"has_password": True}, READ_ONLY),
    (
        "put",
        "sources/{source}",
        lambda o: {**_new_source(o), "created_at": "2020-01-01"},
        READ_ONLY,
    ),
    ("patch", "sources/{source}", lambda o: {"host_key_fingerprint": "SHA256:x"}, READ_ONLY),
    ("post", "sources/", lambda o: {**_new_source(o), "next_pull_at": "2020-01-01"}, READ_ONLY),
    ("post", "sources/", lambda o: {**_new_source(o), "schedul": "daily"}, UNKNOWN),
    ("patch", "channel-feeds/{feed}/", lambda o: {"url": "https://elsewhere.test/"}, READ_ONLY),
    ("patch", "channel-feeds/{feed}/", lambda o: {"left_out": {"included": 0}}, READ_ONLY),
    ("post", "channel-feeds/", lambda o: {**_new_feed(o), "basic_auth": True}, READ_ONLY),
    ("post", "channel-feeds/", lambda o: {**_new_feed(o), "id": 5}, READ_ONLY),
    ("post", "channel-feeds/", lambda o: {**_new_feed(o), "flaged": "label"}, UNKNOWN),
]


def _snapshot() -> list:
    return [
        list(Product.objects.order_by("pk").values()),
        list(ProductSource.objects.order_by("pk").values()),
        list(ChannelFeed.objects.order_by("pk").values()),
    ]


@pytest.mark.parametrize(("method", "path", "body", "message"), CASES)
def test_a_field_the_caller_cannot_write_is_a_400_naming_it(
    owner_api, objects, method, path, body, message
):
    url = "/api/v1/" + path.format(**{k: v.pk for k, v in objects.items()})
    data = body(objects)
    before = _snapshot()
    response = getattr(owner_api, method)(url, data, format="json")
    assert response.status_code == 400, (method, url, response.content[:300])
    errors = response.json()
    refused = [k for k in data if errors.get(k) == [message]]
    assert refused, errors
    assert set(errors) == set(refused), "only the fields it cannot write are named"
    assert _snapshot() == before, "nothing was written"


def test_every_writable_route_refuses_a_changed_id(owner_api, objects):
    """The rule holds on every route that takes a body for an object, not only those above."""
    checked = 0
    for route in api_routes():
        actions = route.callback.actions
        for method in ("post", "put", "patch"):
            if actions.get(method) not in ("create", "update", "partial_update"):
                continue
            if method not in route.callback.cls.http_method_names:
                continue
            kwargs = {}
            if "pk" in route.kwargs:
                model = route.callback.cls.queryset.model
                kwargs["pk"] = MODEL_FACTORIES[model](objects["catalog"].tenant).pk
            url = reverse(route.name, kwargs=kwargs)
            response = getattr(owner_api, method)(url, {"id": 987654321}, format="json")
            assert response.status_code == 400, (method, url)
            assert response.json() == {"id": [READ_ONLY]}, (method, url)
            checked += 1
    assert checked >= 7


def test_a_representation_sent_back_unchanged_is_accepted(owner_api, objects):
    """PUT what GET answered, with one field changed: the read-only fields it carries have the
    values they have, so nothing is ignored."""
    url = f"/api/v1/products/{objects['product'].pk}/"
    body = owner_api.get(url).json()
    body["price"] = "12.50"
    response = owner_api.put(url, body, format="json")
    assert response.status_code == 200, response.content[:300]
    assert response.json()["price"] == "12.50"
    product = Product.objects.get(pk=objects["product"].pk)
    assert str(product.price) == "12.50" and product.review_status == body["review_status"]

    feed_url = f"/api/v1/channel-feeds/{objects['feed'].pk}/"
    feed = owner_api.get(feed_url).json()
    feed["name"] = "Renamed"
    response = owner_api.patch(feed_url, feed, format="json")
    assert response.status_code == 200, response.content[:300]
    assert ChannelFeed.objects.get(pk=objects["feed"].pk).name == "Renamed"


def test_review_status_is_named_even_with_the_value_it_will_never_take(owner_api, objects):
    product = objects["product"]
    assert product.review_status != ReviewStatus.AVAILABLE
    response = owner_api.patch(
        f"/api/v1/products/{product.pk}/", {"review_status": ReviewStatus.AVAILABLE}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"review_status": [READ_ONLY]}


# --- the bodies of actions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"forse": True}, {"forse": [UNKNOWN]}),
        ({"force": "maybe"}, {"force": ["Must be a valid boolean."]}),
        ({"remember": [1]}, {"remember": ["Must be a valid boolean."]}),
    ],
)
def test_request_data_now_refuses_a_body_it_cannot_read(owner_api, objects, body, errors):
    """A misspelt or unreadable option started a run without it (202): now a 400, no run."""
    source = objects["source"]
    response = owner_api.post(f"/api/v1/sources/{source.pk}/refresh", body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert response.json() == errors
    assert not source.runs.exists()


@pytest.mark.parametrize(
    "body",
    [
        lambda o: {"catalog": o["catalog"].pk, "orders": [], "order": []},
        lambda o: {"catalog": o["catalog"].pk, "orders": [], "sku": "A"},
    ],
)
def test_a_bulk_body_with_a_key_it_does_not_take_is_a_400_naming_it(owner_api, objects, body):
    data = body(objects)
    response = owner_api.post("/api/v1/orders/bulk/", data, format="json")
    assert response.status_code == 400
    unknown = set(data) - {"catalog", "orders"}
    assert response.json() == {key: [UNKNOWN] for key in unknown}


@pytest.mark.parametrize("catalog", [True, 1.0, "1"])
def test_a_bulk_catalog_that_is_not_an_id_is_refused(owner_api, tenant_a, catalog):
    """true is not catalog 1, though Python's bool is an int."""
    first = CatalogFactory(tenant=tenant_a, pk=1)
    ProductFactory(catalog=first, sku="A")
    line = {
        "order_id": "O1",
        "sku": "A",
        "item_price": "1.00",
        "placed_at": "2026-01-01T00:00:00Z",
        "ship_by": "2026-01-03T00:00:00Z",
    }
    body = {"catalog": catalog, "orders": [line]}
    response = owner_api.post("/api/v1/orders/bulk/", body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert not Order.objects.filter(catalog=first).exists()
