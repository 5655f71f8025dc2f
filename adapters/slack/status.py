"""A live job's one visible message: posted on its first progress, edited in place, turned into the result.

The core's progress publisher already coalesces (one edit per job every ~2 s, a few per job at most),
so this only has to keep the edits in order and never resurrect a status after the result took its place.
"""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import status_blocks
from adapters.slack.ledger import STATUS_EVENT, metadata
from core.jobs.model import JobState, Progress

log = logging.getLogger(__name__)


def progress_line(progress: Progress) -> str:
    """``Queued, #3 in line`` · ``Generating…`` · ``Generating… part 2 of 5``."""
    if progress.state is JobState.QUEUED:
        return f":hourglass_flowing_sand: Queued, #{progress.position} in line" if progress.position \
            else ":hourglass_flowing_sand: Queued"
    detail = progress.message if progress.message and progress.message != "generating" else ""
    return f":art: Generating… {detail}".rstrip()


class Status:
    def __init__(self, client: AsyncWebClient, channel: str, thread: str | None) -> None:
        self.client = client
        self.channel = channel
        self.thread = thread
        self.ts: str | None = None
        self.lock = asyncio.Lock()
        self.closed = False  # the outcome has taken over: no more progress

    async def show(self, job_id: str, request_text: str, progress: Progress) -> None:
        async with self.lock:
            if self.closed:
                return
            blocks = status_blocks(request_text, progress_line(progress), job_id)
            text = f"{request_text} — {progress_line(progress)}"
            if self.ts is None:  # the job id in its metadata lets reconcile find it after a stop mid-post
                posted = await self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread,
                                                            blocks=blocks, text=text,
                                                            metadata=metadata(job_id, STATUS_EVENT))
                self.ts = str(posted["ts"])
            else:
                await self.client.chat_update(channel=self.channel, ts=self.ts, blocks=blocks, text=text)

    async def remove(self) -> None:
        """No result will come (cancelled, failed): the status goes, the requester is told privately."""
        async with self.lock:
            self.closed = True
            if self.ts is None:
                return
            try:
                await self.client.chat_delete(channel=self.channel, ts=self.ts)
            except SlackApiError as err:
                if err.response.get("error") != "message_not_found":
                    log.info("could not remove the status message: %s", err.response.get("error"))
                    return
            self.ts = None  # gone: asking again (a hand-off after a failure) does nothing

    async def take(self) -> str | None:
        """Close it for the result, which edits the same message; its ts, if one was posted."""
        async with self.lock:
            self.closed = True
            return self.ts
