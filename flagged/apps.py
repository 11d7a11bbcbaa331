from django.apps import AppConfig


class FlaggedConfig(AppConfig):
    name = "flagged"

    def ready(self) -> None:
        from catalogs import product_panels

        from . import events
        from .panels import product_flag_panel

        events.connect()

        product_panels.register(
            product_panels.ProductPanel(
                key="flagged", template="catalogs/_product_panel.html", context=product_flag_panel
            )
        )
