from django.apps import AppConfig


class FlaggedConfig(AppConfig):
    name = "flagged"
