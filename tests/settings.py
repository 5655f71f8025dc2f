"""Settings for tests: a temp data dir, the offline provider, one worker per pool, no per-user limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.settings import Settings

OFFLINE: dict[str, Any] = {
    "speech_workers": 1, "image_workers": 1, "gemini_api_key": None, "user_requests_per_minute": 0,
    "playground_port": 0, "metrics_port": 0, "progress_interval_s": 0.0, "shutdown_grace_s": 2.0,
}


def offline_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Ignores any .env and the developer's own keys, so tests never reach a real service."""
    return Settings(_env_file=None, data_dir=data_dir, **(OFFLINE | overrides))  # type: ignore[call-arg]
