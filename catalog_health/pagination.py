"""Keyset pagination for pages: constant cost at any depth, one query per page (two on
the page where an ascending nullable sort reaches its NULLs).

The cursor is the last row's (sort value, id), base64-encoded. The sort field may be nullable.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet

# Django's row-value comparisons ((a, b) > (x, y)), with a fallback for databases without
# them; written for composite primary keys, and the one way to say this in the ORM.
from django.db.models.fields.tuple_lookups import TupleGreaterThan, TupleLessThan


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return datetime.fromisoformat(value["dt"])
        if "dec" in value:
            return Decimal(value["dec"])
    return value


def encode_cursor(value: Any, pk: int) -> str:
    raw = json.dumps([_encode(value), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, int] | None:
    """A malformed cursor is ignored (first page), never an error page."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return _decode(value), int(pk)
    except (ValueError, TypeError, OverflowError):  # OverflowError: an id of Infinity
        return None


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None
    has_previous: bool
    page_size: int


def _field(model, path: str):
    """The model field at ``path`` ('price', 'sort_key__price')."""
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)


def _nullable(model, path: str) -> bool:
    """Whether the field at ``path`` may hold NULL."""
    return _field(model, path).null


def _fits(model, path: str, value: Any) -> bool:
    """Whether a cursor's value is one of the sort column's: a cursor of another sort (a
    "Next page" link kept while the sort changed) or one edited by hand is not, and would
    fail in the query. Nor is text holding a NUL, which PostgreSQL neither stores nor
    compares."""
    if value is None:
        return True
    if isinstance(value, str) and "\x00" in value:
        return False
    try:
        _field(model, path).to_python(value)
    except (ValidationError, TypeError, ValueError, OverflowError):
        return False
    return True


def _tie(model, path: str) -> str:
    """The column that breaks ties next to ``path`` in the row comparison: the row's id,
    or, through a one-to-one relation keyed by this row (sort_key__title), that table's
    key, so that both columns of the comparison come from the index being walked."""
    if "__" not in path:
        return "id"
    relation = path.split("__")[0]
    related = model._meta.get_field(relation)
    if not (related.one_to_one and related.field.primary_key and related.related_model):
        raise ValueError(f"cannot sort by {path}: not through a one-to-one keyed by the row")
    return f"{relation}__pk"


def keyset_paginate(
    queryset: QuerySet, *, sort: str, cursor: str | None, page_size: int
) -> KeysetPage:
    """`sort` is a field name or a path through a to-one relation ('sort_key__title'),
    optionally prefixed with '-'; ties break on id.

    NULLs sort last ascending and first descending (PostgreSQL's defaults), so one B-tree
    index on (…, field, id) serves both directions, scanned forwards or backwards. The rows
    after the cursor are a row comparison, (field, id) > (value, id), which PostgreSQL
    turns into a bound of that index scan: a page deep in a million rows costs what the
    first one does. Ascending on a nullable field, the NULLs that follow the last value are
    read by a second query, on the one page where the values run out."""
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    order = F(field).desc(nulls_first=True) if descending else F(field).asc(nulls_last=True)
    id_order = "-id" if descending else "id"
    # the sort value read with the rows, for the cursor (a related field's too)
    queryset = queryset.annotate(keyset_value=F(field))
    trailing_nulls = None
    position = decode_cursor(cursor) if cursor else None
    if position is not None and not _fits(queryset.model, field, position[0]):
        position = None  # a cursor that does not fit the sort: the first page
    if position is not None:
        value, pk = position
        is_null = Q(**{f"{field}__isnull": True})
        id_after = Q(id__lt=pk) if descending else Q(id__gt=pk)
        if field == "id":
            queryset = queryset.filter(id_after)
        elif value is None:
            if descending:  # still in the leading NULLs, then every non-NULL value
                queryset = queryset.filter((is_null & id_after) | ~is_null)
            else:  # in the trailing NULLs
                queryset = queryset.filter(is_null & id_after)
        else:
            after = (TupleLessThan if descending else TupleGreaterThan)(
                (F(field), F(_tie(queryset.model, field))), (value, pk)
            )
            if not descending and _nullable(queryset.model, field):
                trailing_nulls = queryset.filter(is_null)
            queryset = queryset.filter(after)
    rows = list(queryset.order_by(order, id_order)[: page_size + 1])
    if trailing_nulls is not None and len(rows) <= page_size:
        rows += trailing_nulls.order_by(id_order)[: page_size + 1 - len(rows)]
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        next_cursor = encode_cursor(last.keyset_value, last.pk)
    return KeysetPage(rows, next_cursor, position is not None, page_size)
