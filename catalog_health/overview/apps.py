from django.apps import AppConfig


class OverviewConfig(AppConfig):
    name = "catalog_health.overview"
    label = "overview"
    verbose_name = "Overview"
