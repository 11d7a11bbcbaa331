from django.apps import AppConfig


class CatalogsConfig(AppConfig):
    name = "catalogs"
    verbose_name = "Catalogs"

    def ready(self) -> None:
        from catalog_health.tenancy import demo

        from . import tasks  # noqa: F401  registers the tasks services queue by name

        demo.register(app="catalogs", order=10, seed=_seed_demo, takes_product_count=True)


def _seed_demo(**kwargs) -> None:
    from .demo import seed_demo  # loaded only when the demo is seeded

    seed_demo(**kwargs)
