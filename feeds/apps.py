from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "feeds"

    def ready(self) -> None:
        from catalog_health.tenancy import demo
        from catalogs import product_panels

        from . import tasks  # noqa: F401  registers feeds.pull, which services queue by name
        from .panels import product_source_of

        product_panels.register_source_lookup(product_source_of)
        demo.register(app="feeds", order=20, seed=_seed_demo)


def _seed_demo(**kwargs) -> None:
    from .demo import seed_demo  # loaded only when the demo is seeded

    seed_demo(**kwargs)
