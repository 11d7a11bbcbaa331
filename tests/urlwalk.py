"""Enumerates every URL pattern of the project from the resolver, so the isolation sweep grows
by itself as routes are added."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

_KWARG = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>")


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    route: str  # the pattern text, for messages
    kwargs: tuple[str, ...]
    callback: object


def _kwargs_of(text: str) -> list[str]:
    return [a or b for a, b in _KWARG.findall(text)]


def walk(patterns=None, prefix: str = "", namespace: str = "") -> list[Route]:
    routes: list[Route] = []
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        text = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            routes += walk(p.url_patterns, text, ns)
        elif isinstance(p, URLPattern) and p.name:
            name = f"{namespace}:{p.name}" if namespace else p.name
            routes.append(Route(name, text, tuple(_kwargs_of(text)), p.callback))
    return routes


def tenant_routes() -> list[Route]:
    return [r for r in walk() if "tenant_slug" in r.kwargs]


def api_routes() -> list[Route]:
    """DRF viewset routes under /api/v1/ (not the API root, not the .format suffix variants)."""
    return [
        r
        for r in walk()
        if r.route.startswith("api/v1/")
        and getattr(r.callback, "cls", None) is not None
        and getattr(r.callback.cls, "queryset", None) is not None
        and "format" not in r.kwargs
    ]
