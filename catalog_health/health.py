"""/healthz: the state of the database and the broker."""

from django.db import connection
from django.http import JsonResponse

from .celery import app as celery_app


def database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, "ok"
    except Exception as exc:  # any driver error means "down"
        return False, f"{type(exc).__name__}: {exc}"[:300]


def broker_ok() -> tuple[bool, str]:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        return True, "ok"
    except Exception as exc:  # kombu raises several types; any means "down"
        return False, f"{type(exc).__name__}: {exc}"[:300]


def healthz(request):
    db, db_detail = database_ok()
    broker, broker_detail = broker_ok()
    status = 200 if db and broker else 503
    return JsonResponse(
        {
            "status": "ok" if status == 200 else "degraded",
            "database": {"ok": db, "detail": db_detail},
            "broker": {"ok": broker, "detail": broker_detail},
        },
        status=status,
    )
