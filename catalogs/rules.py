"""Pure validation of seller edits (no ORM): a table of cases tests it."""

from decimal import Decimal

EDITABLE_FIELDS = ("inventory_quantity", "price", "sale_price", "shipping_fee", "availability")
MAX_MONEY = Decimal("999999999999.99")
MAX_INVENTORY = 2_147_483_647  # the column's range (a PostgreSQL integer)


def product_edit_errors(values: dict) -> dict[str, str]:
    """Errors keyed by field for the merged (current + edited) values of a product."""
    errors: dict[str, str] = {}
    price, sale = values.get("price"), values.get("sale_price")
    qty, ship = values.get("inventory_quantity"), values.get("shipping_fee")
    if price is not None and price <= 0:
        errors["price"] = "Price must be greater than zero."
    elif price is not None and price > MAX_MONEY:
        errors["price"] = "Price is too large."
    if sale is not None:
        if sale <= 0:
            errors["sale_price"] = "Sale price must be greater than zero, or left empty."
        elif price is None:
            errors["sale_price"] = "Set a price before a sale price."
        elif sale >= price:
            errors["sale_price"] = "Sale price must be lower than the price."
    if qty is not None and qty < 0:
        errors["inventory_quantity"] = "Inventory cannot be negative."
    elif qty is not None and qty > MAX_INVENTORY:
        errors["inventory_quantity"] = f"Inventory is at most {MAX_INVENTORY:,}."
    if ship is not None and ship < 0:
        errors["shipping_fee"] = "Shipping fee cannot be negative."
    if ship is not None and ship > MAX_MONEY:
        errors["shipping_fee"] = "Shipping fee is too large."
    if values.get("availability") == "in_stock" and qty == 0:
        errors["availability"] = (
            "A product with zero inventory cannot be In stock: raise the inventory "
            "or set it Out of stock."
        )
    return errors
