"""API pagination, in its own module: DRF imports it while building its generic views."""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class CursorPaginationBase(CursorPagination):
    """Cursor pagination where a malformed cursor is the caller's error (400), like any other
    invalid parameter, rather than DRF's 404."""

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({self.cursor_query_param: [str(exc.detail)]}) from exc


class IdCursorPagination(CursorPaginationBase):
    """Keyset pagination: constant cost whatever the page number."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
