"""Links that come from feeds are data: only http(s) URLs become clickable."""

from urllib.parse import urlsplit

from django import template

from catalogs.rules import image_link_is_image

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


@register.filter
def image_src(value: str) -> str:
    """The image link if a page may load it as a picture (http(s) and an image type, the
    review's rule), else an empty string: the page shows a neutral tile instead."""
    url = http_url(value)
    return url if url and image_link_is_image(url) else ""
