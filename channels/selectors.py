"""Reads of channel feeds: the products a feed carries (one query joining products to their
flag state), what it leaves out and why, its content version, its fetch log."""

from __future__ import annotations

import hashlib
import itertools
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from catalog_health.tenancy.models import Tenant
from catalogs.models import Catalog, Product, ReviewStatus
from catalogs.selectors import products_last_changed

# Read-only models of the apps beside this one: the feed's content query joins a product's
# flag state, and its version reads the newest flag change and review pass. No code of
# those apps (services, tasks) is used.
from ecr.models import ReviewBatch
from flagged.models import FlagState

from . import dates, specs, xml_sql
from .models import ChannelFeed, ChannelFeedFetch, FlaggedMode
from .specs import BLANK, ROW_COLUMNS, SPECS

FETCH_CHUNK = 2000


# The few SQL functions whose names differ on SQLite, the embedded default.
def _char_length(column: str) -> str:
    """Characters, not bytes: SQLite's length() of a text counts characters too."""
    return f"length({column})" if connection.vendor == "sqlite" else f"char_length({column})"


def _bytes(column: str) -> str:
    return (
        f"length(CAST({column} AS BLOB))"
        if connection.vendor == "sqlite"
        else (f"octet_length({column})")
    )


def _upper_ascii(column: str) -> str:
    """specs.currency_code: ASCII letters in capitals (SQLite's upper() folds ASCII only)."""
    if connection.vendor == "sqlite":
        return f"upper({column})"
    lower = specs.LOWER_ASCII
    return f"translate({column}, '{lower}', '{lower.upper()}')"


def _refused(catalog_currency: str) -> tuple[str, str, list]:
    """Two SQL conditions over `p`: the channels refuse the product's price (none, or not
    above zero as written: specs.no_price of specs.money), and it has no image (the
    image_link is blank: specs.url leaves nothing of it), and their parameters. A price of
    0.50 or more is above zero in every currency, so most rows skip the currency; an
    image_link that starts with a printable ASCII character skips the regular expression."""
    zero = [code for code, units in specs.MINOR_UNITS.items() if units == 0]
    marks = ", ".join(["%s"] * len(zero))
    currency = _upper_ascii("COALESCE(NULLIF(p.currency, ''), %s)")
    no_price = (
        f"(p.price IS NULL OR NOT (p.price >= 0.5 OR (p.price > 0 AND {currency} "
        f"NOT IN ({marks}))))"
    )
    return no_price, _blank("p.image_link"), [catalog_currency, *zero, BLANK]


def _blank(column: str) -> str:
    """column is blank as specs.is_blank reads it (the pattern bound next): a value that
    starts with a printable ASCII character skips the regular expression."""
    first = f"unicode({column})" if connection.vendor == "sqlite" else f"ascii({column})"
    return f"(COALESCE({first}, 0) NOT BETWEEN 33 AND 126 AND {_matches(column)})"


def _no_required_value() -> tuple[str, list]:
    """A SQL condition over `p`: a value every channel requires (specs.REQUIRED_VALUES: title,
    description, link) is blank; and its parameters. The product column of each has its
    name."""
    columns = specs.REQUIRED_VALUES
    return "(" + " OR ".join(_blank(f"p.{c}") for c in columns) + ")", [BLANK] * len(columns)


def _matches(column: str) -> str:
    """column matches the regular expression bound next (Django gives SQLite REGEXP)."""
    return f"{column} REGEXP %s" if connection.vendor == "sqlite" else f"{column} ~ %s"


def _no_brand(channel: str) -> tuple[str, list]:
    """A SQL condition over `p`: the product has none of the columns the channel requires one
    of (specs.ChannelSpec.brand_required: TikTok's brand; Meta's brand, GTIN or MPN), each
    blank as specs.is_blank reads it; and its parameters. Never true where none is required."""
    columns = SPECS[channel].brand_required
    if not columns:
        return "(1 = 0)", []
    return "(" + " AND ".join(_blank(f"p.{c}") for c in columns) + ")", [BLANK] * len(columns)


def _no_availability_date(channel: str) -> tuple[str, list]:
    """A SQL condition over `p`: the channel requires an availability date with the product's
    availability (specs.dated_values: Google's preorder and backorder) and its custom
    attribute availability_date is no date the channel reads (dates.AVAILABILITY_DATE); and
    its parameters. Never true where none is required."""
    values = specs.dated_values(channel)
    if not values:
        return "(1 = 0)", []
    if connection.vendor == "sqlite":
        date = "json_extract(p.custom_attributes, '$.availability_date')"
    else:
        date = "(p.custom_attributes ->> 'availability_date')"
    marks = ", ".join(["%s"] * len(values))
    condition = f"(p.availability IN ({marks}) AND NOT COALESCE({_matches(date)}, 1 = 0))"
    return condition, [*values, dates.AVAILABILITY_DATE]


COPY_CHUNK_BYTES = 1 << 20
STALE_AFTER = timedelta(days=1)


def feed_list(*, tenant: Tenant, catalog: Catalog | None = None) -> QuerySet[ChannelFeed]:
    qs = ChannelFeed.objects.for_tenant(tenant).select_related("catalog")
    return qs.filter(catalog=catalog) if catalog is not None else qs


def feed_get(*, tenant: Tenant, feed_id: int, catalog: Catalog | None = None) -> ChannelFeed:
    """The tenant's feed (of that catalog when given); ChannelFeed.DoesNotExist otherwise."""
    qs = feed_list(tenant=tenant, catalog=catalog)
    return qs.get(pk=feed_id)


def feed_by_token(*, token: str) -> ChannelFeed | None:
    """The feed whose public URL carries this token. Across tenants on purpose: the token is
    the feed's only credential (no login), and it names exactly one feed."""
    if not token or len(token) > 64:
        return None
    return ChannelFeed.objects.select_related("catalog", "tenant").filter(token=token).first()


def _statuses(feed: ChannelFeed) -> list[str]:
    statuses = [ReviewStatus.AVAILABLE.value]
    if feed.include_pending:
        statuses.append(ReviewStatus.PENDING.value)
    return statuses


def _content_sql(
    feed: ChannelFeed,
    *,
    limit: int | None,
    select: str = "",
    select_params: list | None = None,
    id_range: tuple[str, str] | None = None,
) -> tuple[str, list]:
    p, f = Product._meta.db_table, FlagState._meta.db_table
    cols = select or ", ".join(f"p.{c}" for c in ROW_COLUMNS[:-1]) + ", fs.status"
    statuses = _statuses(feed)
    marks = ", ".join(["%s"] * len(statuses))
    # id_range: products (and their flag states) with lo <= id < hi, two SQL expressions
    fs_range = p_range = ""
    if id_range is not None:
        lo, hi = id_range
        fs_range = f" AND fs.product_id >= {lo} AND fs.product_id < {hi}"
        p_range = f" AND p.id >= {lo} AND p.id < {hi}"
    sql = (
        f"SELECT {cols} "  # noqa: S608 - model tables and columns, values bound
        f"FROM {p} p LEFT JOIN {f} fs ON fs.tenant_id = p.tenant_id AND fs.product_id = p.id"
        f"{fs_range} WHERE p.tenant_id = %s AND p.catalog_id = %s AND p.removed_at IS NULL "
        f"AND p.review_status IN ({marks}){p_range}"
    )
    params: list = [*(select_params or []), feed.tenant_id, feed.catalog_id, *statuses]
    if feed.flagged == FlaggedMode.EXCLUDE:
        sql += " AND (fs.status IS NULL OR fs.status <> %s)"
        params.append("impacted")
    id_limit = SPECS[feed.channel].id_limit
    if id_limit is not None:  # an id cannot be shortened: the channel would refuse it
        sql += f" AND {_char_length('p.sku')} <= %s"
        params.append(id_limit)
    if not feed.rules:
        # nor a link or group id (with rules, the fitter judges the values the rules leave)
        long_value, long_params = _long_value(feed.channel)
        if long_value:
            sql += f" AND NOT ({long_value})"
            params += long_params
        no_price, no_image, refused_params = _refused(feed.catalog.currency)
        no_brand, brand_params = _no_brand(feed.channel)
        no_value, value_params = _no_required_value()
        no_date, date_params = _no_availability_date(feed.channel)
        sql += f" AND NOT {no_price} AND NOT {no_image} AND NOT {no_brand} AND NOT {no_value}"
        sql += f" AND NOT {no_date}"
        params += refused_params + brand_params + value_params + date_params
        if connection.vendor == "postgresql":  # the fast path's: it has no fitter after it
            for col, most in _long_links(feed.channel):
                written = xml_sql.link(f"p.{col}")
                sql += (
                    f" AND NOT ({_bytes('p.' + col)} > {most // 3} "
                    f"AND char_length({written}) > {most})"
                )
    sql += " ORDER BY p.id"
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    return sql, params


# COPY ... (FORMAT binary): an 11-byte signature, flags and a header extension before the
# first row, then each row as its field count and each field's length and value, then -1.
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_END = b"\xff\xff"


GROUP_PRODUCTS = 512


def feed_item_chunks(
    feed: ChannelFeed,
    *,
    item_sql: str,
    item_params: list,
    counter: list[int] | None = None,
) -> Iterator[bytes]:
    """The feed's items as PostgreSQL wrote them (xml_sql), whole ones, in chunks of about
    COPY_CHUNK_BYTES: one `COPY (query) TO STDOUT`, so one snapshot for the whole feed and
    no cursor round trips; binary, so each item arrives as written, with no COPY escaping
    to undo. counter[0] counts the items.

    A whole feed comes as one row per GROUP_PRODUCTS products of the catalog (by id, the
    groups' bounds read from its index in the same statement), their items joined in id
    order by string_agg over an ordered subquery: a COPY message a product cost the serving
    process ~1 µs each (half its CPU for a million products), a message a group nothing."""
    counter = counter if counter is not None else [0]
    with transaction.atomic(), connection.cursor() as cursor:
        # The item expression is long: JIT would compile it for longer than it saves.
        cursor.execute("SET LOCAL jit = off")
        items, params = _content_sql(
            feed,
            limit=None,
            select=f"{item_sql} AS item",
            select_params=item_params,
            id_range=("g.lo", "g.hi"),
        )
        p = Product._meta.db_table
        # Every product of the catalog falls in one group whatever the bounds (the first
        # group starts at the lowest id, the last has no end), so the bounds only set the
        # groups' sizes; the outer rows keep the bounds' order (a nested loop over them).
        sql = (
            f"WITH bounds AS MATERIALIZED (SELECT id AS lo, "  # noqa: S608 - model table
            f"COALESCE(lead(id) OVER (ORDER BY id), 9223372036854775807) AS hi FROM "
            f"(SELECT id, row_number() OVER (ORDER BY id) AS n FROM {p} "
            f"WHERE tenant_id = %s AND catalog_id = %s) numbered "
            f"WHERE (n - 1) %% {GROUP_PRODUCTS} = 0) "
            f"SELECT grouped.n, grouped.items FROM (SELECT * FROM bounds ORDER BY lo) g, "
            f"LATERAL (SELECT count(*) AS n, string_agg(item, '') AS items "
            f"FROM ({items}) ordered) grouped"
        )
        params = [feed.tenant_id, feed.catalog_id, *params]
        # psycopg's own cursor: Django's debug wrapper (DEBUG = True) has a copy() that
        # takes no parameters.
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)", params) as copy:
            yield from _copy_groups(copy, counter)


# a group's row: 2 fields, its count (int8) and its items (text, NULL when none)
_GROUP_ROW = struct.Struct(">hiqi")


def _copy_groups(copy, counter: list[int]) -> Iterator[bytes]:
    """The items of the grouped COPY, in chunks of about COPY_CHUNK_BYTES."""
    blocks = iter(copy)
    first = bytes(next(blocks, b""))
    if not first.startswith(_COPY_SIGNATURE):
        raise DatabaseError("COPY sent no binary header")
    skip = len(_COPY_SIGNATURE) + 4
    skip += 4 + int.from_bytes(first[skip : skip + 4], "big")  # the header extension
    parts: list = []
    size = items = 0
    head = _GROUP_ROW.size
    for block in itertools.chain([memoryview(first)[skip:]], blocks):
        if len(block) < head:
            # the end mark, or an empty rest of the header's message
            if not block or bytes(block) == _COPY_END:
                continue
            raise DatabaseError("COPY sent a short row")
        fields, count_length, count, length = _GROUP_ROW.unpack_from(block)
        if fields != 2 or count_length != 8 or length != (len(block) - head if count else -1):
            raise DatabaseError("COPY sent a row that is not one group")
        if not count:
            continue
        parts.append(block[head:])
        size += length
        items += count
        if size >= COPY_CHUNK_BYTES:
            counter[0] += items
            yield b"".join(parts)
            parts.clear()
            size = items = 0
    if parts:
        counter[0] += items
        yield b"".join(parts)


def feed_rows(feed: ChannelFeed, *, limit: int | None = None) -> Iterator[tuple]:
    """The feed's product rows (specs.ROW_COLUMNS order), read through a server-side cursor
    in chunks of FETCH_CHUNK: constant memory whatever the catalog size, and one snapshot
    (one query) for the whole feed. A generator: the transaction the cursor needs lives as
    long as the iteration, and closing the generator early (a client gone) ends it."""
    sql, params = _content_sql(feed, limit=limit)
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(FETCH_CHUNK)
            if not rows:
                return
            yield from rows


@dataclass(frozen=True)
class LeftOut:
    """Active products of the catalog a feed does not carry, by reason, and how many of
    those it carries have a flag label (flagged = label)."""

    included: int
    unavailable: int
    pending: int
    impacted: int
    labelled: int = 0
    long_id: int = 0  # an id over the channel's limit (id_limit)
    # a link, group id or other value that cannot be shortened over the channel's limit
    long_value: int = 0
    no_brand: int = 0  # no brand where the channel requires one (before the rules)
    # no price, or one not above zero as written (0.40 JPY is "0 JPY"), before the rules
    no_price: int = 0
    no_image: int = 0  # no image_link, which every channel requires (before the rules)
    # no title, description or link, which every channel requires (before the rules)
    missing_value: int = 0
    # a preorder or backorder without the availability date the channel requires with one
    # (Google), before the rules
    no_availability_date: int = 0
    # a price, availability, condition or link a field rule made invalid: known only as the
    # feed is written, so counted at its last complete fetch (0 before the first)
    invalid_value: int = 0


# a limit no id reaches (ours is 100): nothing is left out for its length
_NO_ID_LIMIT = 1 << 30


def _long_value(channel: str) -> tuple[str, list]:
    """A SQL condition over `p`: one of the product's values that cannot be shortened is
    over the channel's limit (specs.ChannelSpec.value_limits), and its parameters; "" when
    none of them can be (our own limit is no longer than the channel's). Each channel
    column is written from the product column of its name; a GTIN as written may be shorter
    than as stored (specs.gtin_digits), but ours is no longer than any channel's."""
    conds, params = [], []
    for col, limit in SPECS[channel].value_limits.items():
        if col in specs.LINK_COLUMNS or Product._meta.get_field(col).max_length <= limit:
            continue
        conds.append(f"{_char_length('p.' + col)} > %s")
        params.append(limit)
    return " OR ".join(conds), params


def _long_links(channel: str) -> list[tuple[str, int]]:
    """The link columns the channel limits: a link within the limit as stored may pass it as
    written (specs.url: a byte becomes up to three characters, "%C3%A9" for "é")."""
    return [(c, n) for c, n in SPECS[channel].value_limits.items() if c in specs.LINK_COLUMNS]


def feed_left_out(feed: ChannelFeed) -> LeftOut:
    """One GROUP BY over the catalog's active products, their flag state and what the
    channel refuses. Each product is counted once, for the first reason that leaves it out:
    its review status, then an id too long, then another value too long, then Impacted,
    then no brand (nor GTIN or MPN on Meta), then no price above zero, then no image, then
    no title, description or link, then no availability date (Google's preorders and
    backorders). All of these are judged before the rules; the values the
    rules make invalid are those of the last complete fetch (`feed_last_complete_fetch`). A
    link long enough to pass the limit once written is grouped by itself and judged by
    specs.url (such links are few)."""
    p, f = Product._meta.db_table, FlagState._meta.db_table
    spec = SPECS[feed.channel]
    long_value, long_params = _long_value(feed.channel)
    links = _long_links(feed.channel)
    maybe_long = "".join(
        f", CASE WHEN {_bytes('p.' + col)} > {limit // 3} THEN p.{col} END" for col, limit in links
    )
    no_price, no_image, refused_params = _refused(feed.catalog.currency)
    no_brand, brand_params = _no_brand(feed.channel)
    no_value, value_params = _no_required_value()
    no_date, date_params = _no_availability_date(feed.channel)
    groups = ", ".join(str(n) for n in range(1, 10 + len(links)))
    sql = (
        f"SELECT p.review_status, fs.status, {_char_length('p.sku')} > %s, "  # noqa: S608
        f"{long_value or '1 = 0'}, {no_brand}, {no_price}, {no_image}, {no_value}, {no_date}"
        f"{maybe_long}, "
        "COUNT(*) "
        f"FROM {p} p LEFT JOIN {f} fs ON fs.tenant_id = p.tenant_id AND fs.product_id = p.id "
        f"WHERE p.tenant_id = %s AND p.catalog_id = %s AND p.removed_at IS NULL "
        f"GROUP BY {groups}"
    )
    counts = dict.fromkeys(
        ("unavailable", "pending", "impacted", "included", "labelled", "long_id"), 0
    ) | {"long_value": 0, "no_brand": 0, "no_price": 0, "no_image": 0, "missing_value": 0}
    counts["no_availability_date"] = 0
    statuses = _statuses(feed)
    params = [spec.id_limit or _NO_ID_LIMIT, *long_params, *brand_params, *refused_params]
    params += value_params + date_params
    params += [feed.tenant_id, feed.catalog_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        for row in rows:
            status, flag, long_id, long_val, no_brand, no_pr, no_img, no_val, no_dt, *written, n = (
                row
            )
            long_val = long_val or any(
                value and len(specs.url(value)) > limit
                for value, (_col, limit) in zip(written, links, strict=True)
            )
            if status not in statuses:
                counts[status if status in counts else "unavailable"] += n
            elif long_id:
                counts["long_id"] += n
            elif long_val:
                counts["long_value"] += n
            elif flag == "impacted" and feed.flagged == FlaggedMode.EXCLUDE:
                counts["impacted"] += n
            elif no_brand:
                counts["no_brand"] += n
            elif no_pr:
                counts["no_price"] += n
            elif no_img:
                counts["no_image"] += n
            elif no_val:
                counts["missing_value"] += n
            elif no_dt:
                counts["no_availability_date"] += n
            else:
                counts["included"] += n
                if flag in ("impacted", "at_risk") and feed.flagged == FlaggedMode.LABEL:
                    counts["labelled"] += n
    last = feed_last_complete_fetch(feed)
    return LeftOut(**counts, invalid_value=last.invalid_values if last else 0)


def feed_last_complete_fetch(feed: ChannelFeed) -> ChannelFeedFetch | None:
    """The newest fetch that was sent the whole feed (a 200 that ran to its end): the one
    that counted the items whose values a rule made invalid."""
    fetches = ChannelFeedFetch.objects.for_tenant(feed.tenant_id).filter(feed=feed)
    return fetches.filter(status=200, invalid_values__isnull=False).first()


@dataclass(frozen=True)
class FeedVersion:
    etag: str
    last_modified: datetime


def feed_version(feed: ChannelFeed) -> FeedVersion:
    """What the feed's content depends on, read from indexes only (a 304 must stay cheap on
    a million products): the feed's own settings, the catalog's name and currency (the RSS
    title and description, the currency of prices without one), the catalog's last product
    change (its sort key partition), the catalog's last review pass (each status change of
    review is one), the tenant's last flag status change, and the last deletion of one of
    the catalog's products or of a flag state (kept on the feed's row). A change that goes
    around all of these (a review status set, or a row deleted, by SQL) shows at the next
    product change or review pass.

    The catalog keeps no time of change: a rename changes the ETag, not Last-Modified."""
    catalog = feed.catalog  # loaded with the feed by feed_by_token: no query
    changed = products_last_changed(tenant=feed.tenant_id, catalog=catalog)
    review = _last_review(feed)
    flag = None
    if feed.flagged != FlaggedMode.IGNORE:
        flag = FlagState.objects.for_tenant(feed.tenant_id).aggregate(m=Max("status_since"))["m"]
    parts = [
        str(feed.pk),
        feed.token,
        feed.updated_at.isoformat(),
        changed.isoformat() if changed else "-",
        f"{review[0]}:{review[1].isoformat() if review[1] else '-'}",
        flag.isoformat() if flag else "-",
        feed.content_deleted_at.isoformat() if feed.content_deleted_at else "-",
        catalog.currency,
        catalog.name,  # last: a "|" in it cannot shift another part
    ]
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
    times = [feed.updated_at, changed, review[1], flag, feed.content_deleted_at]
    times = [t for t in times if t is not None]
    return FeedVersion(etag=f'"{digest}"', last_modified=max(times))


def _last_review(feed: ChannelFeed) -> tuple[int, datetime | None]:
    # the newest review pass of this catalog
    row = (
        ReviewBatch.objects.for_tenant(feed.tenant_id)
        .filter(catalog_id=feed.catalog_id)
        .aggregate(i=Max("id"), t=Max("finished_at"))
    )
    return row["i"] or 0, row["t"]


def feed_fetches(*, tenant: Tenant, feed: ChannelFeed, limit: int = 50):
    return ChannelFeedFetch.objects.for_tenant(tenant).filter(feed=feed)[:limit]


def feed_is_stale(feed: ChannelFeed, *, now: datetime | None = None) -> bool:
    """Nobody fetched the feed for more than a day (or ever, once it is a day old)."""
    now = now or timezone.now()
    since = feed.last_fetched_at or feed.created_at
    return now - since > STALE_AFTER
