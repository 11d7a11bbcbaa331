import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="catalog_health.tasks.heartbeat")
def heartbeat() -> str:
    """Proves beat and a worker are alive; shows up in the logs every few minutes."""
    logger.info("heartbeat")
    return "ok"
