"""Keep tokens and keys out of logs, errors, messages and the journal."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from core.text import strip_controls

# Shapes of secrets even when we were not told their values (keys in URLs, bearer headers, Slack/Discord tokens).
_PATTERNS = (
    re.compile(r"AIza[0-9A-Za-z_\-]{20,}"),
    re.compile(r"xox[abposr]-[0-9A-Za-z\-]{10,}"),
    re.compile(r"xapp-[0-9A-Za-z\-]{10,}"),
    re.compile(r"(?i)(bearer|bot)\s+[A-Za-z0-9._\-]{20,}"),
    re.compile(r"(?i)([?&]key=)[^&\s'\"]+"),
    re.compile(r"(?i)(x-goog-api-key['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}]+"),
    # Discord interaction and webhook tokens in the URLs discord.py logs at DEBUG; Slack response_urls
    re.compile(r"(/(?:webhooks|interactions)/\d+/)[^/\s?'\"]+"),
    re.compile(r"(hooks\.slack\.com/)[^\s'\"]+"),
)
MASK = "[redacted]"


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() and m.group(1) else "") + MASK, text)
        return text


class RedactingFilter(logging.Filter):
    """Attach to handlers so no record, however it was built, prints a secret."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = strip_controls(self.redact(message))  # a logged user word can't drive the terminal
        record.args = None
        return True
