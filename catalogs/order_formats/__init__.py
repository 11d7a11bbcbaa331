"""Order exports as sellers download them: recognise the source from the header and read
TikTok Shop, Shopify, Amazon, Etsy, eBay and column-mapped files into the app's order lines.

Pure (pandas, no ORM). A file is read in chunks of strings; each chunk goes through two
steps:

1. a *format* step turns the source's columns into the app's fields, still as text
   (TikTok: SKU from Seller SKU then SKU ID, cancellations and their reasons; Shopify: the
   order-level cells of an order's first row copied to its other line rows);
2. one *typing* step shared by every format parses ids, numbers and times column by column
   (vectorised), derives the ship-by time where the file has none, and checks each line,
   naming the line and column of every problem.

Two things are decided once per file, before any chunk is read, because one value cannot
tell (``choices.py``): whether slash and dash dates are day-first or month-first (a day above
12 anywhere settles it, and so does a date written day.month.year, never month-first;
otherwise the tenant's setting; otherwise the file is refused, never guessed), and whether a
comma is the decimal separator (``BRL 35,91``; where no amount tells, counts grouped like
``1.200`` or ``1,200`` do).
"""

from typing import TYPE_CHECKING

from catalog_health.lazy import lazy_names

from .detection import (
    APP_ORDER_COLUMNS,
    CHUNK_ROWS,
    IMPRESSION_FIELDS,
    MAPPABLE_FIELDS,
    MAX_COUNT,
    MAX_MONEY,
    MAX_XLSX_UNPACKED,
    MONEY_FIELDS,
    OUT_COLUMNS,
    SHOPIFY_REQUIRED,
    TIKTOK_REQUIRED,
    TIME_FIELDS,
    XLSX_MAGIC,
    Detected,
    Source,
    detect_format,
    header_key,
    header_signature,
    is_blank,
    is_xlsx,
    product_feed_refusal,
    read_chunks,
    read_header,
    text_as_utf8,
    text_file_as_utf8,
    wrong_kind_message,
)

if TYPE_CHECKING:
    from .formats import (
        BUYER_WORDS,
        FORMAT_FIELDS,
        OUT_OF_STOCK_WORDS,
        SHOPIFY_COLUMNS,
        SHOPIFY_ORDER_LEVEL,
        TIKTOK_COLUMNS,
        ColumnMapping,
        OrderFile,
        ReadOptions,
        app_fields,
        cancel_reason_map,
        mapped_fields,
        order_file_open,
        shopify_fields,
        shopify_fill_order_level,
        source_columns,
        tiktok_fields,
        typed_lines,
    )
    from .impressions import (
        IMPRESSION_GUESSES,
        ImpressionFile,
        impression_file_open,
        impression_mapping_guess,
        typed_impressions,
    )
    from .values import (
        BLANKS,
        clean_text,
        date_order_detect,
        date_order_detect_frame,
        decimal_comma_detect,
        has_slash_dates,
        parse_count,
        parse_money,
        parse_times,
    )

# formats, impressions and values are pandas through and through: imported on first use
# of one of their names (PEP 562), so that importing the package (the header checks the
# web process does) loads neither pandas nor pyarrow.
_LAZY = {
    "BUYER_WORDS": "formats",
    "FORMAT_FIELDS": "formats",
    "OUT_OF_STOCK_WORDS": "formats",
    "SHOPIFY_COLUMNS": "formats",
    "SHOPIFY_ORDER_LEVEL": "formats",
    "TIKTOK_COLUMNS": "formats",
    "ColumnMapping": "formats",
    "OrderFile": "formats",
    "ReadOptions": "formats",
    "app_fields": "formats",
    "cancel_reason_map": "formats",
    "mapped_fields": "formats",
    "order_file_open": "formats",
    "shopify_fields": "formats",
    "shopify_fill_order_level": "formats",
    "source_columns": "formats",
    "tiktok_fields": "formats",
    "typed_lines": "formats",
    "IMPRESSION_GUESSES": "impressions",
    "ImpressionFile": "impressions",
    "impression_file_open": "impressions",
    "impression_mapping_guess": "impressions",
    "typed_impressions": "impressions",
    "BLANKS": "values",
    "clean_text": "values",
    "date_order_detect": "values",
    "date_order_detect_frame": "values",
    "decimal_comma_detect": "values",
    "has_slash_dates": "values",
    "parse_count": "values",
    "parse_money": "values",
    "parse_times": "values",
}


__getattr__ = lazy_names(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "APP_ORDER_COLUMNS",
    "BLANKS",
    "BUYER_WORDS",
    "CHUNK_ROWS",
    "FORMAT_FIELDS",
    "IMPRESSION_FIELDS",
    "IMPRESSION_GUESSES",
    "MAPPABLE_FIELDS",
    "MAX_COUNT",
    "MAX_MONEY",
    "MAX_XLSX_UNPACKED",
    "MONEY_FIELDS",
    "OUT_COLUMNS",
    "OUT_OF_STOCK_WORDS",
    "SHOPIFY_COLUMNS",
    "SHOPIFY_ORDER_LEVEL",
    "SHOPIFY_REQUIRED",
    "TIKTOK_COLUMNS",
    "TIKTOK_REQUIRED",
    "TIME_FIELDS",
    "XLSX_MAGIC",
    "ColumnMapping",
    "Detected",
    "ImpressionFile",
    "OrderFile",
    "ReadOptions",
    "Source",
    "app_fields",
    "cancel_reason_map",
    "clean_text",
    "date_order_detect",
    "date_order_detect_frame",
    "decimal_comma_detect",
    "detect_format",
    "has_slash_dates",
    "header_key",
    "header_signature",
    "impression_file_open",
    "impression_mapping_guess",
    "is_blank",
    "is_xlsx",
    "mapped_fields",
    "order_file_open",
    "parse_count",
    "parse_money",
    "parse_times",
    "product_feed_refusal",
    "read_chunks",
    "read_header",
    "shopify_fields",
    "shopify_fill_order_level",
    "source_columns",
    "text_as_utf8",
    "text_file_as_utf8",
    "tiktok_fields",
    "typed_impressions",
    "typed_lines",
    "wrong_kind_message",
]
