"""API pagination, in its own module: DRF imports it while building its generic views."""

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Keyset pagination: constant cost whatever the page number."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
