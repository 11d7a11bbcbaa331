"""What other apps add to the product page, without catalogs knowing them.

catalogs knows none of the apps built on it (docs: DESIGN.md, "Layers point one way"), yet
the product page is where a seller wants to see, say, the product's flagged status or which
product source its data comes from. Those apps register here from their AppConfig.ready():

    from catalogs import product_panels
    product_panels.register(product_panels.ProductPanel(
        key="flagged", template="flagged/_product_panel.html", context=flag_panel_context))
    product_panels.register_source_lookup(product_source_of)

A panel's context(*, tenant, product) returns the template's context, or None to show
nothing for this product; it runs once per page view (one or two queries, not per row).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string

SLOTS = ("main", "side")  # under the product's fields; under the edit card


@dataclass(frozen=True)
class ProductPanel:
    key: str
    template: str
    context: Callable[..., dict[str, Any] | None]
    slot: str = "main"
    order: int = 100

    def __post_init__(self) -> None:
        if self.slot not in SLOTS:
            raise ValueError(f"slot must be one of {SLOTS}, not {self.slot!r}")


@dataclass(frozen=True)
class ProductSource:
    """The product source a product's data was last pulled from: the seller's edits last
    until its next pull."""

    name: str
    url: str = ""  # its page, if any


_panels: dict[str, ProductPanel] = {}
_source_lookup: Callable[..., ProductSource | None] | None = None


def register(panel: ProductPanel) -> None:
    """Add (or replace, by key: ready() may run twice) a panel."""
    _panels[panel.key] = panel


def unregister(key: str) -> None:
    _panels.pop(key, None)


def register_source_lookup(lookup: Callable[..., ProductSource | None] | None) -> None:
    """lookup(*, tenant, product) -> ProductSource | None. One app owns product sources."""
    global _source_lookup
    _source_lookup = lookup


def product_source(*, tenant, product) -> ProductSource | None:
    return _source_lookup(tenant=tenant, product=product) if _source_lookup else None


def render_panels(*, tenant, product, request=None) -> dict[str, list[str]]:
    """Each slot's panels as HTML, in order; a panel whose context is None is left out."""
    rendered: dict[str, list[str]] = {slot: [] for slot in SLOTS}
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        context = panel.context(tenant=tenant, product=product)
        if context is None:
            continue
        rendered[panel.slot].append(
            render_to_string(
                panel.template, {"product": product, "key": panel.key, **context}, request=request
            )
        )
    return rendered
