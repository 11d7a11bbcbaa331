from django.apps import AppConfig


class EcrConfig(AppConfig):
    name = "ecr"

    def ready(self) -> None:
        from catalog_health.tenancy import demo

        from . import (
            events,
            tasks,  # noqa: F401  registers ecr.rules_rereview, which services queue by name
        )

        events.connect()
        demo.register(app="ecr", order=30, seed=_seed_demo)


def _seed_demo(**kwargs) -> None:
    from .demo import seed_demo  # loaded only when the demo is seeded

    seed_demo(**kwargs)
