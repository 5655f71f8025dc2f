"""The one error tree. Every member carries a short message fit to show a user.

StudioError            something went wrong; ``user_message`` says what in plain words
  InputError           bad text, voice, ratio or file: says what to fix
  SafetyBlocked        the provider refused: names the category
  RateLimited          too many requests: says when to try again (``retry_after``)
  ProviderUnavailable  upstream failed or is misconfigured
  ProviderTimeout      upstream took too long
  JobCancelled         the user (or shutdown) cancelled the job
"""

from __future__ import annotations


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
