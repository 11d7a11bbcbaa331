from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "feeds"

    def ready(self) -> None:
        from catalogs import product_panels

        from .panels import product_source_of

        product_panels.register_source_lookup(product_source_of)
