"""Order exports as sellers download them (shortened to the columns that matter, plus a few
that do not), for the readers' tests."""

TIKTOK_HEADER = (
    "Order ID,Order Status,Order Substatus,Cancelation/Return Type,Normal or Pre-order,"
    "SKU ID,Seller SKU,Product Name,Variation,Quantity,Sku Quantity of return,"
    "SKU Unit Original Price,SKU Subtotal Before Discount,SKU Platform Discount,"
    "SKU Seller Discount,SKU Subtotal After Discount,Shipping Fee After Discount,"
    "Original Shipping Fee,Created Time,Paid Time,RTS Time,Shipped Time,Delivered Time,"
    "Cancelled Time,Cancel By,Cancel Reason,Fulfillment Type,Warehouse Name,Tracking ID,"
    "Delivery Option,Shipping Provider Name"
)


def tiktok_row(
    *,
    order_id="576461413040442221",
    status="Shipped",
    cancel_type="",
    sku_id="1729384756102938",
    seller_sku="SKU-1",
    quantity="1",
    price="BRL 35,91",
    shipping="BRL 9,90",
    created="03/14/2026 9:05:11 PM",
    paid="03/14/2026 9:06:00 PM",
    shipped="03/15/2026 10:00:00 AM",
    delivered="",
    cancelled="",
    cancel_by="",
    reason="",
    tracking="BR123456789",
) -> str:
    cells = [
        f"{order_id}\t",
        status,
        "",
        cancel_type,
        "Normal",
        f"{sku_id}\t",
        seller_sku,
        '"Shirt, blue"',
        "M",
        quantity,
        "0",
        f'"{price}"',
        f'"{price}"',
        "0",
        "0",
        f'"{price}"',
        f'"{shipping}"',
        f'"{shipping}"',
        created,
        paid,
        "",
        shipped,
        delivered,
        cancelled,
        cancel_by,
        reason,
        "Fulfillment by seller",
        "Main",
        tracking,
        "Standard",
        "Correios",
    ]
    return ",".join(cells)


# The row TikTok Shop puts right under the header of a real export: what each column holds
# (some cells blank), not an order line.
TIKTOK_DESCRIPTIONS = ",".join(
    [
        "Platform unique order ID.",
        "Current order status.",
        "",
        '"Cancellation, return or refund."',
        "",
        "Platform unique SKU ID.",
        "SKU code set by the seller.",
        "Product name.",
        "SKU variation.",
        "SKU sold quantity in the order.",
        "SKU quantity returned.",
        "Unit original price of the SKU.",
        "",
        "",
        "",
        '"Subtotal after discounts, per SKU."',
        "Shipping fee paid by the buyer.",
        "",
        "Time the order was created.",
        "Time the order was paid.",
        "",
        "Time the order was shipped.",
        "Time the order was delivered.",
        "Time the order was cancelled.",
        "",
        "",
        "",
        "",
        "Tracking number of the package.",
        "",
        "",
    ]
)


def tiktok_csv(*rows: str) -> bytes:
    return ("\ufeff" + TIKTOK_HEADER + "\n" + "\n".join(rows) + "\n").encode()


SHOPIFY_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
    "Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
    "Cancelled at,Id,Tags"
)

SHOPIFY_ORDERS = (
    SHOPIFY_HEADER
    + "\n"
    # order #1001: two lines; only the first carries the order-level cells
    + "#1001,a@example.com,paid,2026-03-01 10:05:00 -0500,fulfilled,2026-03-02 09:00:00 -0500,"
    "no,USD,60.00,5.00,0,65.00,,0,Standard,2026-03-01 10:00:00 -0500,1,Shirt,40.00,,SKU-1,"
    "true,true,fulfilled,,5001,\n"
    "#1001,a@example.com,,,,,,,,,,,,,,,2,Socks,10.00,,SKU-2,true,true,fulfilled,,,\n"
    # order #1002: cancelled
    "#1002,b@example.com,refunded,2026-03-03 08:00:00 -0500,unfulfilled,,no,USD,40.00,0.00,0,"
    "40.00,,0,Standard,2026-03-03 07:59:00 -0500,1,Shirt,40.00,,SKU-1,true,true,pending,"
    "2026-03-03 12:00:00 -0500,5002,\n"
).encode()


def csv_cell(text: str) -> str:
    """text as one quoted CSV cell."""
    return '"' + text.replace('"', '""') + '"'


def xlsx_of(csv_data: bytes) -> bytes:
    """A CSV export saved as XLSX, as a spreadsheet would (all cells text)."""
    import io

    import pandas as pd

    frame = pd.read_csv(
        io.BytesIO(csv_data), dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()
