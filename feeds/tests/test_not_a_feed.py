"""A fetched body that is not a feed is described, never echoed: an API error page or a
JSON document may carry secrets, and the run's message is shown to every member."""

from __future__ import annotations

import io

import pytest

from feeds.parsing import FeedError, ValidationState
from feeds.readers import parse_feed_tables


def _fail(body: bytes) -> FeedError:
    with pytest.raises(FeedError) as exc:
        for _ in parse_feed_tables(io.BytesIO(body), state=ValidationState()):
            pass
    return exc.value


@pytest.mark.parametrize(
    "body",
    [
        b'{"error": "unauthorized", "token": "INTERNAL-SECRET-4242", "user": "svc"}\n',
        b'[{"id_token": "INTERNAL-SECRET-4242"}]',
        b"INTERNAL-SECRET-4242\x01\x02\x03 binary\n",
        b"password=INTERNAL-SECRET-4242;user=admin\n",
    ],
)
def test_a_body_that_is_not_a_feed_is_not_echoed(body):
    exc = _fail(body)
    assert exc.code == "columns"
    assert "INTERNAL-SECRET-4242" not in exc.message
    assert f"{len(body)} bytes" in exc.message or "JSON" in exc.message


def test_a_feed_header_without_an_id_is_shown_back():
    exc = _fail(b"name,price,brand\nHat,1 USD,Acme\n")
    assert exc.code == "columns" and "name, price, brand" in exc.message


@pytest.mark.parametrize(
    ("header", "label"),
    [
        (
            "Order ID,Order Status,SKU ID,Seller SKU,Product Name,Quantity,Created Time",
            "TikTok Shop order export",
        ),
        (
            "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Id",
            "Shopify orders export",
        ),
        ("sku,date,impressions,clicks", "impressions"),
    ],
)
def test_an_order_or_impressions_file_is_refused_as_a_product_feed(header, label):
    exc = _fail(f"{header}\nA,B,C,D,E,F,G,H\n".encode())
    assert exc.code == "columns"
    assert label in exc.message and "not a product feed" in exc.message


def test_a_product_feed_with_a_quantity_column_is_still_a_feed():
    body = b"id,title,price,quantity,availability\nS1,Hat,1.00 USD,3,in stock\n"
    tables = list(parse_feed_tables(io.BytesIO(body), state=ValidationState()))
    assert sum(t.num_rows for t, *_ in tables) == 1


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Shop</title></channel></rss>',
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>S</title></feed>',
    ],
)
def test_an_xml_feed_without_items_says_so(body):
    """An RSS or Atom feed with no products was told "The feed has a header but no
    products.": it has no header. It is told which elements hold the products."""
    exc = _fail(body)
    assert exc.code == "empty"
    assert "no <item> (RSS) or <entry> (Atom) elements" in exc.message
    assert "header" not in exc.message
