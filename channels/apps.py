from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "channels"
    label = "channels"
    verbose_name = "Channel feeds"

    def ready(self) -> None:
        from . import events

        events.connect()
