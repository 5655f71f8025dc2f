"""Exactly-once on Discord: idempotency keys for posts, reconcile from the channel, failures classified.

* A new channel message carries a ``nonce`` derived from the job id with ``enforce_nonce`` (discord.py
  sends it whenever ``nonce`` is given): a repeat within Discord's window returns the first message.
  Interaction routes (callbacks, followups, ``@original`` edits) take no nonce; editing ``@original``
  is idempotent by itself.
* Past that window, and after a restart (the interaction token lived only in memory), ``reconcile``
  reads the channel's recent messages for the bot's own one carrying the job id: in a file name
  (``<kind>-<job>.<ext>``) or a button custom id (``sb:<action>:<job>``).
* Failures become the core's ``DeliveryRetry`` (connection reset/refused, timeouts, 5xx, 429 beyond
  discord.py's own handling) or ``DeliveryRefused`` (missing access, unknown channel, too large).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

import aiohttp
import discord

from core.jobs.delivery import DeliveryRefused, DeliveryRetry
from core.jobs.model import Job

log = logging.getLogger(__name__)

HISTORY_LIMIT = 50  # how far back reconcile looks; results are posted right after the job ends
REFUSED_CODES = {
    10003: "unknown channel", 10008: "the message to reply to is gone", 50001: "missing access",
    50013: "missing permissions", 40005: "the file is too large", 50035: "the message was invalid",
}


def nonce(job: Job, purpose: str = "r") -> str:
    """≤25 characters, the same for every attempt of one post (``r`` result, ``s`` status, ``e`` error)."""
    return f"sb{purpose}{job.id}"


def carries(message: discord.Message, job_id: str) -> bool:
    """Does this message of ours carry the job (file name or button id)?"""
    names = [a.filename for a in message.attachments]
    ids = [getattr(c, "custom_id", None) or "" for row in message.components for c in getattr(row, "children", [])]
    return any(job_id in n for n in names) or any(i.endswith(f":{job_id}") and not i.startswith("sb:cancel:")
                                                  for i in ids)  # a progress message's Cancel is not a result


async def find_posted(client: discord.Client, job: Job) -> str | None:
    """The id of the bot's message in the job's channel that already carries this job's result."""
    if not job.origin.channel:
        return None
    channel = client.get_partial_messageable(int(job.origin.channel),
                                             guild_id=int(job.origin.workspace) if job.origin.workspace else None)
    try:
        async for message in channel.history(limit=HISTORY_LIMIT):
            if client.user is not None and message.author.id == client.user.id and carries(message, job.id):
                return str(message.id)
    except Exception as exc:
        raise classify(exc) from exc
    return None


async def tidy(what: str, action: Awaitable[object]) -> None:
    """Remove something the result made stale; gone already is fine, and a failure is one log line, never
    raised (the outcome itself is on the platform) and never the exception text (it may quote a token URL)."""
    try:
        await action
    except discord.NotFound:
        return
    except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
        failure = classify(exc)
        reason = failure.reason if isinstance(failure, DeliveryRetry | DeliveryRefused) else type(exc).__name__
        log.info("could not remove the %s (%s)", what, reason)


async def drop_placeholder(client: discord.Client, job: Job, keep: str | None = None) -> None:
    """Remove the "thinking…"/"Waiting in the queue" message a job that outlived its interaction left."""
    placeholder = job.origin.meta.get("placeholder")
    if not placeholder or placeholder == keep or not job.origin.channel:
        return
    await tidy(f"placeholder of job {job.id}", client.http.delete_message(int(job.origin.channel), int(placeholder)))


def classify(exc: BaseException) -> Exception:
    """The core's view of a Discord failure; never quotes the exception text (it may hold a token URL)."""
    if isinstance(exc, DeliveryRetry | DeliveryRefused):
        return exc
    if isinstance(exc, discord.RateLimited):
        return DeliveryRetry("rate limited", retry_after=exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        if exc.status >= 500 or exc.status == 429:
            return DeliveryRetry(f"Discord answered {exc.status}")
        if exc.status == 413:
            return DeliveryRefused("the file is too large")
        return DeliveryRefused(REFUSED_CODES.get(exc.code, f"Discord refused ({exc.status}, code {exc.code})"))
    if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError | discord.GatewayNotFound):
        return DeliveryRetry(type(exc).__name__)
    return exc if isinstance(exc, Exception) else RuntimeError(type(exc).__name__)
