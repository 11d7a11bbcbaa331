"""The Celery app. Tasks live in each app's tasks.py and are autodiscovered."""

from celery import Celery
from celery.signals import task_postrun, task_prerun

from catalog_health.environment import configure

configure()  # `.env` first: its DJANGO_SETTINGS_MODULE line chooses the settings module

app = Celery("catalog_health")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _bind_task_context(task_id=None, task=None, kwargs=None, **_):
    """Put the task, tenant and run ids into every log line the task writes."""
    from catalog_health.logging import log_context

    kwargs = kwargs or {}
    log_context.set(
        {
            "task": task.name if task else None,
            "task_id": task_id,
            "tenant_id": kwargs.get("tenant_id"),
            "run_id": kwargs.get("run_id"),
        }
    )


@task_postrun.connect
def _clear_task_context(**_):
    from catalog_health.logging import log_context

    log_context.set({})
