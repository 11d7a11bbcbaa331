"""A product export uploaded as orders is recognised as what it is by the orders upload
(catalogs) from the same header the feed readers (feeds) read it by (both take the
exporter's columns from catalogs.fields)."""

from __future__ import annotations

import pytest

from catalogs.order_formats import detect_format, order_file_open, product_feed_refusal
from catalogs.order_io import FileError
from feeds import woocommerce_products
from feeds.tests.woocommerce_export import HEADER, Export


def test_a_woocommerce_products_export_is_refused_as_orders_and_read_as_a_feed():
    export = Export()
    export.product({"ID": "10", "Type": "simple", "SKU": "HAT-1", "Name": "Hat"})
    data = export.render()
    assert woocommerce_products.is_products_export(HEADER)
    assert detect_format(HEADER).key == "woocommerce_products"
    assert product_feed_refusal(HEADER) is None
    with pytest.raises(FileError, match="looks like a WooCommerce products export, not order"):
        order_file_open(data)
