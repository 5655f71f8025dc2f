"""Delivery to Slack: results uploaded with ``files_upload_v2`` into the channel or thread, errors as ephemerals.

Everything a delivery needs is in the job's Origin (channel, thread, the requester, a ``response_url``
in ``meta``), so the same Reply serves live jobs and jobs resumed after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import ButtonState, result_buttons
from adapters.slack.text import describe, escape
from adapters.slack.workspaces import Workspaces
from core.errors import StudioError
from core.jobs.model import Job, Progress
from core.requests import SpeakRequest
from core.results import ImageResult, Result

log = logging.getLogger(__name__)

PLATFORM = "slack"
SHARE_POLL_S = (0.3, 0.7, 1.5)  # Slack shares an upload asynchronously: ask files.info a few times
_TIMEOUT = aiohttp.ClientTimeout(total=10)


def ref(channel: str, ts: str) -> str:
    """How a Slack message is named in the journal (``delivered_ref``)."""
    return f"{channel}:{ts}"


def result_filename(job_id: str, extension: str) -> str:
    """The job id in the name lets a later edit find the job from the file alone, with no history call."""
    return f"studiobot-{job_id}.{extension}"


def job_id_from_filename(name: str) -> str | None:
    stem = name.rsplit(".", 1)[0]
    if stem.startswith("studiobot-") and len(stem) == len("studiobot-") + 12:
        return stem.removeprefix("studiobot-")
    return None


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

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def progress(self, progress: Progress) -> None:
        return None

    async def post(self, job: Job, result: Result) -> str | None:
        try:
            return await self._upload(job, result)
        except SlackApiError as err:
            code = str(err.response.get("error", ""))
            log.warning("uploading the result of job %s failed: %s", job.id, code)
            await tell(self.client, job.origin.channel, job.requester.user_id, _upload_failed(code),
                       thread=job.origin.thread, response_url=job.origin.meta.get("response_url"))
            return None

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
        buttons = result_buttons(ButtonState(job.id, file_id, channel), image=isinstance(result, ImageResult))
        posted = await self.client.chat_postMessage(channel=channel, thread_ts=origin.thread, blocks=buttons,
                                                    text="Retry, edit or delete this result.")
        return ref(channel, ts or str(posted["ts"]))

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
                   thread=origin.thread, response_url=origin.meta.get("response_url"))
        return None


def _upload_failed(code: str) -> str:
    if code in ("not_in_channel", "channel_not_found"):
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
