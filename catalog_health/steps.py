"""Seconds per named step of a piece of work, for step logs and the benchmarks that print
them (``{"<prefix>.<name>": seconds}``, summed when a step repeats)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator


class StepTimes:
    """Time steps either as blocks (``with steps("merge"): ...``) or as laps, each from the
    previous lap (``steps.lap("rows")``; ``start()`` sets where the next one begins)."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.times: dict[str, float] = {}
        self._mark = time.monotonic()

    def add(self, name: str, seconds: float) -> None:
        key = f"{self.prefix}.{name}"
        self.times[key] = round(self.times.get(key, 0) + seconds, 3)

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.add(name, time.monotonic() - start)

    def start(self) -> None:
        self._mark = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.add(name, now - self._mark)
        self._mark = now
