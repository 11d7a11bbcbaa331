from django.apps import AppConfig


class EcrConfig(AppConfig):
    name = "ecr"

    def ready(self) -> None:
        from . import events

        events.connect()
