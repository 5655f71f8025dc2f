"""What every Slack listener shares: the workspace's client, submit once per event, explain refusals."""

from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError

from adapters.slack.reply import PLATFORM, SlackReply, tell
from adapters.slack.sources import Sources
from adapters.slack.text import escape
from adapters.slack.workspaces import WorkspaceClient, Workspaces
from core.errors import NotAllowed, QuotaExceeded, StudioError
from core.jobs.model import Job
from core.requests import Origin, Request, Requester
from core.studio import Studio

_SEEN_LIMIT = 5000
ADMIN_TTL_S = 300.0


def dedupe_key(kind: str, value: str) -> str:
    return f"{PLATFORM}:{kind}:{value}"


class Flow:
    """The studio, each workspace's Web API client and the image sources, shared by all listeners."""

    def __init__(self, studio: Studio, workspaces: Workspaces, sources: Sources) -> None:
        self.studio = studio
        self.workspaces = workspaces
        self.sources = sources
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._admins: OrderedDict[tuple[str, str], tuple[bool, float]] = OrderedDict()

    async def first_delivery(self, key: str) -> bool:
        """False for an event we already handled: a Slack retry, here or before a restart."""
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > _SEEN_LIMIT:
            self._seen.popitem(last=False)
        return await self.studio.job_for_key(key) is None

    async def submit(self, request: Request, requester: Requester, origin: Origin, *, key: str,
                     parent_id: str | None = None) -> Job | None:
        """Queue the job with its Slack reply; a refusal becomes an ephemeral note to the requester.

        The ``response_url`` (a capability to post into the channel) stays in the live reply's memory:
        it is taken out of the origin before anything is journaled.
        """
        response_url = origin.meta.get("response_url")
        journaled = dataclasses.replace(origin, meta={k: v for k, v in origin.meta.items() if k != "response_url"})
        reply = SlackReply(self.client(origin.workspace), response_url=response_url, origin=journaled, request=request,
                           limits=self.studio.provider.limits)
        try:
            if await self.is_admin(origin.workspace, requester.user_id):
                requester = dataclasses.replace(requester, admin=True)
            return await self.studio.submit(request, requester, journaled, parent_id=parent_id, reply=reply,
                                            dedupe_key=key)
        except StudioError as err:
            await self.refuse(origin, requester.user_id, err)
            return None

    def client(self, team: str | None) -> WorkspaceClient:
        return self.workspaces.client(team)

    async def refuse(self, origin: Origin, user: str | None, err: StudioError) -> None:
        await self.tell(origin, user, explain(err))

    async def is_admin(self, team: str | None, user: str) -> bool:
        """Workspace admins and owners (exempt from quotas, may change settings); asked once per few minutes."""
        key = (team or "", user)
        cached = self._admins.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        try:
            info = await self.client(team).users_info(user=user)
        except SlackApiError:
            return False
        profile = info.get("user") or {}
        admin = bool(profile.get("is_admin") or profile.get("is_owner") or profile.get("is_primary_owner"))
        self._admins[key] = (admin, time.monotonic() + ADMIN_TTL_S)
        while len(self._admins) > _SEEN_LIMIT:
            self._admins.popitem(last=False)
        return admin

    async def tell(self, origin: Origin, user: str | None, text: str) -> None:
        await tell(self.client(origin.workspace), origin.channel, user, text, thread=origin.thread,
                   response_url=origin.meta.get("response_url"))


def slack_date(at: float) -> str:
    """A date token each reader's client shows in their own time zone (with a UTC fallback)."""
    fallback = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at)}^{{date_short_pretty}} {{time}}|{fallback}>"


def explain(err: StudioError) -> str:
    """A refusal in Slack's text format: quotas with a date token, rule refusals with channel links."""
    if isinstance(err, QuotaExceeded):
        return escape(err.template).replace("{when}", slack_date(err.reset_at))
    if isinstance(err, NotAllowed):
        return err.user_message  # our own words (never the member's), with <#C…> links intact
    return escape(err.user_message)


def requester_of(user: Mapping[str, Any] | str, name: str = "") -> Requester:
    if isinstance(user, Mapping):
        return Requester(PLATFORM, str(user.get("id", "")), str(user.get("username") or user.get("name") or ""))
    return Requester(PLATFORM, user, name)


def origin_of(team: str | None, channel: str, *, thread: str | None = None, message: str | None = None,
              response_url: str | None = None) -> Origin:
    meta = {"response_url": response_url} if response_url else {}
    return Origin(PLATFORM, workspace=team, channel=channel, thread=thread, message=message, meta=meta)
