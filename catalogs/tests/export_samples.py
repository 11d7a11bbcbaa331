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

# A partly fulfilled order (#1003) as Shopify exports it: Fulfillment Status "partial" and
# Fulfilled at empty (filled only once the whole order is); one line fulfilled, one not.
SHOPIFY_PARTIAL = (
    SHOPIFY_HEADER
    + "\n"
    + "#1003,c@example.com,paid,2026-03-04 10:05:00 -0500,partial,,no,USD,50.00,5.00,0,55.00,"
    ",0,Standard,2026-03-04 10:00:00 -0500,1,Shirt,40.00,,SKU-1,true,true,fulfilled,,5003,\n"
    "#1003,c@example.com,,,,,,,,,,,,,,,1,Socks,10.00,,SKU-2,true,true,pending,,,\n"
).encode()


def xlsx_as_excel_saves(csv_data: bytes) -> bytes:
    """A CSV opened in a spreadsheet and saved as XLSX, row for row: its empty cells and
    rows (a line of bare commas) stay empty, above the header too."""
    import csv
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in csv.reader(io.StringIO(csv_data.decode("utf-8-sig"))):
        sheet.append([cell or None for cell in row] or [None])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def lines_of(order_file):
    """An opened order file's typed lines (one frame) and row errors, all chunks read."""
    import pandas as pd

    frames, errors = [], []
    for lines, errs, _ in order_file.chunks():
        frames.append(lines)
        errors.extend(errs)
    return pd.concat(frames, ignore_index=True), errors


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


# Amazon Seller Central's "All Orders" report (Reports > Fulfillment > All Orders, a
# tab-separated .txt): one row per order item; item-price is the price of all of the row's
# units; statuses per order and per item.
AMAZON_ALL_ORDERS_HEADER = "\t".join(
    [
        "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date",
        "order-status", "fulfillment-channel", "sales-channel", "order-channel", "url",
        "ship-service-level", "product-name", "sku", "asin", "item-status", "quantity",
        "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
        "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount",
        "ship-promotion-discount", "ship-city", "ship-state", "ship-postal-code",
        "ship-country", "promotion-ids", "is-business-order", "purchase-order-number",
        "price-designation",
    ]
)  # fmt: skip


def amazon_row(
    *,
    order_id="112-9739103-0000001",
    purchased="2026-03-14T21:05:11+00:00",
    updated="2026-03-15T10:00:00+00:00",
    order_status="Shipped",
    item_status="Shipped",
    sku="SKU-1",
    quantity="2",
    currency="USD",
    price="59.90",
    shipping="4.99",
) -> str:
    cells = [
        order_id, "", purchased, updated, order_status, "Merchant", "Amazon.com", "", "",
        "Standard", "Shirt, blue", sku, "B0TEST0001", item_status, quantity, currency, price,
        "0.00", shipping, "0.00", "", "", "", "", "AUSTIN", "TX", "78701", "US", "", "false",
        "", "",
    ]  # fmt: skip
    return "\t".join(cells)


def amazon_txt(*rows: str) -> bytes:
    return (AMAZON_ALL_ORDERS_HEADER + "\n" + "\n".join(rows) + "\n").encode()


# Etsy's "Sold Order Items" download (Shop Manager > Settings > Options > Download Data,
# EtsySoldOrderItems<year>-<month>.csv): one row per item, dates month-first with a two-digit
# year, the order's shipping on each of its items.
ETSY_ORDER_ITEMS_HEADER = (
    "Sale Date,Item Name,Buyer,Quantity,Price,Coupon Code,Coupon Details,Discount Amount,"
    "Shipping Discount,Order Shipping,Order Sales Tax,Item Total,Currency,Transaction ID,"
    "Listing ID,Date Paid,Date Shipped,Ship Name,Ship Address1,Ship Address2,Ship City,"
    "Ship State,Ship Zipcode,Ship Country,Order ID,Variations,Order Type,Listings Type,"
    "Payment Type,InPerson Discount,InPerson Location,VAT Paid by Buyer,SKU"
)


def etsy_row(
    *,
    sold="03/14/26",
    name="Mug",
    quantity="2",
    price="34.00",
    shipping="8.00",
    currency="USD",
    transaction="4001",
    listing="1501",
    paid="03/14/26",
    shipped="03/16/26",
    order_id="3001",
    sku="SKU-1",
) -> str:
    cells = [
        sold, name, "janedoe", quantity, price, "", "", "0", "0", shipping, "0", "68.00",
        currency, transaction, listing, paid, shipped, "Jane Doe", "1 Main St", "", "Austin",
        "TX", "78701", "United States", order_id, "", "online", "listing", "online_cc", "",
        "", "", sku,
    ]  # fmt: skip
    return ",".join(cells)


def etsy_csv(*rows: str) -> bytes:
    return (ETSY_ORDER_ITEMS_HEADER + "\n" + "\n".join(rows) + "\n").encode()


# Etsy's "Sold Orders" download: one row per order, no item's SKU or quantity.
ETSY_ORDERS_HEADER = (
    "Sale Date,Order ID,Buyer User ID,Full Name,First Name,Last Name,Number of Items,"
    "Payment Method,Date Shipped,Street 1,Street 2,Ship City,Ship State,Ship Zipcode,"
    "Ship Country,Currency,Order Value,Coupon Code,Coupon Details,Discount Amount,"
    "Shipping Discount,Shipping,Sales Tax,Order Total,Status,Card Processing Fees,Order Net,"
    "Adjusted Order Total,Adjusted Card Processing Fees,Adjusted Net Order Amount,Buyer,"
    "Order Type,Payment Type,InPerson Discount,InPerson Location,SKU"
)


# eBay Seller Hub's Orders report (Reports > Downloads > Orders, CSV): a line of bare commas
# above the header and one under it, one row per item (an order of several items first has
# a row of its own with the order's cells), then a footer naming the count and the seller.
EBAY_ORDERS_HEADER = [
    "Sales Record Number", "Order Number", "Buyer Username", "Buyer Name", "Buyer Email",
    "Buyer Note", "Buyer Address 1", "Buyer Address 2", "Buyer City", "Buyer State",
    "Buyer Zip", "Buyer Country", "Buyer Tax Identifier Name", "Buyer Tax Identifier Value",
    "Ship To Name", "Ship To Phone", "Ship To Address 1", "Ship To Address 2", "Ship To City",
    "Ship To State", "Ship To Zip", "Ship To Country", "Item Number", "Item Title",
    "Custom Label", "Sold Via Promoted Listings", "Quantity", "Sold For",
    "Shipping And Handling", "Item Location", "Item Zip Code", "Item Country",
    "eBay Collect And Remit Tax Rate", "eBay Collect And Remit Tax Type",
    "eBay Reference Name", "eBay Reference Value", "Tax Status", "Seller Collected Tax",
    "eBay Collected Tax", "Electronic Waste Recycling Fee", "Mattress Recycling Fee",
    "Battery Recycling Fee", "White Goods Disposal Tax", "Tire Recycling Fee",
    "Additional Fee", "Lumber Fee", "Prepaid Wireless Fee",
    "Road Improvement And Food Delivery Fee", "eBay Collected Charges", "Total Price",
    "eBay Collected Tax and Fees Included in Total", "Payment Method", "Sale Date",
    "Paid On Date", "Ship By Date", "Minimum Estimated Delivery Date",
    "Maximum Estimated Delivery Date", "Shipped On Date", "Feedback Left",
    "Feedback Received", "My Item Note", "PayPal Transaction ID", "Shipping Service",
    "Tracking Number", "Transaction ID", "Variation Details", "Global Shipping Program",
    "Global Shipping Reference ID", "Click And Collect", "Click And Collect Reference Number",
    "eBay Plus", "Authenticity Verification Program", "Authenticity Verification Status",
    "Authenticity Verification Outcome Reason", "PSA Vault Program", "Vault Fulfillment Type",
    "eBay Fulfillment Program", "Tax City", "Tax State", "Tax Zip", "Tax Country",
    "eBay International Shipping",
]  # fmt: skip


def ebay_row(**cells: str) -> str:
    """One row of the eBay report, cells by column name (the others empty)."""
    row = dict.fromkeys(EBAY_ORDERS_HEADER, "")
    for name, value in cells.items():
        assert name in row, name
        row[name] = value
    return ",".join(csv_cell(v) if "," in v else v for v in row.values())


def ebay_csv(*rows: str, records: int = 1) -> bytes:
    blank = "," * (len(EBAY_ORDERS_HEADER) - 1)
    header = ",".join(f'"{h}"' for h in EBAY_ORDERS_HEADER)
    footer = [
        f'{records},"record(s) downloaded","from Mar-01-26 to Mar-31-26"',
        "",
        "Seller ID : shop",
    ]
    return "\n".join([blank, header, blank, *rows, "", *footer, ""]).encode()


# Amazon's "Amazon Fulfilled Shipments" report (Reports > Fulfillment > Sales, FBA): one row
# per item of a shipment; an item whose units left in two shipments has a row in each.
AMAZON_SHIPMENTS_HEADER = "\t".join(
    [
        "amazon-order-id", "merchant-order-id", "shipment-id", "shipment-item-id",
        "amazon-order-item-id", "merchant-order-item-id", "purchase-date", "payments-date",
        "shipment-date", "reporting-date", "buyer-email", "buyer-name", "buyer-phone-number",
        "sku", "product-name", "quantity-shipped", "currency", "item-price", "item-tax",
        "shipping-price", "shipping-tax", "gift-wrap-price", "gift-wrap-tax",
        "ship-service-level", "recipient-name", "ship-address-1", "ship-address-2",
        "ship-address-3", "ship-city", "ship-state", "ship-postal-code", "ship-country",
        "ship-phone-number", "bill-address-1", "bill-address-2", "bill-address-3", "bill-city",
        "bill-state", "bill-postal-code", "bill-country", "item-promotion-discount",
        "ship-promotion-discount", "carrier", "tracking-number", "estimated-arrival-date",
        "fulfillment-center-id", "fulfillment-channel", "sales-channel",
    ]
)  # fmt: skip


def amazon_shipment_row(
    *,
    order_id="249-0814575-0394263",
    shipment="Dlvj7BYxk",
    purchased="2026-03-05T06:57:28+09:00",
    paid="2026-03-05T19:58:19+09:00",
    shipped="2026-03-05T19:58:19+09:00",
    sku="SKU-1",
    quantity="1",
    price="24732.00",
    shipping="0.00",
    tracking="443656408532",
) -> str:
    cells = [
        order_id, "", shipment, "DHf2GPpHR", "67225985676654", "", purchased, paid, shipped,
        "2026-03-05T22:58:25+09:00", "buyer@marketplace.amazon.co.jp", "", "", sku, "Toaster",
        quantity, "JPY", price, "0.00", shipping, "0.00", "0.00", "0.00", "Expedited", "", "",
        "", "", "", "Tokyo", "120-0026", "JP", "", "", "", "", "", "", "", "", "0.00", "0.00",
        "YAMATO", tracking, "2026-03-06T20:00:00+09:00", "HND3", "AFN", "Amazon.co.jp",
    ]  # fmt: skip
    return "\t".join(cells)
