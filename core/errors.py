"""The one error tree. Every member carries a short message fit to show a user.

StudioError            something went wrong; ``user_message`` says what in plain words
  InputError           bad text, voice, ratio or file: says what to fix
  SafetyBlocked        the provider refused: names the category
  RateLimited          too many requests: says when to try again (``retry_after``)
    QuotaExceeded      a community limit: names it and when it resets (``reset_at``)
  NotAllowed           the server's settings refuse this (command off, channel, role, blocked term)
  ProviderUnavailable  upstream failed or is misconfigured
  ProviderTimeout      upstream took too long
  JobCancelled         the user (or shutdown) cancelled the job
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime


def plain_when(at: float) -> str:
    """A reset time in words for places without a date syntax (playground, CLI, logs)."""
    left = at - time.time()
    if left < 90:
        return f"in {max(1, round(left))} s"
    if left < 90 * 60:
        return f"in {round(left / 60)} min"
    return "at " + datetime.fromtimestamp(at, UTC).strftime("%H:%M UTC")


class StudioError(Exception):
    """Base of every error a user may see; ``str()`` never holds secrets."""

    code = "error"
    retryable = False
    default_message = "Something went wrong on our side. Please try again."

    def __init__(self, user_message: str | None = None, *, detail: str = "") -> None:
        self.user_message = user_message or self.default_message
        self.detail = detail
        super().__init__(self.user_message)

    @property
    def record(self) -> str:
        """What the journal keeps besides the message: enough to rebuild the error after a restart."""
        return self.code


class InputError(StudioError):
    code = "invalid_input"
    default_message = "That request could not be understood."


class SafetyBlocked(StudioError):
    code = "blocked"

    def __init__(self, category: str = "SAFETY", user_message: str | None = None, *, detail: str = "") -> None:
        self.category = category
        pretty = category.replace("_", " ").lower()
        super().__init__(
            user_message or f"The model declined this request ({pretty}). Try rewording it.",
            detail=detail,
        )

    @property
    def record(self) -> str:
        return f"{self.code}:{self.category}"


class RateLimited(StudioError):
    code = "rate_limited"
    retryable = True

    def __init__(self, retry_after: float | None = None, user_message: str | None = None, *, detail: str = "") -> None:
        self.retry_after = retry_after
        when = f" in about {max(1, round(retry_after))} s" if retry_after else " in a minute"
        super().__init__(user_message or f"Too many requests right now. Try again{when}.", detail=detail)


class QuotaExceeded(RateLimited):
    """A per-minute or daily limit of a member or a server; adapters render ``reset_at`` in local time."""

    code = "quota"
    retryable = False

    def __init__(self, limit: str, template: str, reset_at: float) -> None:
        self.limit = limit  # e.g. "user_per_minute", for metrics and logs
        self.template = template  # "... resets {when}."
        self.reset_at = reset_at
        super().__init__(max(0.0, reset_at - time.time()), template.format(when=plain_when(reset_at)))

    def render(self, when: Callable[[float], str]) -> str:
        """The refusal with the reset time in a platform's own date syntax."""
        return self.template.format(when=when(self.reset_at))


class NotAllowed(StudioError):
    """Refused by the server's own rules; ``reason`` is a short tag for metrics, never the blocked term."""

    code = "not_allowed"

    def __init__(self, reason: str, user_message: str) -> None:
        self.reason = reason
        super().__init__(user_message)


class ProviderUnavailable(StudioError):
    code = "unavailable"
    retryable = True
    default_message = "The generation service is unavailable right now. Please try again soon."


class ProviderTimeout(StudioError):
    code = "timeout"
    retryable = True
    default_message = "The generation service took too long to answer. Please try again."


class JobCancelled(StudioError):
    code = "cancelled"
    default_message = "The request was cancelled."


ERRORS_BY_CODE: dict[str, type[StudioError]] = {
    cls.code: cls
    for cls in (StudioError, InputError, SafetyBlocked, RateLimited, ProviderUnavailable, ProviderTimeout, JobCancelled)
}


def restore_error(code: str | None, message: str | None) -> StudioError:
    """Rebuild a journaled failure for delivery after a restart (the message is what the user sees)."""
    name, _, context = (code or "").partition(":")
    cls = ERRORS_BY_CODE.get(name, StudioError)
    err = cls.__new__(cls)
    StudioError.__init__(err, message)
    if isinstance(err, SafetyBlocked):
        err.category = context or "SAFETY"
    if isinstance(err, RateLimited):
        err.retry_after = None
    return err
