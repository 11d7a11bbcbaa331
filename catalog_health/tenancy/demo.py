"""Demo data providers: each app that seeds demo data registers itself here from its
``AppConfig.ready()``; ``manage.py seed_demo`` runs them by ``order`` (catalogs first, as the
others build on its catalogs and products). The tenancy core names no app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoProvider:
    app: str  # the label printed before its output
    order: int
    # seed(*, tenants, stdout, products_per_catalog=...) -> None; idempotent
    seed: Callable[..., None]
    takes_product_count: bool = False  # passes --products as products_per_catalog


_providers: dict[str, DemoProvider] = {}


def register(*, app: str, order: int, seed: Callable[..., None], takes_product_count=False):
    """Register (or replace, so a second ready() is harmless) an app's demo provider."""
    _providers[app] = DemoProvider(app, order, seed, takes_product_count)


def providers() -> list[DemoProvider]:
    return sorted(_providers.values(), key=lambda p: (p.order, p.app))
