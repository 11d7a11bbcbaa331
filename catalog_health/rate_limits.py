"""Fixed-window counters in the shared cache (settings.CACHES: Redis, or files on the embedded
default), so every web process counts against the same limit."""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)


def window_used(key: str, *, window: int) -> int:
    """How many uses ``key`` has counted in the current window (0 when the cache is down)."""
    try:
        return int(cache.get(f"{key}:{int(time.time() // window)}") or 0)
    except Exception:  # any cache backend's connection error
        log.warning("rate limit %s: cache unavailable", key, exc_info=True)
        return 0


def window_take(key: str, *, limit: int, window: int) -> tuple[bool, int]:
    """Count one use of ``key`` in the current window of ``window`` seconds: (allowed, seconds
    until the window ends). A cache that cannot be reached allows the use: what it guards is
    not the cache's hostage."""
    slot = int(time.time() // window)
    retry_after = window - int(time.time() % window)
    key = f"{key}:{slot}"
    try:
        cache.add(key, 0, window)
        try:
            n = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, window)
            n = 1
    except Exception:  # any cache backend's connection error
        log.warning("rate limit %s: cache unavailable", key, exc_info=True)
        return True, retry_after
    return n <= limit, retry_after
