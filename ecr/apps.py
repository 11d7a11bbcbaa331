from django.apps import AppConfig


class EcrConfig(AppConfig):
    name = "ecr"
