"""Refuse input no view can use before any view sees it: a NUL character in the path, the query
string, a url-encoded form body, a cookie or the tenant/token headers, or bytes that are not
UTF-8 in the query string or form body, answer 400, everywhere. (Django itself re-escapes
undecodable path bytes, so such a path matches no route: 404.)"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponseBadRequest, JsonResponse

from catalog_health.api_errors import too_big_response

NUL = "\x00"


def _bad_text(data: bytes) -> bool:
    try:
        return NUL in data.decode("utf-8")
    except UnicodeDecodeError:
        return True


def _wsgi_bytes(value: str) -> bytes:
    """WSGI passes the raw bytes of the path and query string as latin-1 text."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # not from a WSGI server: already text
        return value.encode("utf-8", errors="surrogateescape")


def hostile_reason(request) -> str | None:
    """Why the request cannot be served, or None."""
    meta = request.META
    if NUL in request.path_info:
        return "The URL path contains a NUL character."
    if _bad_text(unquote_to_bytes(_wsgi_bytes(meta.get("QUERY_STRING", "")))):
        return "The query string contains a NUL character or bytes that are not UTF-8."
    if NUL in meta.get("HTTP_COOKIE", ""):
        return "A cookie contains a NUL character."
    for header in ("HTTP_X_TENANT", "HTTP_AUTHORIZATION"):
        if NUL in meta.get(header, ""):
            return "A header contains a NUL character."
    # A form post: the same rule as a query string (multipart bodies carry files, which may
    # hold any byte; their text fields are checked by the forms).
    if (
        request.method == "POST"
        and request.content_type == "application/x-www-form-urlencoded"
        and _bad_text(unquote_to_bytes(request.body.replace(b"+", b" ")))
    ):
        return "The form data contains a NUL character or bytes that are not UTF-8."
    return None


class HostileInputMiddleware:
    """400 for NUL or undecodable input (JSON for the API, plain text for pages)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            reason = hostile_reason(request)
        except RequestDataTooBig:
            if request.path.startswith("/api/"):
                return too_big_response()
            raise  # pages: Django's 400
        if reason is not None:
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": reason}, status=400)
            return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
