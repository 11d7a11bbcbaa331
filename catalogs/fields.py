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
