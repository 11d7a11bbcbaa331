"""Where uploaded feed files wait for their run: streamed to disk under MEDIA_ROOT/feeds."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings

UPLOAD_DIR = Path(settings.MEDIA_ROOT) / "feeds"


def upload_path_for(name: str) -> str:
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    stamp = f"{time.time_ns()}-{os.getpid()}"
    safe = "".join(ch for ch in Path(name).name if ch.isalnum() or ch in "._-")[:80]
    return str(UPLOAD_DIR / f"{stamp}-{safe or 'feed'}")


def save_upload(uploaded) -> str:
    """Stream an uploaded file to disk (never whole in memory); return its path."""
    path = upload_path_for(getattr(uploaded, "name", "feed"))
    with open(path, "wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    return path
