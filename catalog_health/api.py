"""The /api/v1/ router: each app's api.py registers its viewsets."""

from importlib import import_module

from rest_framework.routers import DefaultRouter

router = DefaultRouter(trailing_slash="/?")
# DRF's __init__ turns any truthy trailing_slash into "/"; set the pattern itself so both
# /api/v1/runs/1 and /api/v1/runs/1/ resolve (POST without the slash cannot be redirected).
router.trailing_slash = "/?"

for app in ("catalogs", "feeds", "ecr", "flagged", "channels"):
    try:
        module = import_module(f"{app}.api")
    except ModuleNotFoundError as exc:
        if exc.name != f"{app}.api":
            raise
        continue
    module.register(router)
