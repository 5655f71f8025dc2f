"""Exactly-once on Slack: results carry the job id, reconcile reads it back, failures are classified.

* The uploaded file is named ``studiobot-<job>.<ext>``; the buttons message under it carries message
  ``metadata`` (``event_type: studiobot_result``, ``event_payload: {"job_id": …}``). Metadata is visible
  to any app in the workspace, so it holds the job id and nothing else.
* ``find_posted`` reads the channel (or the thread) with ``include_all_metadata`` and finds the file
  share by name and the buttons by metadata. Note: commercially distributed non-Marketplace apps get
  ``conversations.history/replies`` at 1 request/minute; a reconcile is one call, made only after a crash
  mid-post or a failed attempt.
* Failures become the core's ``DeliveryRetry`` (connection errors, timeouts, 5xx, ``ratelimited`` beyond
  the SDK's own retries) or ``DeliveryRefused`` (not in channel, channel not found, archived, too large).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from core.jobs.delivery import DeliveryRefused, DeliveryRetry
from core.jobs.model import Job

RESULT_EVENT = "studiobot_result"
STATUS_EVENT = "studiobot_status"  # a live status message, before it becomes the result
HISTORY_LIMIT = 50
RETRY_CODES = {"ratelimited", "internal_error", "fatal_error", "request_timeout", "service_unavailable"}


def metadata(job_id: str, event: str = RESULT_EVENT) -> dict[str, Any]:
    return {"event_type": event, "event_payload": {"job_id": job_id}}


def result_filename(job_id: str, extension: str) -> str:
    """The job id in the name lets reconcile and later edits find the job from the file alone."""
    return f"studiobot-{job_id}.{extension}"


def job_id_from_filename(name: str) -> str | None:
    stem = name.rsplit(".", 1)[0]
    if stem.startswith("studiobot-") and len(stem) == len("studiobot-") + 12:
        return stem.removeprefix("studiobot-")
    return None


@dataclass(frozen=True)
class Posted:
    """What of one job's result is already in the channel."""

    file_ts: str | None = None
    file_id: str | None = None
    buttons_ts: str | None = None
    status_ts: str | None = None  # a status message that never became the result (a stop mid-post)


async def find_posted(client: AsyncWebClient, job: Job) -> Posted:
    channel, thread = job.origin.channel or "", job.origin.thread
    try:
        if thread:
            resp = await client.conversations_replies(channel=channel, ts=thread, limit=HISTORY_LIMIT,
                                                      include_all_metadata=True)
        else:
            resp = await client.conversations_history(channel=channel, limit=HISTORY_LIMIT,
                                                      include_all_metadata=True)
    except Exception as exc:
        raise classify(exc) from exc
    file_ts = file_id = buttons_ts = status_ts = None
    for message in resp.get("messages") or []:
        for file in message.get("files") or []:
            if job_id_from_filename(str(file.get("name", ""))) == job.id:
                file_ts, file_id = str(message["ts"]), str(file.get("id", ""))
        meta = message.get("metadata") or {}
        if (meta.get("event_payload") or {}).get("job_id") == job.id:
            if meta.get("event_type") == RESULT_EVENT:
                buttons_ts = str(message["ts"])
            elif meta.get("event_type") == STATUS_EVENT:
                status_ts = str(message["ts"])
    return Posted(file_ts, file_id, buttons_ts, status_ts)


def classify(exc: BaseException) -> Exception:
    """The core's view of a Slack failure; never the exception text (it may quote a URL)."""
    if isinstance(exc, DeliveryRetry | DeliveryRefused):
        return exc
    if isinstance(exc, SlackApiError):
        code = str(exc.response.get("error", "")) if exc.response is not None else ""
        status = exc.response.status_code if exc.response is not None else 0
        if code in RETRY_CODES or status >= 500 or status == 429:
            after = (exc.response.headers or {}).get("Retry-After") if exc.response is not None else None
            return DeliveryRetry(f"Slack answered {status} {code}", retry_after=float(after) if after else None)
        return DeliveryRefused(code or f"Slack refused ({status})")
    if isinstance(exc, SlackRequestError | aiohttp.ClientError | OSError | TimeoutError):
        return DeliveryRetry(type(exc).__name__)
    return exc if isinstance(exc, Exception) else RuntimeError(type(exc).__name__)
