"""Live updates: every open page gets every job's progress and outcome over one websocket each."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import WSCloseCode, web

from adapters.playground.entries import job_entry
from core.commands import Help
from core.errors import StudioError
from core.jobs.delivery import Reply
from core.jobs.model import Job, Progress
from core.providers.base import ProviderLimits
from core.results import Result

log = logging.getLogger(__name__)

PLATFORM = "playground"
CHANNEL = "playground"  # the timeline; voice previews use another channel and stay out of it
SEND_TIMEOUT_S = 5.0


class Hub:
    """The set of connected pages; a slow or dead page is dropped, never waited on for long."""

    def __init__(self) -> None:
        self._sockets: set[web.WebSocketResponse] = set()
        self.limits: ProviderLimits | None = None  # the studio's, once it runs: which buttons entries offer

    def __len__(self) -> int:
        return len(self._sockets)

    def add(self, ws: web.WebSocketResponse) -> None:
        self._sockets.add(ws)

    def discard(self, ws: web.WebSocketResponse) -> None:
        self._sockets.discard(ws)

    async def broadcast(self, message: dict[str, Any]) -> None:
        sockets = list(self._sockets)
        results = await asyncio.gather(
            *(asyncio.wait_for(ws.send_json(message), SEND_TIMEOUT_S) for ws in sockets), return_exceptions=True
        )
        for ws, outcome in zip(sockets, results, strict=True):
            if isinstance(outcome, BaseException):
                log.debug("dropping a playground page: %r", outcome)
                self._sockets.discard(ws)

    async def close_all(self, _app: web.Application | None = None) -> None:
        """On shutdown: tell pages we are going, so the server does not wait on their sockets."""
        sockets, self._sockets = list(self._sockets), set()
        await asyncio.gather(*(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")
                               for ws in sockets), return_exceptions=True)


class PlaygroundReply:
    """Delivery for one playground job: tell every page. The same for live jobs and resumed ones."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def progress(self, progress: Progress) -> None:
        await self.hub.broadcast({
            "type": "progress", "id": f"job:{progress.job_id}", "state": progress.state.value,
            "position": progress.position, "message": progress.message,
        })

    async def post(self, job: Job, result: Result) -> str | None:
        return await self._outcome(job)

    async def fail(self, job: Job, error: StudioError) -> str | None:
        return await self._outcome(job)

    async def handed_off(self, job: Job) -> None:
        """A worker delivered it, and only this process holds the pages: they get the entry from the journal."""
        await self._outcome(job)

    async def _outcome(self, job: Job) -> str | None:
        if job.origin.channel == CHANNEL:
            await self.hub.broadcast({"type": "entry", "entry": job_entry(job, limits=self.hub.limits)})
        return job.id  # so job_for_message("playground", id) finds the parent of a reply


class RequestReply(PlaygroundReply):
    """The reply for one HTTP request: also remembers help or a refusal for the response."""

    def __init__(self, hub: Hub) -> None:
        super().__init__(hub)
        self.helped: Help | None = None
        self.rejected: StudioError | None = None

    async def help(self, help: Help) -> None:
        self.helped = help

    async def reject(self, error: StudioError) -> None:
        self.rejected = error


class QuietReply:
    """For voice previews: the caller awaits the outcome itself, so nothing is broadcast."""

    async def progress(self, progress: Progress) -> None:
        return None

    async def post(self, job: Job, result: Result) -> str | None:
        return None

    async def fail(self, job: Job, error: StudioError) -> str | None:
        return None

    async def handed_off(self, job: Job) -> None:
        return None


class PlaygroundHook:
    """Registered before the studio starts, so jobs a previous run left behind still reach the pages."""

    platform = PLATFORM

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def reply_for(self, job: Job) -> Reply:
        return PlaygroundReply(self.hub) if job.origin.channel == CHANNEL else QuietReply()

    async def reconcile(self, job: Job) -> str | None:
        """Pages read the timeline from the journal and replace entries by id: posting again is harmless."""
        return None
