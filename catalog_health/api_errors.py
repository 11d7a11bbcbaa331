"""How the API answers what DRF or Django would answer unclearly: a body over the size limit
(Django's bare HTML 400), a body type the route cannot read, a route that does not exist (the
site's HTML 404); a format it does not speak is catalog_health.api_negotiation's."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _size(n: int) -> str:
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


def too_big_message() -> str:
    limit = _size(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return f"The request body is larger than {limit}, the most it may be."


def exception_handler(exc, context):
    """DRF's handler, and JSON for the request errors Django raises while the body is read."""
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": too_big_message()}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        exc.detail = _unsupported_media_type(exc, context)
    return drf_exception_handler(exc, context)


def _unsupported_media_type(exc, context) -> str:
    request = context.get("request")
    sent = request.content_type if request is not None else ""
    said = f'Unsupported media type "{sent}"' if sent else "No Content-Type header"
    view = context.get("view")
    types = [p.media_type for p in view.parser_classes] if view is not None else []
    if not types:
        return str(exc.detail)
    listed = types[0] if len(types) == 1 else f"{', '.join(types[:-1])} or {types[-1]}"
    return f"{said}: send {listed}."


def too_big_response() -> JsonResponse:
    return JsonResponse({"detail": too_big_message()}, status=413)


def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Any path under /api/ that no route serves: a JSON 404 an API client can read."""
    return JsonResponse({"detail": "No such API route: see /api/schema/."}, status=404)
