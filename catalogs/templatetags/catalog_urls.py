"""Links that come from feeds are data: only http(s) URLs become clickable."""

from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.filter
def http_url(value: str) -> str:
    """The URL if it is http(s), else an empty string (javascript:, data:, ftp: … are not links)."""
    if not value:
        return ""
    try:
        scheme = urlsplit(str(value).strip()).scheme.lower()
    except ValueError:
        return ""
    return str(value).strip() if scheme in ("http", "https") else ""
