"""Structured logging: JSON lines carrying the request's tenant/user or the task's ids."""

import contextvars
import json
import logging
import time

log_context: contextvars.ContextVar[dict] = contextvars.ContextVar("log_context", default={})  # noqa: B039

request_logger = logging.getLogger("catalog_health.request")


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in log_context.get().items():
            if value is not None and not hasattr(record, key):
                setattr(record, key, value)
        return True


_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class RequestContextMiddleware:
    """Logs one line per request with method, path, status, duration, user and tenant."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        token = log_context.set({})
        try:
            response = self.get_response(request)
        finally:
            context = log_context.get()
            log_context.reset(token)
        user = getattr(request, "user", None)
        tenant = getattr(request, "tenant", None)
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                **context,
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
                "tenant_id": tenant.pk if tenant is not None else None,
            },
        )
        return response
