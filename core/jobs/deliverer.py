"""Posting one job's outcome: at least once, reconciled before every repeat, every attempt journaled.

    claim (pending -> delivering) -> [reconcile] -> post -> delivered
                                        ^            | transient: backoff, reconcile, again (until the deadline)
                                        |____________| refused: undeliverable, with the reason
A job found ``delivering`` after a crash starts with a reconcile: it is posted only if the platform
does not already show it.
"""

from __future__ import annotations

import asyncio
import logging

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_delay, wait_exponential_jitter

from core.errors import StudioError
from core.jobs.delivery import DeliveryHook, DeliveryRefused, DeliveryRetry, Reply
from core.jobs.journal import Journal
from core.jobs.model import Job
from core.results import Result

log = logging.getLogger(__name__)

Outcome = Result | StudioError
_backoff = wait_exponential_jitter(initial=0.2, max=20.0, jitter=0.5)


def transient(exc: BaseException) -> bool:
    """Worth another try: the platform may not have seen it, or may have and will tell us on reconcile."""
    return isinstance(exc, DeliveryRetry | OSError | TimeoutError)


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    said = exc.retry_after if isinstance(exc, DeliveryRetry) and exc.retry_after else 0.0
    return max(said, _backoff(state))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DeliveryRetry | DeliveryRefused):
        return exc.reason[:200]
    return type(exc).__name__  # never str(exc): library messages may quote URLs that carry tokens


class Deliverer:
    def __init__(self, journal: Journal, deadline_s: float) -> None:
        self.journal = journal
        self.deadline_s = deadline_s
        self.posts = 0  # successful post/fail calls, for measurements

    async def deliver(self, job: Job, outcome: Outcome, reply: Reply, hook: DeliveryHook | None, *,
                      reconcile_first: bool) -> None:
        """Deliver once claimed; ``reconcile_first`` when an earlier attempt may already have landed."""
        checked = not reconcile_first

        async def attempt() -> str | None:
            nonlocal checked
            if not checked and hook is not None:
                found = await hook.reconcile(job)
                if found is not None:
                    await self.journal.mark_delivered(job.id, found)
                    await self.journal.record_attempt(job.id, "reconciled", ref=found)
                    return found
            checked = False  # any later attempt follows a failure that may have reached the platform
            if isinstance(outcome, StudioError):
                ref = await reply.fail(job, outcome)
            else:
                ref = await reply.post(job, outcome)
            self.posts += 1
            await self.journal.mark_delivered(job.id, ref)  # first: a reply to the result looks its job up by ref
            await self.journal.record_attempt(job.id, "posted", ref=ref)
            return ref

        async def note_retry(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            if exc is not None:
                log.info("delivering job %s failed (%s); retrying", job.id, _describe(exc))
                await self.journal.record_attempt(job.id, "retry", detail=_describe(exc))

        try:
            async for trying in AsyncRetrying(stop=stop_after_delay(self.deadline_s), wait=_wait,
                                              retry=retry_if_exception(transient), before_sleep=note_retry,
                                              reraise=True):
                with trying:
                    await attempt()
        except DeliveryRefused as err:
            await self._give_up(job, "refused", err.reason)
        except asyncio.CancelledError:
            raise  # stopping: the job stays 'delivering' and is reconciled on the next start
        except Exception as err:
            if transient(err):
                await self._give_up(job, "gave_up", f"still failing after {self.deadline_s:.0f} s: {_describe(err)}")
            else:
                log.exception("delivering job %s failed", job.id)
                await self._give_up(job, "error", _describe(err))

    async def _give_up(self, job: Job, outcome: str, reason: str) -> None:
        log.warning("job %s is undeliverable: %s", job.id, reason)
        await self.journal.record_attempt(job.id, outcome, detail=reason)
        await self.journal.mark_undeliverable(job.id, reason)
