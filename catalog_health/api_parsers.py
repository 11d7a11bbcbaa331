"""Request body parsers of the API."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


def _has_nul(value, depth: int = 0) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if depth > 50:  # DRF's JSON has no depth limit of its own; deeper is not our data either
        return True
    if isinstance(value, dict):
        return any(_has_nul(k, depth + 1) or _has_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v, depth + 1) for v in value)
    return False


class JSONParser(parsers.JSONParser):
    """JSON whose strings may not carry NUL (PostgreSQL cannot store it in text): 400 for the
    whole body, before any serializer or bulk row parser sees it."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if _has_nul(data):
            raise ParseError("JSON parse error - strings may not contain NUL (\\u0000).")
        return data


DEFAULT = [JSONParser, parsers.FormParser, parsers.MultiPartParser]
