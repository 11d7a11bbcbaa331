from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "feeds"

    def ready(self) -> None:
        from catalog_health.tenancy import demo, events
        from catalogs import product_panels

        from . import tasks  # noqa: F401  registers feeds.pull, which services queue by name
        from .panels import product_source_of

        product_panels.register_source_lookup(product_source_of)
        demo.register(app="feeds", order=20, seed=_seed_demo)
        events.time_zone_changed.connect(_reschedule_sources, dispatch_uid="feeds.rezone")


def _reschedule_sources(*, tenant, **kwargs) -> None:
    """Daily and weekly pulls are at a local HH:MM: a new time zone moves them."""
    from .services import source_schedules_rezone

    source_schedules_rezone(tenant=tenant)


def _seed_demo(**kwargs) -> None:
    from .demo import seed_demo  # loaded only when the demo is seeded

    seed_demo(**kwargs)
