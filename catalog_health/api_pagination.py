"""API pagination, in its own module: DRF imports it while building its generic views."""

import base64
import binascii
from urllib import parse

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor, CursorPagination

_CURSOR_KEYS = {"o", "r", "p"}


class CursorPaginationBase(CursorPagination):
    """Cursor pagination where a cursor this API did not write is the caller's error (400),
    like any other invalid parameter: never DRF's 404, its first page (it reads any base64
    text without cursor fields as "from the start", so a client could loop for ever) or a
    500 (a position its ordering field cannot hold)."""

    invalid_cursor_message = (
        "Invalid cursor: pass the cursor of a page's next or previous link unchanged."
    )
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        """`page_size` from 1 to max_page_size; absent or empty, the default. Anything else is
        a 400 naming it: DRF quietly answered the default page for 0, -1 or "abc" and the
        largest one for 1000, so a client never learnt its page was not the size it asked."""
        value = request.query_params.get(self.page_size_query_param, "")
        if value == "":
            return self.page_size
        # bounded before int(): int() of thousands of digits raises
        number = value.lstrip("0") if value.isascii() and value.isdigit() else ""
        if 0 < len(number) <= len(str(self.max_page_size)) and int(number) <= self.max_page_size:
            return int(number)
        raise ValidationError(
            {
                self.page_size_query_param: [
                    f"Enter a whole number from 1 to {self.max_page_size} (the most a page holds)."
                ]
            }
        )

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model  # decode_cursor checks the position against its field
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:  # absent or empty: the first page
            return None
        try:
            text = base64.b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            fields = parse.parse_qs(text, keep_blank_values=True, strict_parsing=True)
            if not fields or set(fields) - _CURSOR_KEYS or any(len(v) > 1 for v in fields.values()):
                raise ValueError(text)
            offset, reverse = fields.get("o", ["0"])[0], fields.get("r", ["0"])[0]
            if not offset.isdigit() or reverse not in ("0", "1"):
                raise ValueError(text)
            position = fields.get("p", [None])[0]
            if position is not None:
                self._check_position(position)
        except (UnicodeError, binascii.Error, ValueError, DjangoValidationError) as exc:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from exc
        return Cursor(
            offset=min(int(offset), self.offset_cutoff), reverse=reverse == "1", position=position
        )

    def _check_position(self, position: str) -> None:
        """The position as the ordering's first field reads it; DjangoValidationError if not."""
        model = getattr(self, "_model", None)
        try:
            field = model._meta.get_field(self.ordering[0].lstrip("-")) if model else None
        except FieldDoesNotExist:  # an annotation: the database judges it
            field = None
        if field is not None:
            field.to_python(position)


class IdCursorPagination(CursorPaginationBase):
    """Keyset pagination: constant cost whatever the page number."""

    ordering = "-id"
    page_size = 50
