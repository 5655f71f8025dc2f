"""The "Blend images" message shortcut: every image on the message, in order, blended into one; the message's
own words (if any) are the instruction. The result lands in that message's thread."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from adapters.slack.flow import Flow, dedupe_key, origin_of, requester_of
from adapters.slack.sources import files_of
from adapters.slack.text import escape, plain
from core.errors import StudioError
from core.requests import BlendRequest, Parent

BLEND_SHORTCUT = "blend_images"  # the message shortcut's callback_id (manifest.yml)
TOO_FEW = "A blend needs a message with 2 or more images; this one has {n}."


class Blends:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def register(self, app: AsyncApp) -> None:
        app.shortcut({"type": "message_action", "callback_id": BLEND_SHORTCUT})(self.on_shortcut)

    async def on_shortcut(self, ack: AsyncAck, shortcut: dict[str, Any]) -> None:
        await ack()
        message = shortcut.get("message") or {}
        ts = str(shortcut.get("message_ts") or message.get("ts", ""))
        team = (shortcut.get("team") or {}).get("id")
        origin = origin_of(team, str(shortcut["channel"]["id"]), thread=str(message.get("thread_ts") or ts),
                           response_url=shortcut.get("response_url"))
        user = str(shortcut["user"]["id"])
        files = [f for f in files_of(message) if f.is_image]
        if len(files) < 2:
            await self.flow.tell(origin, user, escape(TOO_FEW.format(n=len(files))))
            return
        client = self.flow.client(team)
        try:
            sources = [await self.flow.sources.for_file(self.flow.studio, client, f) for f in files]
        except StudioError as err:
            await self.flow.refuse(origin, user, err)
            return
        words = plain(str(message.get("text") or ""))
        request = BlendRequest(images=tuple(s.image for s in sources), instruction=words,
                               names=tuple(f.name for f in files),
                               parents=tuple(Parent(s.parent_id) for s in sources if s.parent_id))
        key = dedupe_key("blend", f"{origin.channel}:{ts}:{shortcut.get('trigger_id', '')}")
        await self.flow.submit(request, requester_of(shortcut["user"]), origin, key=key)
