from django.apps import AppConfig


class FlaggedConfig(AppConfig):
    name = "flagged"

    def ready(self) -> None:
        from catalog_health.tenancy import demo
        from catalogs import product_panels

        from . import events
        from .panels import product_flag_panel

        events.connect()

        product_panels.register(
            product_panels.ProductPanel(
                key="flagged", template="catalogs/_product_panel.html", context=product_flag_panel
            )
        )
        demo.register(app="flagged", order=40, seed=_seed_demo)


def _seed_demo(**kwargs) -> None:
    from .demo import seed_demo  # loaded only when the demo is seeded

    seed_demo(**kwargs)
