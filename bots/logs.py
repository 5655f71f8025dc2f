"""Logging set up once per process, every handler behind the redacting filter."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler

from core.redact import RedactingFilter, Redactor
from core.settings import Settings


def setup_logging(settings: Settings, verbose: bool = False, *, default: int = logging.WARNING) -> None:
    handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False, markup=False)
    handler.addFilter(RedactingFilter(Redactor(settings.secrets())))
    logging.basicConfig(level=logging.DEBUG if verbose else default, handlers=[handler], format="%(message)s",
                        force=True)
    for noisy in ("aiosqlite", "google_genai", "httpx", "discord.gateway", "discord.http"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
