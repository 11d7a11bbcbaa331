"""Recognising an order export from its header row, and reading a file (CSV or xlsx) as
chunks of strings. The columns and limits every step shares live here too."""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from catalogs.fields import WOOCOMMERCE_EXPORT_MARKERS
from catalogs.order_io import ORDER_COLUMNS, csv_delimiter

from ..order_io import FileError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

# Recognising a file (its header) needs neither pandas nor pyarrow: the functions that read
# rows import them, so that the web process loads them only when a file is read.

# Typing's fixed costs per chunk (pandas calls, factorizing, regex set-up) are a quarter of
# its time at 50k rows; at 100k rows one chunk's frames hold ~80 MB (docs/orders.md).
CHUNK_ROWS = 100_000
MAX_MONEY = 9_999_999_999.99
MAX_COUNT = 2_000_000_000

# The app's order line, as the typing step produces it.
OUT_COLUMNS = ("line", *ORDER_COLUMNS)
TIME_FIELDS = ("placed_at", "paid_at", "ship_by", "shipped_at", "delivered_at", "cancelled_at")
MONEY_FIELDS = ("item_price", "shipping_fee")
# What a mapping may assign a column to (the app's fields plus paid_at for ship-by).
MAPPABLE_FIELDS = (
    "order_id",
    "sku",
    "quantity",
    "item_price",
    "shipping_fee",
    "placed_at",
    "paid_at",
    "ship_by",
    "shipped_at",
    "delivered_at",
    "cancelled_at",
    "cancel_reason",
    "tracking_number",
    "status",  # an order status: shipped, cancelled or unpaid by its wording (columns.py)
)
IMPRESSION_FIELDS = ("sku", "date", "impressions", "clicks")


def header_key(name: object) -> str:
    """A column name compared loosely: BOM, outer blanks and case do not matter."""
    return re.sub(r"\s+", " ", str(name).replace("\ufeff", "").strip()).lower()


def header_signature(header: Iterable[object]) -> str:
    """What identifies an export layout: its loosely compared column names, in order."""
    joined = "\x1f".join(header_key(h) for h in header)
    return hashlib.sha256(joined.encode()).hexdigest()


# --- recognising the source -----------------------------------------------------------------

TIKTOK_REQUIRED = ("order id", "order status", "sku id", "seller sku", "quantity", "created time")
SHOPIFY_REQUIRED = ("name", "created at", "lineitem quantity", "lineitem sku", "lineitem price")
AMAZON_REQUIRED = ("amazon-order-id", "purchase-date", "order-status", "sku", "quantity")
AMAZON_SHIPMENTS_REQUIRED = (
    "amazon-order-id",
    "shipment-id",
    "shipment-date",
    "sku",
    "quantity-shipped",
)
ETSY_ITEMS_REQUIRED = ("sale date", "order id", "transaction id", "listing id", "quantity", "price")
EBAY_REQUIRED = ("sales record number", "order number", "custom label", "sold for", "sale date")
WOOCOMMERCE_ANALYTICS_ORDERS = ("order #", "product(s)", "items sold", "net sales")
ETSY_ORDERS_REQUIRED = ("sale date", "order id", "number of items", "order total")
APP_ORDER_COLUMNS = ORDER_COLUMNS  # the app's own order CSV
# The attributes Google Merchant Center, Meta and TikTok all require of a product feed (the
# id is TikTok's sku_id, Meta's retailer_id too), "g:" prefix or not: such a header is a
# channel's product feed
CHANNEL_FEED_IDS = frozenset({"id", "sku_id", "retailer_id"})
CHANNEL_FEED_REQUIRED = ("title", "price", "availability", "link")


@dataclass(frozen=True)
class Detected:
    """What a header looks like: a format key, what it holds and a name for people."""

    # app_orders, app_impressions, tiktok_orders, shopify_orders, amazon_orders,
    # amazon_shipments, etsy_order_items, ebay_orders, etsy_orders and
    # woocommerce_analytics_orders (refused), shopify_products, woocommerce_products,
    # product_feed, unknown
    key: str
    kind: str  # orders, impressions, products, unknown
    label: str


def detect_format(header: Iterable[object]) -> Detected:
    """Recognise a file from its header row (column names only, any order)."""
    cols = {header_key(h) for h in header}
    if set(APP_ORDER_COLUMNS) <= cols:
        return Detected("app_orders", "orders", "Catalog Health order CSV")
    if {"sku", "date", "impressions"} <= cols and not cols & {"order_id", "order id"}:
        return Detected("app_impressions", "impressions", "Catalog Health impressions CSV")
    if set(TIKTOK_REQUIRED) <= cols:
        return Detected("tiktok_orders", "orders", "TikTok Shop order export")
    if set(SHOPIFY_REQUIRED) <= cols:
        return Detected("shopify_orders", "orders", "Shopify orders export")
    if set(AMAZON_REQUIRED) <= cols:
        return Detected("amazon_orders", "orders", "Amazon All Orders report")
    if set(AMAZON_SHIPMENTS_REQUIRED) <= cols:
        return Detected("amazon_shipments", "orders", "Amazon Fulfilled Shipments report")
    if set(ETSY_ITEMS_REQUIRED) <= cols:
        return Detected("etsy_order_items", "orders", "Etsy Sold Order Items")
    if set(EBAY_REQUIRED) <= cols:
        return Detected("ebay_orders", "orders", "eBay Orders report")
    # order totals only: refused by order_file_open, saying which download to take
    if set(ETSY_ORDERS_REQUIRED) <= cols:
        return Detected("etsy_orders", "unknown", "Etsy Sold Orders")
    if set(WOOCOMMERCE_ANALYTICS_ORDERS) <= cols:
        return Detected("woocommerce_analytics_orders", "unknown", "WooCommerce Analytics orders")
    if {"handle", "variant sku"} <= cols or {"handle", "title", "variant price"} <= cols:
        return Detected("shopify_products", "products", "Shopify products export")
    if cols & {"id", "sku"} and len(cols & WOOCOMMERCE_EXPORT_MARKERS) >= 2:
        return Detected("woocommerce_products", "products", "WooCommerce products export")
    unprefixed = {c.removeprefix("g:") for c in cols}
    if unprefixed & CHANNEL_FEED_IDS and set(CHANNEL_FEED_REQUIRED) <= unprefixed:
        label = "Google Merchant Center, Meta or TikTok product feed"
        return Detected("product_feed", "products", label)
    ids = {"id", "g:id", "sku", "item_id", "product id", "product_id"}
    product_cols = {"title", "g:title", "price", "g:price", "link", "g:link", "availability"}
    product_cols |= {"image_link", "g:image_link", "description", "g:description", "brand"}
    if cols & ids and len(cols & product_cols) >= 2:
        return Detected("product_feed", "products", "product feed")
    return Detected("unknown", "unknown", "unrecognised file")


def wrong_kind_message(detected: Detected, wanted: str) -> str:
    """Why a file is refused when it holds something else than was asked for."""
    where = {
        "products": "upload it as a product source of the catalog, not here",
        "orders": "upload it as order lines",
        "impressions": "upload it as daily impressions",
    }.get(detected.kind, "")
    return f"This file looks like a {detected.label}, not {wanted}: {where}."


def product_feed_refusal(header: Iterable[object]) -> str | None:
    """The message refusing a file uploaded (or fetched) as a product feed when its header
    is an order export or a daily impressions file, else None: the reverse of an order
    upload refusing a product feed. For the feed readers, which build on catalogs."""
    detected = detect_format(header)
    if detected.kind in ("orders", "impressions"):
        return wrong_kind_message(detected, "a product feed")
    return None


# --- reading a file -------------------------------------------------------------------------

XLSX_MAGIC = b"PK\x03\x04"


# A file is its bytes (an upload) or a path (the command, a large file): read from a path,
# only the chunk being worked on is in memory.
Source = bytes | Path


def _head(data: Source, size: int = 65536) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data[:size])
    with open(data, "rb") as f:
        return f.read(size)


def _open(data: Source):
    return io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else str(data)


def is_blank(data: Source) -> bool:
    head = _head(data)
    return not head.strip() and len(head) < 65536


def is_xlsx(data: Source) -> bool:
    return _head(data, 4) == XLSX_MAGIC


def _check_text(data: Source) -> None:
    head = _head(data)
    if b"\x00" in head:
        raise FileError("The file contains NUL bytes; it is neither CSV nor XLSX.")
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            raise FileError("The file is not UTF-8 text (save it as CSV UTF-8).") from None


# A UTF-8 character: what a Windows-1252 file never holds once read as UTF-8
_UTF8_CHARACTER = re.compile("[^\x00-\x7f\ufffd]")
# A file on disk is checked and converted this many bytes at a time
TEXT_BLOCK_BYTES = 1 << 20


def _decodes(blocks: Iterable[bytes], encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for block in blocks:
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _holds_utf8_character(blocks: Iterable[bytes]) -> bool:
    # what the decoder holds back at the end is an unfinished character: U+FFFD, not one
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return any(_UTF8_CHARACTER.search(decoder.decode(block)) for block in blocks)


def _blocks(data: Source) -> Iterator[bytes]:
    """The file a block at a time, an upload too: a check never holds it decoded whole."""
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        for start in range(0, len(view), TEXT_BLOCK_BYTES):
            yield bytes(view[start : start + TEXT_BLOCK_BYTES])
        return
    with open(data, "rb") as f:
        while block := f.read(TEXT_BLOCK_BYTES):
            yield block


def _encoding_to_convert(data: Source) -> str | None:
    """The encoding a file is read in to become UTF-8 (see text_as_utf8), or None when it is
    read as it is. A file on disk is read a block at a time, once per check that needs it."""
    head = _head(data, 4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16" if _decodes(_blocks(data), "utf-16") else None
    if head == XLSX_MAGIC or any(b"\x00" in block for block in _blocks(data)):
        return None
    if _decodes(_blocks(data), "utf-8") or _holds_utf8_character(_blocks(data)):
        return None
    # the five bytes Windows-1252 leaves undefined: Latin-1
    return "cp1252" if _decodes(_blocks(data), "cp1252") else "latin-1"


def text_as_utf8(data: bytes) -> bytes:
    """An uploaded file as UTF-8 text. Spreadsheets save CSV in other encodings: UTF-16 with
    its byte order mark, or Windows-1252 (Excel's "CSV" on Windows: not one UTF-8 character
    in it); such a file is decoded and written as UTF-8. Any other file (UTF-8, XLSX, NUL
    bytes, a UTF-8 file with a few bad bytes) is returned as it is, and reading it says
    what is wrong."""
    encoding = _encoding_to_convert(data)
    return data if encoding is None else data.decode(encoding).encode("utf-8")


@contextmanager
def text_file_as_utf8(path: Path) -> Iterator[Path]:
    """A file on disk as text_as_utf8 reads an upload: the path itself, or a UTF-8 copy in a
    temporary file, removed afterwards. Read and written a block at a time, so a large
    file is never held in memory; the file itself is not changed."""
    encoding = _encoding_to_convert(path)
    if encoding is None:
        yield path
        return
    with tempfile.NamedTemporaryFile(suffix=path.suffix) as copy:
        decoder = codecs.getincrementaldecoder(encoding)()
        for block in _blocks(path):
            copy.write(decoder.decode(block).encode("utf-8"))
        copy.write(decoder.decode(b"", final=True).encode("utf-8"))
        copy.flush()
        yield Path(copy.name)


def read_header(data: Source) -> list[str]:
    """The header row of a CSV (any delimiter csv_delimiter reads) or XLSX file."""
    import pandas as pd

    if is_xlsx(data):
        frame = _read_xlsx(data, nrows=0)
        return [str(c) for c in frame.columns]
    _check_text(data)
    try:
        frame = _read_csv_text(data, nrows=0)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise FileError(f"Not a CSV file: {str(exc)[:200]}") from None
    return [str(c) for c in frame.columns]


# A line above the header that holds nothing (eBay's Orders report starts with a line of
# bare commas; a sheet saved again keeps its empty first rows so): not the header.
_EMPTY_LINE = re.compile(r'[\s,;"\ufeff]*')
MAX_LINES_ABOVE_HEADER = 20


def lines_above_header(data: Source) -> int:
    """How many lines of a file come before its header row: blank ones, or ones of bare
    delimiters and quotes (at most MAX_LINES_ABOVE_HEADER); a workbook's empty rows."""
    if is_xlsx(data):
        top = _read_xlsx(data, header=None, nrows=MAX_LINES_ABOVE_HEADER, above=0)
        lines = [",".join(row) for row in top.fillna("").astype(str).itertuples(index=False)]
    else:
        lines = _head(data).decode("utf-8", errors="replace").splitlines()
    above = 0
    for line in lines[:MAX_LINES_ABOVE_HEADER]:
        if not _EMPTY_LINE.fullmatch(line):
            break
        above += 1
    return above


def _delimiter(data: Source) -> str:
    """A text file's delimiter, chosen from its header row (order_io.csv_delimiter)."""
    lines = _head(data).decode("utf-8", errors="replace").splitlines(keepends=True)
    return csv_delimiter("".join(lines[lines_above_header(data) :]))


def _read_csv_text(data: Source, **options):
    """pandas' CSV reader as every order file is read: comma, semicolon or tab separated as
    its header row says, each cell as its text ("NA" stays "NA"), a BOM and the lines above
    the header dropped."""
    import pandas as pd

    return pd.read_csv(
        _open(data),
        sep=_delimiter(data),
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
        skiprows=lines_above_header(data),
        **options,
    )


def read_first_row(data: Source, column: str) -> str | None:
    """One column's cell in the row under the header (None when there is no such row or it
    cannot be read here: reading the file says why)."""
    try:
        if is_xlsx(data):
            frame = _read_xlsx(data, nrows=1, usecols=[column])
        else:
            frame = _read_csv_text(data, usecols=[column], nrows=1)
    except (FileError, ValueError):  # pandas' parser and decoding errors are ValueErrors
        return None
    return str(frame[column].iat[0]) if len(frame) else None


MAX_XLSX_UNPACKED = 400 * 1024 * 1024


def _check_xlsx(data: Source) -> None:
    """Refuse a workbook that would unpack to more than MAX_XLSX_UNPACKED (a zip bomb)
    before openpyxl inflates it."""
    try:
        with zipfile.ZipFile(_open(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise FileError("Not a readable XLSX workbook (a broken zip archive).") from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise FileError(
            f"The workbook unpacks to {unpacked // 2**20} MB, more than "
            f"{MAX_XLSX_UNPACKED // 2**20} MB: save it as CSV."
        )


def _read_xlsx(data: Source, above: int | None = None, **kwargs) -> pd.DataFrame:
    """A workbook's first sheet as text; its header is under the empty rows above it."""
    import pandas as pd

    _check_xlsx(data)
    if above is None:
        above = lines_above_header(data)
    try:
        return pd.read_excel(
            _open(data),
            dtype=str,
            keep_default_na=False,
            engine="openpyxl",
            skiprows=above,
            **kwargs,
        )
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise FileError(f"Not a readable XLSX workbook: {str(exc)[:200]}") from None


def read_chunks(
    data: Source,
    *,
    usecols: list[str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    engine: str = "pandas",
) -> Iterator[pd.DataFrame]:
    """The file's rows as frames of strings ('' for empty), with a ``line`` column (the
    header is line 1); usecols limits the columns read (names as in the header).

    engine="pyarrow" reads a CSV with pyarrow's multi-threaded reader (the same frames,
    several times faster) and raises pyarrow.ArrowInvalid on what it does not read (a
    ragged row, a quoted line break, bytes that are not UTF-8): the caller then reads the
    file with engine="pandas", whose messages name the problem."""
    import numpy as np
    import pandas as pd

    if engine == "pyarrow" and not is_xlsx(data):
        yield from _read_csv_arrow(data, usecols=usecols, chunk_rows=chunk_rows)
        return
    if is_xlsx(data):
        above = lines_above_header(data)
        frame = _read_xlsx(data, above=above, usecols=usecols)
        frame = frame.fillna("").astype(str)
        frame.insert(0, "line", np.arange(2 + above, len(frame) + 2 + above))
        for start in range(0, len(frame), chunk_rows):
            yield frame.iloc[start : start + chunk_rows].reset_index(drop=True)
        return
    _check_text(data)
    try:
        reader = _read_csv_text(data, usecols=usecols, chunksize=chunk_rows, skip_blank_lines=True)
        # line numbers: blank lines are skipped by pandas, so this counts data rows; exports
        # have no blank lines in the middle (a quoted multi-line cell would shift it too)
        first = 2 + lines_above_header(data)
        for chunk in reader:
            chunk = chunk.reset_index(drop=True)
            chunk.insert(0, "line", np.arange(first, first + len(chunk)))
            first += len(chunk)
            yield chunk
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise FileError(f"Not valid CSV: {str(exc)[:200]}") from None
    except pd.errors.EmptyDataError:
        raise FileError("The file is empty.") from None


# pyarrow's streaming reader reads ahead a number of blocks on its threads: 1 MB blocks
# keep that under ~40 MB (4 MB blocks: ~100 MB at 1M lines) at the same speed.
ARROW_BLOCK_BYTES = 1 << 20


def _read_csv_arrow(
    data: Source, *, usecols: list[str] | None, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """read_chunks' CSV reading by pyarrow: record batches of ARROW_BLOCK_BYTES of the file
    regrouped into frames of chunk_rows rows (memory: one block and one chunk)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    _check_text(data)
    source = pa.BufferReader(data) if isinstance(data, bytes) else str(data)
    above = lines_above_header(data)
    reader = pa_csv.open_csv(
        source,
        read_options=pa_csv.ReadOptions(
            block_size=ARROW_BLOCK_BYTES, encoding="utf8", skip_rows=above
        ),
        parse_options=pa_csv.ParseOptions(delimiter=_delimiter(data), newlines_in_values=False),
        convert_options=pa_csv.ConvertOptions(
            include_columns=usecols,
            column_types=dict.fromkeys(usecols or (), pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            null_values=[],
        ),
    )
    names = reader.schema.names
    # every column as text: a column not listed in column_types would be typed by pyarrow
    if any(not pa.types.is_string(t) for t in reader.schema.types):
        raise pa.ArrowInvalid("a column was not read as text")
    pending: list[pa.RecordBatch] = []
    held = 0
    first = 2 + above
    for batch in reader:
        pending.append(batch)
        held += batch.num_rows
        while held >= chunk_rows:
            table = pa.Table.from_batches(pending)
            yield _arrow_frame(table.slice(0, chunk_rows), names, first)
            first += chunk_rows
            rest = table.slice(chunk_rows)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield _arrow_frame(pa.Table.from_batches(pending, schema=reader.schema), names, first)


def _arrow_frame(table: pa.Table, names: list[str], first: int) -> pd.DataFrame:
    import numpy as np

    frame = table.to_pandas()
    frame.columns = names
    frame.insert(0, "line", np.arange(first, first + len(frame)))
    return frame
