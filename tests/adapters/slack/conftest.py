"""The real Slack adapter (Bolt, HTTP or Socket Mode) against a fake Slack, on an offline studio.

``slack`` is the whole rig: the fake Web API, the adapter listening on 127.0.0.1, and a sender
that signs requests the way Slack does. Helpers read as what a user does in Slack.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image
from pydantic import SecretStr

from adapters.slack import SlackAdapter, build
from core.jobs.model import Job
from core.providers.base import Provider
from core.providers.offline import OfflineProvider
from core.requests import ImagineRequest
from core.settings import Settings
from core.studio import Studio, open_studio
from emulator.app import Emulator
from tests.fakes.media import png as png
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, BOT_USER, SIGNING_SECRET, TEAM, FakeSlack, SlackSender, Upload
from tests.settings import offline_settings

CHANNEL = "C0GENERAL"
_IDS = itertools.count(1)  # trigger ids, event ids, response_urls
ALICE = "UALICE"
BOB = "UBOB"


def make_settings(data_dir: Path, fake: FakeSlack, **overrides: Any) -> Settings:
    platform = {"slack_bot_token": SecretStr(BOT_TOKEN), "slack_signing_secret": SecretStr(SIGNING_SECRET),
                "slack_api_url": fake.api_url, "media_hosts": ("127.0.0.1",), "slack_port": 0}
    return offline_settings(data_dir, **(platform | overrides))


def image_of(data: bytes) -> Image.Image:
    return Image.open(BytesIO(data))


@dataclass
class Rig:
    fake: FakeSlack
    adapter: SlackAdapter
    studio: Studio
    sender: SlackSender
    _ids: itertools.count[int] = field(default_factory=lambda: _IDS)  # unique across rigs sharing one fake

    def _next(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):04d}"

    async def slash(self, command: str, text: str = "", *, channel: str = CHANNEL, user: str = ALICE,
                    thread_ts: str | None = None, team: str = TEAM, **kwargs: Any) -> tuple[int, str, str]:
        fields = {"token": "legacy", "team_id": team, "team_domain": "fake", "channel_id": channel,
                  "channel_name": "general", "user_id": user, "user_name": user.lower(), "command": command,
                  "text": text, "api_app_id": "A0FAKE", "is_enterprise_install": "false",
                  "response_url": self.fake.response_url(self._next("r")), "trigger_id": self._next("trig.")}
        if thread_ts:
            fields["thread_ts"] = thread_ts
        return await self.sender.form(fields, **kwargs)

    def event_body(self, event: dict[str, Any], *, event_id: str | None = None, team: str = TEAM) -> dict[str, Any]:
        return {"token": "legacy", "team_id": team, "api_app_id": "A0FAKE", "type": "event_callback",
                "event_id": event_id or self._next("Ev"), "event_time": 1700000000, "event": event,
                "authorizations": [{"team_id": team, "user_id": BOT_USER, "is_bot": True}]}

    def mention_event(self, text: str, *, channel: str = CHANNEL, user: str = ALICE, thread_ts: str | None = None,
                      files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        msg = self.fake.post_text(channel, f"<@{BOT_USER}> {text}", user=user, thread_ts=thread_ts)
        event = {"type": "app_mention", "user": user, "text": msg["text"], "ts": msg["ts"], "channel": channel,
                 "event_ts": msg["ts"]}
        if thread_ts:
            event["thread_ts"] = thread_ts
        if files:
            event["files"] = files
        return event

    async def mention(self, text: str, **kwargs: Any) -> tuple[int, str, str]:
        return await self.sender.event(self.event_body(self.mention_event(text, **kwargs)))

    async def share_image(self, data: bytes, *, channel: str = CHANNEL, user: str = ALICE, notify: bool = True,
                          name: str = "photo.png", mimetype: str = "image/png") -> dict[str, Any]:
        """A user posts a file; with ``notify`` the app gets the ``message`` event too, as subscribed."""
        msg = self.fake.post_file(channel, data, user=user, name=name, mimetype=mimetype)
        if notify:
            event = {k: v for k, v in msg.items() if k != "channel"} | {"channel": channel, "channel_type": "channel"}
            status, _, _ = await self.sender.event(self.event_body(event))
            assert status == 200
        return msg

    async def click(self, action_id: str, button_message: dict[str, Any], *, user: str = ALICE,
                    channel: str = CHANNEL) -> tuple[int, str, str]:
        button = next(e for b in button_message["blocks"] for e in b.get("elements", [])
                      if e.get("action_id") == action_id)
        payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user, "username": user.lower()},
                   "api_app_id": "A0FAKE", "trigger_id": self._next("trig."), "channel": {"id": channel},
                   "container": {"type": "message", "message_ts": button_message["ts"], "channel_id": channel},
                   "message": button_message, "response_url": self.fake.response_url(self._next("r")),
                   "actions": [{"type": "button", "action_id": action_id, "block_id": "sb_result",
                                "value": button["value"], "action_ts": "1700000001.0"}]}
        return await self.sender.interactive(payload)

    async def shortcut(self, message: dict[str, Any], *, user: str = ALICE, channel: str = CHANNEL,
                       callback_id: str = "edit_image") -> tuple[int, str, str]:
        payload = {"type": "message_action", "callback_id": callback_id, "trigger_id": self._next("trig."),
                   "team": {"id": TEAM}, "user": {"id": user, "username": user.lower()}, "channel": {"id": channel},
                   "message_ts": message["ts"], "message": message,
                   "response_url": self.fake.response_url(self._next("r"))}
        return await self.sender.interactive(payload)

    async def submit_view(self, view: dict[str, Any], text: str, *, user: str = ALICE,
                          mask: dict[str, Any] | None = None) -> tuple[int, str, str]:
        values: dict[str, Any] = {"instruction": {"instruction": {"type": "plain_text_input", "value": text}}}
        if any(b.get("block_id") == "mask" for b in view.get("blocks", [])):
            values["mask"] = {"mask": {"type": "file_input", "files": [mask] if mask else []}}
        state = {"values": values}
        payload = {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": user, "username": user.lower()},
                   "api_app_id": "A0FAKE", "trigger_id": self._next("trig."), "view": view | {"state": state}}
        return await self.sender.interactive(payload)

    async def buttons_under(self, upload: Upload, channel: str = CHANNEL) -> dict[str, Any]:
        """The message carrying a result's buttons (the result itself for an image), once fully delivered."""

        def find() -> dict[str, Any] | None:
            for message in self.fake.channels.get(channel, []):
                for block in message.get("blocks") or []:
                    values = [e.get("value", "") for e in block.get("elements", []) if e.get("type") == "button"]
                    if any(f'"file":"{upload.file_id}"' in v for v in values):
                        return message
            return None

        found: dict[str, Any] = await self.fake.wait_for(find)
        await self.delivered()  # and the journal knows the message, as it would long before anyone clicks
        return found

    @staticmethod
    def labels(message: dict[str, Any]) -> list[str]:
        """The button labels of a message's actions block."""
        return [e["text"]["text"] for b in message.get("blocks") or [] if b["type"] == "actions"
                for e in b["elements"]]

    async def request_shown(self, upload: Upload, channel: str = CHANNEL) -> str:
        """The request as the channel shows it with this result (once: in the result message's first block)."""
        if upload.initial_comment:
            return upload.initial_comment
        message = await self.buttons_under(upload, channel)
        return str(message["blocks"][0]["text"]["text"])

    async def status_posts(self, count: int = 1) -> list[dict[str, Any]]:
        """The status messages posted so far (they carry a Cancel button), at least ``count`` of them."""

        def posts() -> list[dict[str, Any]]:
            return [c.args for c in self.fake.calls_to("chat.postMessage") if "sb_cancel" in json.dumps(c.args)]

        found: list[dict[str, Any]] = await self.fake.wait_for(lambda: len(posts()) >= count and posts())
        return found

    async def opened_view(self, count: int = 1) -> dict[str, Any]:
        """The ``count``-th modal the app opened (views.open happens just after the ack)."""
        views: list[dict[str, Any]] = await self.fake.wait_for(lambda: len(self.fake.views) >= count and
                                                               self.fake.views)
        return views[count - 1]

    async def jobs(self) -> list[Job]:
        return await self.studio.recent("slack", limit=100)

    async def delivered(self, timeout: float = 20) -> list[Job]:
        """Every job, once each has ended and been delivered (or refused)."""
        async with asyncio.timeout(timeout):
            while True:
                jobs = await self.jobs()
                if all(j.state.terminal and j.delivery.final for j in jobs):
                    return jobs
                await asyncio.sleep(0.02)


class HeldProvider(OfflineProvider):
    """Offline images that wait at a gate, so a test can see queue positions and cancel mid-generation."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.started = 0

    async def imagine(self, request: ImagineRequest, *, seed: int | None = None) -> bytes:
        self.started += 1
        await self.gate.wait()
        return await super().imagine(request, seed=seed)


@asynccontextmanager
async def running(tmp_path: Path, *, provider: Provider | None = None, fake: FakeSlack | None = None,
                  **overrides: Any) -> AsyncIterator[Rig]:
    """One front end on its own fake Slack, or on ``fake`` shared with others (whoever started it stops it)."""
    own = fake is None
    fake = fake or FakeSlack()
    if own:
        await fake.start()
    try:
        settings = make_settings(tmp_path, fake, **overrides)
        adapter = build(settings)
        async with open_studio(settings, provider=provider, hooks=(adapter.hook,)) as studio:
            where = await adapter.start(studio, host="127.0.0.1", port=0)
            events = f"{adapter.http_base}/slack/events" if adapter.http_base else where
            try:
                async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                    yield Rig(fake, adapter, studio, SlackSender(http, events))
            finally:
                await adapter.stop()
        if adapter.stores is not None:  # deliveries finishing as the studio stopped may have looked up a token
            await adapter.stores.close()
    finally:
        if own:
            await fake.stop()


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Rig]:
    async with running(tmp_path) as rig:
        yield rig


def gemini_overrides(emulator: Emulator) -> dict[str, Any]:
    return {"gemini_api_key": SecretStr("test-key"), "gemini_base_url": emulator.base_url,
            "gemini_retry_base_s": 0.01, "gemini_timeout_s": 5}


__all__ = ["ALICE", "APP_TOKEN", "BOB", "CHANNEL", "Rig", "gemini_overrides", "image_of", "png", "running"]
