"""A fake Discord the real discord.py connects to: drive it like a user, then read what the bot sent."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.discord.gateway import Gateway
from tests.fakes.discord.rest import Rest
from tests.fakes.discord.state import EPHEMERAL, MEMBER_PERMS, Interaction, State, snowflake
from tests.fakes.faults import Faults

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024


def _error_body(status: int, retry_after: float) -> web.Response:
    """Discord's error bodies; a 429 carries ``Via`` (else discord.py takes it for a Cloudflare ban)."""
    if status == 429:
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
        return web.Response(body=json.dumps(body).encode(), status=429,
                            headers={"Content-Type": "application/json", "Via": "1.1 google",
                                     "Retry-After": str(retry_after)})
    body = {"message": f"{status}: Internal Server Error", "code": 0}
    return web.Response(body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json"})


@dataclass(frozen=True)
class Upload:
    """An attachment a user picked for a slash-command option."""

    attachment: dict[str, Any]


class FakeDiscord:
    def __init__(self) -> None:
        self.port = 0
        self.state = State(cdn_base=lambda: f"http://127.0.0.1:{self.port}")
        self.gateway = Gateway(self.state, "")
        self.rest = Rest(self.state, "")
        self.attachment_size_limit = DEFAULT_UPLOAD_LIMIT
        self._runner: web.AppRunner | None = None
        self._payloads: dict[str, dict[str, Any]] = {}
        self.faults = Faults(_error_body)

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self.faults.middleware])
        app.router.add_get("/gateway", self.gateway.handle)
        self.rest.add_to(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = next(a[1] for a in self._runner.addresses if isinstance(a, tuple))
        self.gateway.url = self.rest.gateway_url = self.gateway_url

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- shortcuts -----------------------------------------------------------------------------------------

    @property
    def alice(self) -> dict[str, Any]:
        return self.state.alice

    @property
    def bob(self) -> dict[str, Any]:
        return self.state.bob

    @property
    def mod(self) -> dict[str, Any]:
        return self.state.mod

    def upload(self, filename: str, data: bytes, content_type: str | None = None) -> Upload:
        return Upload(self.state.attachment(filename, data, content_type))

    def message(self, message_id: str) -> dict[str, Any]:
        return self.state.messages[message_id]

    def file(self, attachment: dict[str, Any]) -> bytes:
        return self.state.files[attachment["id"]]

    def is_deleted(self, message_id: str) -> bool:
        return message_id in self.state.deleted

    def content_payloads(self) -> list[dict[str, Any]]:
        """Every message body the bot sent that carried text."""
        out = []
        for call in self.state.calls:
            body = call.body or {}
            data = body.get("data") if "/callback" in call.path else body
            if isinstance(data, dict) and data.get("content"):
                out.append(data)
        return out

    # -- what a user does ------------------------------------------------------------------------------------

    async def _dispatch(self, kind: int, data: dict[str, Any], who: dict[str, Any],
                        message: dict[str, Any] | None = None, channel: str | None = None) -> Interaction:
        it = Interaction(snowflake(), "tok-" + secrets.token_hex(8), kind, who,
                         message_id=message["id"] if message else None)
        self.state.interactions[it.id] = it
        self.state.by_token[it.token] = it
        s = self.state
        where = channel or s.channel_id
        payload: dict[str, Any] = {
            "id": it.id, "application_id": s.app_id, "type": kind, "token": it.token, "version": 1,
            "guild_id": s.guild_id, "channel_id": where, "member": s.member(who),
            "channel": s.channel(where) | {"permissions": s.member(who)["permissions"]},
            "app_permissions": MEMBER_PERMS, "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
            "authorizing_integration_owners": {"0": s.guild_id}, "context": 0,
            "attachment_size_limit": self.attachment_size_limit, "data": data,
        }
        if message is not None:
            payload["message"] = message
        self._payloads[it.id] = payload
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return it

    async def redeliver(self, it: Interaction) -> None:
        """Send the same INTERACTION_CREATE again, as a gateway replay after a resume can."""
        await self.gateway.dispatch("INTERACTION_CREATE", self._payloads[it.id])

    @staticmethod
    def _options(options: dict[str, Any], focused: str | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        out, attachments = [], {}
        for name, value in options.items():
            if value is None:
                continue
            if isinstance(value, Upload):
                attachments[value.attachment["id"]] = value.attachment
                opt: dict[str, Any] = {"name": name, "type": 11, "value": value.attachment["id"]}
            elif isinstance(value, bool):
                opt = {"name": name, "type": 5, "value": value}
            elif isinstance(value, int):
                opt = {"name": name, "type": 4, "value": value}
            else:
                opt = {"name": name, "type": 3, "value": value}
            if name == focused:
                opt["focused"] = True
            out.append(opt)
        return out, ({"attachments": attachments} if attachments else {})

    async def slash(self, name: str, *, user: dict[str, Any] | None = None, channel: str | None = None,
                    **options: Any) -> Interaction:
        opts, resolved = self._options(options)
        data = {"id": snowflake(), "name": name, "type": 1, "options": opts, "resolved": resolved}
        return await self._dispatch(2, data, user or self.alice, channel=channel)

    async def subcommand(self, group: str, name: str, *, user: dict[str, Any] | None = None,
                         **options: Any) -> Interaction:
        opts, resolved = self._options(options)
        data = {"id": snowflake(), "name": group, "type": 1, "resolved": resolved,
                "options": [{"name": name, "type": 1, "options": opts}]}
        return await self._dispatch(2, data, user or self.alice)

    def selects(self, message_id: str) -> dict[str, dict[str, Any]]:
        """Placeholder (or custom id) -> every select menu on a message."""
        found = {}
        for row in self.message(message_id).get("components", []):
            for c in row.get("components", []):
                if c.get("type") in (3, 5, 6, 7, 8):
                    found[c.get("placeholder") or c["custom_id"]] = c
        return found

    async def select(self, message_id: str, placeholder: str, values: list[str], *,
                     user: dict[str, Any] | None = None) -> Interaction:
        """Pick ``values`` in the menu whose placeholder starts with ``placeholder``."""
        menu = next(c for p, c in self.selects(message_id).items() if p.startswith(placeholder))
        data: dict[str, Any] = {"custom_id": menu["custom_id"], "component_type": menu["type"], "values": values}
        if menu["type"] == 8:
            data["resolved"] = {"channels": {v: self.state.channel(v) for v in values}}
        elif menu["type"] == 6:
            roles = {r["id"]: r for r in self.state.guild()["roles"]}
            data["resolved"] = {"roles": {v: roles[v] for v in values}}
        return await self._dispatch(3, data, user or self.alice, message=self.message(message_id))

    async def autocomplete(self, name: str, focused: str, **options: Any) -> list[dict[str, Any]]:
        opts, _ = self._options(options, focused)
        it = await self._dispatch(4, {"id": snowflake(), "name": name, "type": 1, "options": opts}, self.alice)
        await self.state.wait_for(lambda: it.callbacks)
        assert it.callback_type == 8, it.callbacks
        choices: list[dict[str, Any]] = it.callback_data["choices"]
        return choices

    async def message_command(self, name: str, target_id: str, *, user: dict[str, Any] | None = None) -> Interaction:
        target = self.state.messages[target_id]
        data = {"id": snowflake(), "name": name, "type": 3, "target_id": target_id,
                "resolved": {"messages": {target_id: target}}}
        return await self._dispatch(2, data, user or self.alice)

    async def modal(self, it: Interaction) -> dict[str, Any]:
        await self.state.wait_for(lambda: it.callbacks)
        assert it.callback_type == 9, f"expected a modal, got {it.callbacks}"
        return it.callback_data

    async def submit_modal(self, opened: Interaction, *values: str, user: dict[str, Any] | None = None) -> Interaction:
        """Fill the modal's text inputs in order and submit it."""
        modal = await self.modal(opened)
        answers = iter(values)
        rows = []
        for top in modal["components"]:
            if top["type"] == 1:
                rows.append({"type": 1, "components": [{"type": 4, "custom_id": c["custom_id"],
                                                        "value": next(answers, "")} for c in top["components"]]})
            elif top["type"] == 18:
                inner = top["component"]
                rows.append({"type": 18, "id": top.get("id", 0),
                             "component": {"type": 4, "custom_id": inner["custom_id"], "value": next(answers, "")}})
        source = self.message(opened.message_id) if opened.message_id else None  # a modal opened by a button
        return await self._dispatch(5, {"custom_id": modal["custom_id"], "components": rows}, user or opened.user,
                                    message=source)

    def buttons(self, message_id: str) -> dict[str, str]:
        """Label -> custom id of every button on a message."""
        found = {}
        for row in self.message(message_id).get("components", []):
            for c in row.get("components", []):
                if c.get("type") == 2 and "custom_id" in c:
                    found[c.get("label", "")] = c["custom_id"]
        return found

    async def click(self, message_id: str, label: str, *, user: dict[str, Any] | None = None) -> Interaction:
        custom_id = self.buttons(message_id)[label]
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._dispatch(3, data, user or self.alice, message=self.message(message_id))

    async def say(self, content: str, *, user: dict[str, Any] | None = None, reply_to: str | None = None,
                  mention_bot: bool = False, attachments: tuple[Upload, ...] = ()) -> dict[str, Any]:
        """A member posts a message (optionally a reply, optionally @mentioning the bot)."""
        s = self.state
        who = user or self.alice
        fields: dict[str, Any] = {"attachments": [u.attachment for u in attachments]}
        if mention_bot:
            content = f"<@{s.bot['id']}> {content}"
            fields["mentions"] = [s.bot]
        if reply_to is not None:
            fields["type"] = 19
            fields["message_reference"] = {"message_id": reply_to, "channel_id": s.channel_id,
                                           "guild_id": s.guild_id}
        message = s.new_message(who, content, **fields)
        intent = self.gateway.content_intent
        event = s.visible(message, content_intent=intent) | {"member": {k: v for k, v in s.member(who).items()
                                                                          if k != "user"}}
        if reply_to is not None:
            event["referenced_message"] = s.visible(s.messages[reply_to], content_intent=intent)
        await self.gateway.dispatch("MESSAGE_CREATE", event)
        return message

    # -- what a user sees --------------------------------------------------------------------------------------

    async def responded(self, it: Interaction, timeout: float = 5.0) -> int:
        await self.state.wait_for(lambda: it.callbacks, timeout)
        return it.callbacks[0][0]

    async def result(self, it: Interaction, timeout: float = 30.0) -> dict[str, Any]:
        """The interaction's visible response once it carries a file."""
        def probe() -> dict[str, Any] | None:
            m = self.state.messages.get(it.original_id or "")
            return m if m and m["attachments"] and m["id"] not in self.state.deleted else None
        return await self.state.wait_for(probe, timeout)

    async def ephemeral(self, it: Interaction, timeout: float = 30.0) -> str:
        """The text of the first message only the user who asked can see."""
        def probe() -> str | None:
            ids = ([it.original_id] if it.original_id else []) + it.followups
            for mid in ids:
                m = self.state.messages[mid]
                if m["flags"] & EPHEMERAL and m.get("content") and mid not in self.state.deleted:
                    return str(m["content"])
            return None
        return await self.state.wait_for(probe, timeout)

    async def reply_to(self, message_id: str, *, with_file: bool = True, timeout: float = 30.0) -> dict[str, Any]:
        """The bot's message replying to ``message_id`` (the one carrying a file, by default)."""
        def probe() -> dict[str, Any] | None:
            for m in self.state.messages.values():
                ref = (m.get("message_reference") or {}).get("message_id")
                if (m["author"]["id"] == self.state.bot["id"] and str(ref) == message_id
                        and m["id"] not in self.state.deleted and (m["attachments"] or not with_file)):
                    return m
            return None
        return await self.state.wait_for(probe, timeout)

    async def settle(self, seconds: float = 0.3) -> None:
        await asyncio.sleep(seconds)
