"""The delivery contract adapters implement: the one way a result reaches a platform.

At least once, with idempotent posts, so effectively exactly once:

* ``Reply.post``/``Reply.fail`` may be called more than once for one job (a retry after a dropped
  connection, a restart mid-post). Each must be idempotent on the platform: an edit of the same message,
  a create keyed by the job id (Discord ``nonce`` + ``enforce_nonce``), or preceded by ``reconcile``.
* ``DeliveryHook.reconcile(job)`` answers "is this job's outcome already on the platform?" from the
  platform itself (a message carrying the job id in a file name, button id or message metadata). The
  runner asks it after a crash mid-delivery and before every retry, and posts only when it says None.
* Failures are classified by the adapter: ``DeliveryRetry`` (connection reset or refused, timeouts, 5xx,
  429 beyond the client's own handling) is retried with backoff up to a deadline; ``DeliveryRefused``
  (missing access, unknown channel, too large) ends the job ``undeliverable`` with the reason, after the
  adapter told the user where the platform still allows it. ``OSError`` and ``TimeoutError`` count as
  transient; anything else is a bug and is treated as a refusal so it is never retried blindly.
* A Reply never blocks a worker: progress goes through the runner's publisher (coalesced, rate-limited).
* Nothing capability-bearing (interaction tokens, ``response_url``) is journaled: a live Reply keeps it in
  memory, and a Reply rebuilt by ``reply_for`` after a restart works without it.
* Scaled out, a worker delivers through ``reply_for`` + ``reconcile``; the front end's live Reply is then
  told ``handed_off`` so it can tidy what only it can reach (its in-memory token, its status message).
"""

from __future__ import annotations

from typing import Protocol

from core.errors import StudioError
from core.jobs.model import Job, Progress
from core.results import Result


class DeliveryRetry(Exception):
    """A transient platform failure: the post may be tried again (after ``retry_after`` if the platform said)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class DeliveryRefused(Exception):
    """The platform refused for good; ``reason`` goes into the journal (never a token or URL)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Reply(Protocol):
    """Where one job's progress and outcome go; returns the platform's id for what it posted."""

    async def progress(self, progress: Progress) -> None: ...

    async def post(self, job: Job, result: Result) -> str | None: ...

    async def fail(self, job: Job, error: StudioError) -> str | None: ...

    async def handed_off(self, job: Job) -> None:
        """The outcome was delivered by another process (a worker); tidy what only this process can, e.g.
        Discord's deferred "thinking…" interaction response, which needs the interaction token that never
        leaves this process. Idempotent; a transient platform error is logged, never raised."""
        ...


class DeliveryHook(Protocol):
    """Per platform: rebuilds a Reply from what the journal kept, and asks the platform what it already has."""

    platform: str

    def reply_for(self, job: Job) -> Reply: ...

    async def reconcile(self, job: Job) -> str | None:
        """The ref of this job's outcome if it is already on the platform, else None (so it is posted)."""
        ...
