"""One delivery path for every adapter: parse, submit with a live Reply, or say in plain words why not.

The core's ``Reply`` carries a job's progress and outcome. Before a job exists there are two more
things a chat needs to show: the syntax help someone asked for, and why a command was refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from core.commands import Help
from core.errors import StudioError
from core.jobs.delivery import Reply
from core.jobs.model import Job
from core.requests import Origin, Request, Requester
from core.studio import Studio

Build = Callable[[], Request | Help]


class AdapterReply(Reply, Protocol):
    """A platform's Reply, plus what it shows when no job is created."""

    async def help(self, help: Help) -> None: ...

    async def reject(self, error: StudioError) -> None: ...


async def submit_and_track(studio: Studio, reply: AdapterReply, build: Build | Request | Help,
                           requester: Requester, origin: Origin, *, parent_id: str | None = None,
                           dedupe_key: str | None = None) -> Job | None:
    """Submit the request with ``reply`` live on it; help and refusals go to the reply, not up the stack.

    ``build`` may be a callable so parsing errors take the same path as validation errors.
    Returns the accepted job, or None when nothing was queued.
    """
    try:
        request = build() if callable(build) else build
        if isinstance(request, Help):
            await reply.help(request)
            return None
        return await studio.submit(request, requester, origin, parent_id=parent_id, reply=reply,
                                   dedupe_key=dedupe_key)
    except StudioError as err:
        await reply.reject(err)
        return None
