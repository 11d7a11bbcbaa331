"""Keyset pagination for pages: constant cost at any depth, one query per page.

The cursor is the last row's (sort value, id), base64-encoded. The sort field may be nullable.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet


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
    except (ValueError, TypeError):
        return None


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None
    has_previous: bool
    page_size: int


def keyset_paginate(
    queryset: QuerySet, *, sort: str, cursor: str | None, page_size: int
) -> KeysetPage:
    """`sort` is a field name or a path through a to-one relation ('sort_key__title'),
    optionally prefixed with '-'; ties break on id.

    NULLs sort last ascending and first descending (PostgreSQL's defaults), so one B-tree
    index on (…, field, id) serves both directions, scanned forwards or backwards."""
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    position = decode_cursor(cursor) if cursor else None
    if position is not None:
        value, pk = position
        is_null = Q(**{f"{field}__isnull": True})
        if descending:
            id_after = Q(id__lt=pk)
            if value is None:  # still in the leading NULLs, then every non-NULL value
                queryset = queryset.filter((is_null & id_after) | ~is_null)
            else:
                queryset = queryset.filter(
                    Q(**{f"{field}__lt": value}) | (Q(**{field: value}) & id_after)
                )
        else:
            id_after = Q(id__gt=pk)
            if value is None:  # in the trailing NULLs
                queryset = queryset.filter(is_null & id_after)
            else:
                queryset = queryset.filter(
                    Q(**{f"{field}__gt": value}) | (Q(**{field: value}) & id_after) | is_null
                )
    order = F(field).desc(nulls_first=True) if descending else F(field).asc(nulls_last=True)
    id_order = "-id" if descending else "id"
    # the sort value read with the rows, for the cursor (a related field's too)
    queryset = queryset.annotate(keyset_value=F(field))
    rows = list(queryset.order_by(order, id_order)[: page_size + 1])
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        next_cursor = encode_cursor(last.keyset_value, last.pk)
    return KeysetPage(rows, next_cursor, position is not None, page_size)
