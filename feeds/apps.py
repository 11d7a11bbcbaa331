from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "feeds"

    def ready(self) -> None:
        from catalogs import product_panels

        from . import tasks  # noqa: F401  registers feeds.pull, which services queue by name
        from .panels import product_source_of

        product_panels.register_source_lookup(product_source_of)
