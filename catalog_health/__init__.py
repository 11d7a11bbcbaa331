"""Catalog Health: the Django project (settings, urls, Celery app, tenancy core)."""

from .celery import app as celery_app

__all__ = ("celery_app",)
