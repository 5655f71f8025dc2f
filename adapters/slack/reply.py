"""Delivery to Slack: results uploaded with ``files_upload_v2`` into the channel or thread, errors as ephemerals.

Everything a delivery needs is in the job's Origin (channel, thread, the requester), so the same Reply
serves live jobs and jobs resumed after a restart; a live one also keeps the ``response_url`` in memory.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import ledger
from adapters.slack.blocks import ButtonState, result_buttons
from adapters.slack.ledger import result_filename
from adapters.slack.text import describe, escape
from adapters.slack.workspaces import Workspaces
from core.errors import StudioError
from core.jobs.delivery import DeliveryRefused
from core.jobs.model import Job, JobState, Progress
from core.requests import SpeakRequest
from core.results import ImageResult, Result

log = logging.getLogger(__name__)

PLATFORM = "slack"
SHARE_POLL_S = (0.3, 0.7, 1.5)  # Slack shares an upload asynchronously: ask files.info a few times
_TIMEOUT = aiohttp.ClientTimeout(total=10)


def ref(channel: str, ts: str) -> str:
    """How a Slack message is named in the journal (``delivered_ref``)."""
    return f"{channel}:{ts}"


def share_ts(file: dict[str, Any], channel: str) -> str | None:
    """The ts of the message that shares ``file`` in ``channel``, if Slack has made it yet."""
    for scope in ("public", "private"):
        shares = (file.get("shares") or {}).get(scope, {}).get(channel) or []
        if shares:
            return str(shares[0]["ts"])
    return None


async def tell(client: AsyncWebClient, channel: str | None, user: str | None, text: str, *,
               thread: str | None = None, response_url: str | None = None) -> None:
    """An ephemeral note for one user: chat.postEphemeral, else the interaction's response_url."""
    if channel and user:
        try:
            await client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread)
            return
        except SlackApiError as err:
            log.info("postEphemeral failed (%s); trying the response_url", err.response.get("error"))
    if response_url:
        async with aiohttp.ClientSession(timeout=_TIMEOUT) as session, session.post(
            response_url, json={"response_type": "ephemeral", "text": text, "replace_original": False}
        ) as resp:
            if resp.status >= 400:
                log.warning("response_url answered %s", resp.status)


class SlackReply:
    """One job's outcome in Slack. Progress stays quiet: the ack already said "working on it"."""

    def __init__(self, client: AsyncWebClient, *, response_url: str | None = None) -> None:
        self.client = client
        self.response_url = response_url  # memory only: a live request's way to reach the user

    async def progress(self, progress: Progress) -> None:
        return None

    async def post(self, job: Job, result: Result) -> str | None:
        """Upload, then the buttons (with the job id in their metadata). A failure is classified for the
        runner, which retries transient ones after asking ``reconcile`` what already landed."""
        try:
            return await self._upload(job, result)
        except Exception as exc:
            failure = ledger.classify(exc)
            if isinstance(failure, DeliveryRefused):
                log.warning("Slack refused the result of job %s: %s", job.id, failure.reason)
                await tell(self.client, job.origin.channel, job.requester.user_id, _upload_failed(failure.reason),
                           thread=job.origin.thread, response_url=self.response_url)
            raise failure from exc

    async def _upload(self, job: Job, result: Result) -> str:
        origin = job.origin
        channel = origin.channel or ""
        response = await self.client.files_upload_v2(
            channel=channel, thread_ts=origin.thread, content=result.data,
            filename=result_filename(job.id, result.extension), title=title(job, result),
            initial_comment=describe(job.request),
        )
        file: dict[str, Any] = response.get("file") or {}
        file_id = str(file.get("id", ""))
        ts = share_ts(file, channel) or await self._wait_for_share(file_id, channel)
        posted = await self.post_buttons(job, file_id, image=isinstance(result, ImageResult))
        return ref(channel, ts or posted)

    async def post_buttons(self, job: Job, file_id: str, *, image: bool) -> str:
        channel = job.origin.channel or ""
        buttons = result_buttons(ButtonState(job.id, file_id, channel), image=image)
        posted = await self.client.chat_postMessage(channel=channel, thread_ts=job.origin.thread, blocks=buttons,
                                                    text="Retry, edit or delete this result.",
                                                    metadata=ledger.metadata(job.id))
        return str(posted["ts"])

    async def _wait_for_share(self, file_id: str, channel: str) -> str | None:
        for delay in SHARE_POLL_S:
            await asyncio.sleep(delay)
            try:
                info = await self.client.files_info(file=file_id)
            except SlackApiError:
                return None
            if ts := share_ts(info.get("file") or {}, channel):
                return ts
        return None

    async def fail(self, job: Job, error: StudioError) -> str | None:
        origin = job.origin
        await tell(self.client, origin.channel, job.requester.user_id, escape(error.user_message),
                   thread=origin.thread, response_url=self.response_url)
        return None


def _upload_failed(code: str) -> str:
    if code in ("not_in_channel", "channel_not_found", "is_archived"):
        return "I can't post in this channel yet. Add me with /invite @Studiobot, then try again."
    return "Your result is ready, but Slack wouldn't let me post it here. Please try again."


def title(job: Job, result: Result) -> str:
    """What Slack shows above the file: for speech, who speaks and for how long (``Puck · 0:03``)."""
    if isinstance(result, ImageResult):
        return "Studiobot image"
    request = job.request
    voices = "Speech"
    if isinstance(request, SpeakRequest):
        voices = " & ".join(s.voice for s in request.speakers) or request.voice
    seconds = max(1, round(result.duration_s))
    return f"{voices} · {seconds // 60}:{seconds % 60:02d}"


class SlackHook:
    """Rebuilds delivery for jobs that outlive their request (a restart mid-generation)."""

    platform = PLATFORM

    def __init__(self, workspaces: Workspaces) -> None:
        self.workspaces = workspaces

    def reply_for(self, job: Job) -> SlackReply:
        return SlackReply(self.workspaces.client(job.origin.workspace))

    async def reconcile(self, job: Job) -> str | None:
        """The result's file share in the channel or thread, if it is there; its buttons are completed if the
        post stopped between the upload and them."""
        if job.state is not JobState.DONE:
            return None  # failures are ephemeral notes: nothing to find
        client = self.workspaces.client(job.origin.workspace)
        posted = await ledger.find_posted(client, job)
        if posted.file_ts is None:
            return None
        if posted.buttons_ts is None:
            try:
                await SlackReply(client).post_buttons(job, posted.file_id or "", image=job.kind != "speak")
            except Exception as exc:
                raise ledger.classify(exc) from exc
        return ref(job.origin.channel or "", posted.file_ts)
