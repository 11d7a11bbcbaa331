"""Absolute links for what leaves the site (emails): `SITE_URL` + a path.

Pages use relative links; an email has no page to be relative to, so its links start with the
configured site URL (settings.SITE_URL, e.g. https://catalog.example.com). Templates load the
filter as `{% load site %}{{ path|absolute_url }}`.
"""

import re

from django import template
from django.conf import settings

register = template.Library()
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def absolute_url(path: str) -> str:
    """`SITE_URL` joined to `path` ("/t/acme/flagged/" -> "https://host/t/acme/flagged/"); a
    path that already has a scheme is returned as it is."""
    path = str(path or "")
    if _SCHEME.match(path):
        return path
    base = str(getattr(settings, "SITE_URL", "") or "").rstrip("/")
    return f"{base}/{path.lstrip('/')}"


register.filter("absolute_url", absolute_url)
