"""Where an edit's image comes from, cheapest first, so ``conversations.replies`` is the last resort.

Non-Marketplace apps may call ``conversations.replies`` once a minute, so a thread's image is looked
up in this order: the bot's own results in that thread (journal), a result named in a file's name,
files seen in ``message`` events, and only then the API. Slack files are fetched with the bot token
from Slack's own hosts, and an HTML answer (the sign-in page) is refused.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from adapters.media import DEFAULT_TIMEOUT_S, download
from adapters.slack.ledger import job_id_from_filename
from adapters.slack.reply import PLATFORM, ref
from adapters.slack.workspaces import WorkspaceClient
from core.errors import InputError
from core.jobs.model import Job, JobState
from core.results import ImageResult
from core.studio import Studio
from core.text import size_text

log = logging.getLogger(__name__)

SLACK_FILE_HOSTS = ("files.slack.com", "files-edu.slack.com", "files-gov.slack.com", "slack-files.com")
MAX_IMAGE_BYTES = 20 * 1024 * 1024
_SEEN_LIMIT = 2000
_IMAGE_KINDS = ("imagine", "edit", "pick", "vary", "upscale", "blend")


@dataclass(frozen=True, slots=True)
class SlackFile:
    id: str
    name: str
    mimetype: str
    url: str
    size: int = 0

    @property
    def is_image(self) -> bool:
        return self.mimetype.startswith("image/")

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> SlackFile:
        return cls(id=str(data.get("id", "")), name=str(data.get("name") or data.get("title") or ""),
                   mimetype=str(data.get("mimetype", "")),
                   url=str(data.get("url_private_download") or data.get("url_private") or ""),
                   size=int(data.get("size") or 0))


@dataclass(frozen=True, slots=True)
class Source:
    """The image to edit, and the job that made it when it was one of ours (the parent of the edit)."""

    image: bytes
    parent_id: str | None = None


def files_of(message: Mapping[str, Any]) -> list[SlackFile]:
    return [SlackFile.from_api(f) for f in message.get("files") or [] if isinstance(f, Mapping)]


def first_image(files: list[SlackFile]) -> SlackFile | None:
    """The first image; an InputError in plain words when there are only other kinds of file."""
    for file in files:
        if file.is_image:
            return file
    if files:
        kind = files[0].mimetype or "unknown type"
        raise InputError(f"That message has a file, but it isn't an image ({kind}). I can only edit images.")
    return None


class Sources:
    def __init__(self, extra_hosts: tuple[str, ...], *, max_bytes: int = MAX_IMAGE_BYTES,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self._max_bytes = max_bytes
        self._timeout_s = timeout_s
        self._hosts = SLACK_FILE_HOSTS + extra_hosts
        self._seen: OrderedDict[str, list[SlackFile]] = OrderedDict()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def remember(self, channel: str, message: Mapping[str, Any]) -> None:
        """A message event with files: keep them, so a mention in its thread needs no history call."""
        files = files_of(message)
        if files and message.get("ts"):
            key = ref(channel, str(message["ts"]))
            self._seen[key] = files
            self._seen.move_to_end(key)
            while len(self._seen) > _SEEN_LIMIT:
                self._seen.popitem(last=False)

    async def for_thread(self, studio: Studio, client: WorkspaceClient, channel: str, thread: str) -> Source:
        """The image a mention in this thread edits: our latest result there, else the thread's parent."""
        latest = await self._latest_result(studio, channel, thread)
        if latest is not None:
            return latest
        files = self._seen.get(ref(channel, thread))
        if files is None:
            files = await self._parent_files(client, channel, thread)
        file = first_image(files)
        if file is None:
            raise InputError("There's no image in this thread to edit. Mention me in the thread of an image, "
                             "or use the message's ⋯ menu → Edit image.")
        return await self.for_file(studio, client, file)

    async def latest_in(self, studio: Studio, client: WorkspaceClient, channel: str) -> Source | None:
        """The newest image in a conversation (a DM): a file someone shared there, or our latest result."""
        shared = next(((k, f) for k, files in reversed(self._seen.items()) if k.startswith(f"{channel}:")
                       for f in files if f.is_image), None)
        for job in reversed(await studio.recent(PLATFORM, channel=channel, limit=20)):
            if shared is not None and float(shared[0].split(":", 1)[1]) > job.created_at:
                break
            if (source := await _result_source(studio, job)) is not None:
                return source
        return None if shared is None else await self.for_file(studio, client, shared[1])

    async def for_file(self, studio: Studio, client: WorkspaceClient, file: SlackFile) -> Source:
        """A Slack file's bytes; one of our own results is read from disk instead of downloaded."""
        job_id = job_id_from_filename(file.name)
        if job_id is not None:
            job = await studio.job(job_id)
            if job is not None and (source := await _result_source(studio, job)) is not None:
                return source
        if not file.is_image:
            first_image([file])
        if file.size > self._max_bytes:
            raise InputError(f"That image is larger than {size_text(self._max_bytes)}.")
        if self._session is None:
            self._session = aiohttp.ClientSession()
        data = await download(self._session, file.url, allowed_hosts=self._hosts, max_bytes=self._max_bytes,
                              timeout_s=self._timeout_s,
                              headers={"Authorization": f"Bearer {await client.fresh_token()}"})
        return Source(data)

    async def _latest_result(self, studio: Studio, channel: str, thread: str) -> Source | None:
        for job in reversed(await studio.recent(PLATFORM, channel=channel, limit=50)):
            mine = job.origin.thread == thread or job.delivered_ref == ref(channel, thread)
            if mine and (source := await _result_source(studio, job)) is not None:
                return source
        root = await studio.job_for_message(PLATFORM, ref(channel, thread))
        return None if root is None else await _result_source(studio, root)

    async def _parent_files(self, client: WorkspaceClient, channel: str, thread: str) -> list[SlackFile]:
        log.debug("calling conversations.replies for %s", ref(channel, thread))
        try:
            response = await client.conversations_replies(channel=channel, ts=thread, limit=1)
        except SlackApiError as err:
            log.info("conversations.replies failed: %s", err.response.get("error"))
            raise InputError("I couldn't read this thread's first message. Is the app in this channel?") from None
        messages = response.get("messages") or []
        return files_of(messages[0]) if messages else []


async def _result_source(studio: Studio, job: Job) -> Source | None:
    if job.state is not JobState.DONE or job.kind not in _IMAGE_KINDS or job.delivered_ref is None:
        return None
    result = await studio.result_of(job)
    return Source(result.data, job.id) if isinstance(result, ImageResult) else None
