"""U1-U4, V1-V4, Vary and Upscale under Slack results. The button's value holds the job id and its
action id the grid cell, so they work after a restart; core.creative builds the request and its lineage."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from adapters.slack.blocks import PICK, UPSCALE, VARY, ButtonState
from adapters.slack.flow import Flow, dedupe_key, origin_of, requester_of
from core import creative
from core.errors import StudioError
from core.requests import Request


class CreativeButtons:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def register(self, app: AsyncApp) -> None:
        app.action(re.compile(rf"^{PICK}_[1-4]$"))(self.on_button)
        app.action(re.compile(rf"^{VARY}(_[1-4])?$"))(self.on_button)
        app.action(UPSCALE)(self.on_button)

    async def on_button(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        action = body["actions"][0]
        state = ButtonState.decode(str(action.get("value", "")))
        name, _, cell = str(action.get("action_id", "")).rpartition("_")
        n = int(cell) if cell.isdigit() else None
        kind = name if n is not None else str(action.get("action_id"))
        studio = self.flow.studio
        message = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id") or state.channel)
        team = str((body.get("team") or {}).get("id") or "") or None
        job = await studio.job(state.job)
        thread = (job.origin.thread if job else None) or message.get("thread_ts")
        origin = origin_of(team, channel, thread=thread, response_url=body.get("response_url"))
        user = str(body["user"]["id"])
        request: Request
        try:
            if kind == PICK and n is not None:
                request = await creative.pick(studio, state.job, n)
            elif kind == VARY:
                request = await creative.vary(studio, state.job, n)
            else:
                request = await creative.upscale(studio, state.job)
        except StudioError as err:
            await self.flow.refuse(origin, user, err)
            return
        key = dedupe_key("trigger", str(body.get("trigger_id")))
        await self.flow.submit(request, requester_of(body["user"]), origin, key=key)  # its status shows progress
