"""Logging set up once per process, every handler behind the redacting filter.

Quiet by default: warnings and errors only, one line each. ``-v`` brings back everything, library
INFO logs and tracebacks included, for when something needs digging into.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from core.redact import RedactingFilter, Redactor
from core.settings import Settings

Verbose = Annotated[bool, typer.Option("--verbose", "-v",
                                       help="Log what happens (library logs and tracebacks too), to stderr.")]


class OneLine(logging.Filter):
    """Drop tracebacks and keep only a record's first line; ``-v`` shows the whole story."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            message = f"{message} ({type(exc).__name__}: {exc})"
        lines = message.strip().splitlines()
        record.msg = lines[0][:300] if lines else ""
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def setup_logging(settings: Settings, verbose: bool = False, *, default: int = logging.WARNING) -> None:
    handler: logging.Handler
    if verbose:
        handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        # A plain stream: one record is one line, never wrapped into a table at 80 columns.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler.addFilter(OneLine())  # before redaction, which folds the traceback into the message
    handler.addFilter(RedactingFilter(Redactor(settings.secrets())))
    logging.basicConfig(level=logging.DEBUG if verbose else default, handlers=[handler], force=True)
    for noisy in ("aiosqlite", "google_genai", "httpx", "discord.gateway", "discord.http"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
