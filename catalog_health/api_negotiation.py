"""Content negotiation of the API, in its own module: DRF imports it while building its views."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    """?format= naming a format the API does not speak is a 406 naming the one it does, not
    DRF's 404 "Not found." (which reads as a missing object)."""

    def filter_renderers(self, renderers, format):
        found = [r for r in renderers if r.format == format]
        if not found:
            raise exceptions.NotAcceptable(f'Unknown format "{format}": use format=json.')
        return found
