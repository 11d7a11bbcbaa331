"""The product data a feed carries, in one order used everywhere (pure: no Django imports).

The feed pipeline stages and COPYs rows in this order, the API serialises products with it,
and review streams these columns to the rules.
"""

FEED_FIELDS = (
    "sku",
    "item_group_id",
    "title",
    "description",
    "link",
    "image_link",
    "additional_image_links",
    "brand",
    "gtin",
    "mpn",
    "condition",
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


# Columns only WooCommerce's product exporter writes: an id column ("ID" or "SKU") and two of
# them are its export. Feeds read such a file as WooCommerce holds the products; the orders
# upload refuses it as not order lines.
WOOCOMMERCE_EXPORT_MARKERS = frozenset(
    {
        "in stock?",
        "backorders allowed?",
        "regular price",
        "published",
        "visibility in catalog",
        "is featured?",
        "short description",
    }
)
