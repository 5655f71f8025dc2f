"""Images as references for ``/imagine``: the "Imagine from this image" shortcut, and the offer made when
``/imagine`` is used in a thread that has an image.

The offer waits in memory only (a prompt, where to post, the image): an answer after a restart or
after ``OFFER_TTL_S`` just asks to run the command again.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from adapters.slack.blocks import (
    IMAGINE_MODAL,
    IMAGINE_SHORTCUT,
    SKIP_PARENT,
    USE_PARENT,
    EditTarget,
    imagine_modal,
    instruction_of,
    parent_offer,
)
from adapters.slack.flow import Flow, dedupe_key, requester_of
from adapters.slack.interactions import open_for_image, parsed_or_refused, source_of
from adapters.slack.text import quote
from core.commands import parse_imagine
from core.errors import StudioError
from core.requests import ImagineRequest, Origin, Requester

OFFER_TTL_S = 15 * 60
_MAX_OFFERS = 200
EXPIRED = "That choice has expired. Run /imagine again."


@dataclass(frozen=True, slots=True)
class Offer:
    request: ImagineRequest
    requester: Requester
    origin: Origin
    image: bytes
    parent_id: str | None
    made: float


class References:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self._offers: OrderedDict[str, Offer] = OrderedDict()

    def register(self, app: AsyncApp) -> None:
        app.shortcut({"type": "message_action", "callback_id": IMAGINE_SHORTCUT})(self.on_shortcut)
        app.view(IMAGINE_MODAL)(self.on_submitted)
        app.action(USE_PARENT)(self.on_answer)
        app.action(SKIP_PARENT)(self.on_answer)

    async def on_shortcut(self, ack: AsyncAck, shortcut: dict[str, Any]) -> None:
        """Ask for a prompt at once (the trigger id lasts about three seconds)."""
        await ack()
        await open_for_image(self.flow, shortcut, imagine_modal)

    async def on_submitted(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """A bad prompt keeps the modal open with the reason; a good one queues an image drawn from the picture."""
        parsed = await parsed_or_refused(ack, lambda: parse_imagine(instruction_of(view)))
        if parsed is None:
            return
        target = EditTarget.decode(str(view.get("private_metadata") or "{}"))
        team = (body.get("team") or {}).get("id")
        origin = Origin("slack", workspace=team, channel=target.channel, thread=target.thread or None)
        user = str(body["user"]["id"])
        try:
            source = await source_of(self.flow, self.flow.client(team), target)
        except StudioError as err:
            await self.flow.refuse(origin, user, err)
            return
        request = dataclasses.replace(parsed, references=(source.image,))
        key = dedupe_key("view", str(view.get("id")))
        await self.flow.submit(request, requester_of(body["user"]), origin, key=key, parent_id=source.parent_id)

    async def offer_or_submit(self, request: ImagineRequest, requester: Requester, origin: Origin, key: str) -> None:
        """``/imagine`` in a thread: if the thread has an image, ask whether to use it; otherwise just draw."""
        assert origin.channel and origin.thread
        user = requester.user_id
        try:
            source = await self.flow.sources.for_thread(self.flow.studio, self.flow.client(origin.workspace),
                                                        origin.channel, origin.thread)
        except StudioError:
            source = None
        if source is None:
            await self.flow.submit(request, requester, origin, key=key)
            return
        offer_id = secrets.token_urlsafe(9)
        self._offers[offer_id] = Offer(request, requester, origin, source.image, source.parent_id, time.monotonic())
        while len(self._offers) > _MAX_OFFERS:
            self._offers.popitem(last=False)
        await self.flow.client(origin.workspace).chat_postEphemeral(
            channel=origin.channel, user=user, thread_ts=origin.thread, blocks=parent_offer(quote(request.prompt, 200),
                                                                                            offer_id),
            text="This thread has an image. Use it as the reference?")

    async def on_answer(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """Use the thread's image, or not; the question goes and the job's status appears."""
        await ack()
        action = body["actions"][0]
        offer = self._offers.pop(str(action.get("value", "")), None)
        if offer is None or time.monotonic() - offer.made > OFFER_TTL_S:
            await respond(text=EXPIRED, replace_original=True, response_type="ephemeral")
            return
        use = action.get("action_id") == USE_PARENT
        request = dataclasses.replace(offer.request, references=(offer.image,)) if use else offer.request
        key = dedupe_key("offer", str(action.get("value")))
        await respond(delete_original=True)  # the question goes; the job's visible status takes over
        await self.flow.submit(request, offer.requester, offer.origin, key=key,
                               parent_id=offer.parent_id if use else None)
