"""Delivery to Slack: a live status message, then the result in its place; errors only to the requester.

Everything a delivery needs is in the job's Origin (channel, thread, the requester), so the same Reply
serves live jobs and jobs resumed after a restart (which post a new message instead of editing a status);
a live one also keeps the ``response_url`` in memory.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import ledger
from adapters.slack.blocks import ButtonState, result_blocks, result_buttons
from adapters.slack.ledger import result_filename
from adapters.slack.status import Status
from adapters.slack.text import describe, escape, plain_request
from adapters.slack.workspaces import Workspaces
from core.creative import stored_buttons
from core.errors import StudioError
from core.jobs.delivery import DeliveryRefused
from core.jobs.model import Job, JobState, Progress
from core.providers.base import ProviderLimits
from core.requests import Origin, Request, SpeakRequest
from core.results import ImageResult, Result

log = logging.getLogger(__name__)

PLATFORM = "slack"
SHARE_POLL_S = (0.3, 0.7, 1.5)  # Slack shares an upload asynchronously: ask files.info a few times
INVALID_BLOCKS_RETRY_S = (0.5, 1.0, 1.5, 2.0)  # an image block naming a file uploaded a moment ago may be refused
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
    """One job in Slack: a visible status that progress edits, then one tidy result message in its place.

    An image is uploaded without sharing and shown by an image block (``slack_file``) in the status
    message itself, with its buttons and the job id in its metadata: one message. Speech is shared as a
    file (only a shared file gets Slack's inline player), and the status above it keeps the request and
    the buttons. ``post`` may run again after a transient failure: it edits the same status message.
    """

    def __init__(self, client: AsyncWebClient, *, response_url: str | None = None,
                 origin: Origin | None = None, request: Request | None = None,
                 limits: ProviderLimits | None = None) -> None:
        self.client = client
        self.limits = limits  # the image model's sizes: which Upscale a result offers
        self.response_url = response_url  # memory only: a live request's way to reach the user
        self._request_text = describe(request) if request is not None else ""
        self._status = Status(client, origin.channel, origin.thread) if origin is not None and origin.channel \
            else None

    async def progress(self, progress: Progress) -> None:
        if self._status is not None:
            await self._status.show(progress.job_id, self._request_text, progress)

    async def post(self, job: Job, result: Result) -> str | None:
        """The result in place of the status. A failure is classified for the runner, which retries
        transient ones after asking ``reconcile`` what already landed."""
        status_ts = await self._status.take() if self._status is not None else None
        try:
            if isinstance(result, ImageResult):
                return await self._post_image(job, result, status_ts)
            return await self._post_audio(job, result, status_ts)
        except Exception as exc:
            failure = ledger.classify(exc)
            if isinstance(failure, DeliveryRefused):
                log.warning("Slack refused the result of job %s: %s", job.id, failure.reason)
                await tell(self.client, job.origin.channel, job.requester.user_id, _upload_failed(failure.reason),
                           thread=job.origin.thread, response_url=self.response_url)
            raise failure from exc

    async def _post_image(self, job: Job, result: ImageResult, status_ts: str | None) -> str:
        channel = job.origin.channel or ""
        response = await self.client.files_upload_v2(content=result.data, title=title(job, result),
                                                     filename=result_filename(job.id, result.extension))
        file_id = str((response.get("file") or {}).get("id", ""))
        request_text = describe(job.request)
        offer = stored_buttons(job, self.limits) if self.limits is not None else None  # U/V, Vary, Upscale
        blocks = result_blocks(request_text, ButtonState(job.id, file_id, channel), image_file=file_id,
                               alt=plain_request(job.request), offer=offer)
        return ref(channel, await self.show(job, status_ts, blocks, request_text))

    async def show(self, job: Job, status_ts: str | None, blocks: list[dict[str, Any]], text: str) -> str:
        """The result message: an edit of the status, else a new one; retried while Slack still says the
        just-uploaded file is not ready (``invalid_blocks``)."""
        channel = job.origin.channel or ""
        for delay in (*INVALID_BLOCKS_RETRY_S, None):
            try:
                if status_ts:
                    try:
                        await self.client.chat_update(channel=channel, ts=status_ts, blocks=blocks, text=text,
                                                      metadata=ledger.metadata(job.id))
                        return status_ts
                    except SlackApiError as err:
                        if err.response.get("error") != "message_not_found":
                            raise
                        status_ts = None  # reconcile removed it (a retry): a new message instead
                posted = await self.client.chat_postMessage(channel=channel, thread_ts=job.origin.thread,
                                                            blocks=blocks, text=text, metadata=ledger.metadata(job.id))
                return str(posted["ts"])
            except SlackApiError as err:
                if err.response.get("error") != "invalid_blocks" or delay is None:
                    raise
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _post_audio(self, job: Job, result: Result, status_ts: str | None) -> str:
        origin = job.origin
        channel = origin.channel or ""
        request_text = describe(job.request)
        response = await self.client.files_upload_v2(
            channel=channel, thread_ts=origin.thread, content=result.data, title=title(job, result),
            filename=result_filename(job.id, result.extension),
            initial_comment=None if status_ts else request_text,  # the status above already shows it
        )
        file: dict[str, Any] = response.get("file") or {}
        file_id = str(file.get("id", ""))
        ts = share_ts(file, channel) or await self._wait_for_share(file_id, channel)
        if status_ts:
            blocks = result_blocks(request_text, ButtonState(job.id, file_id, channel), image_file=None, alt="")
            await self.show(job, status_ts, blocks, request_text)
            return ref(channel, ts or status_ts)
        posted = await self.post_buttons(job, file_id, image=False)
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
        """No result: the status message goes, and only the requester is told why."""
        if self._status is not None:
            await self._status.remove()
        origin = job.origin
        await tell(self.client, origin.channel, job.requester.user_id, escape(error.user_message),
                   thread=origin.thread, response_url=self.response_url)
        return None


    async def handed_off(self, job: Job) -> None:
        """A worker posted the outcome as a new message: the status this process showed progress in goes,
        unless the worker's reconcile already removed it (then Slack says message_not_found, logged once)."""
        if self._status is None:
            return
        try:
            await self._status.remove()
        except Exception as exc:
            log.info("could not remove the status message of job %s (%s)", job.id,
                     getattr(ledger.classify(exc), "reason", type(exc).__name__))


async def _remove(client: AsyncWebClient, channel: str, ts: str | None) -> None:
    if ts:
        try:
            await client.chat_delete(channel=channel, ts=ts)
        except SlackApiError as err:
            log.info("could not remove a stale status message: %s", err.response.get("error"))


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
        self.limits: ProviderLimits | None = None  # set once the studio runs

    def reply_for(self, job: Job) -> SlackReply:
        return SlackReply(self.workspaces.client(job.origin.workspace), limits=self.limits)

    async def reconcile(self, job: Job) -> str | None:
        """The result if it is already there: an image's message (it carries the job id in its metadata), or
        speech's file share, whose buttons are completed if the post stopped between the upload and them."""
        if job.state is not JobState.DONE:
            return None  # failures are ephemeral notes: nothing to find
        client = self.workspaces.client(job.origin.workspace)
        posted = await ledger.find_posted(client, job)
        channel = job.origin.channel or ""
        try:
            if job.kind != "speak":  # an unshared upload shown by an image block: the message is the result
                if posted.buttons_ts:
                    return ref(channel, posted.buttons_ts)
                await _remove(client, channel, posted.status_ts)  # a stale "generating…": posted anew
                return None
            if posted.file_ts is None:
                await _remove(client, channel, posted.status_ts)
                return None
            if posted.buttons_ts is None:
                reply = SlackReply(client)
                if posted.status_ts:  # the status above the file becomes the request and its buttons
                    blocks = result_blocks(describe(job.request), ButtonState(job.id, posted.file_id or "", channel),
                                           image_file=None, alt="")
                    await reply.show(job, posted.status_ts, blocks, describe(job.request))
                else:
                    await reply.post_buttons(job, posted.file_id or "", image=False)
        except Exception as exc:
            raise ledger.classify(exc) from exc
        return ref(channel, posted.file_ts)
