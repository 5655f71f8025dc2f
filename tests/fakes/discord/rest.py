"""The REST routes discord.py calls, plus the CDN that serves attachment bytes."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import BodyPartReader, web

from tests.fakes.discord.state import EPHEMERAL, State, snowflake

API = "/api/v10"


def reply(data: Any, status: int = 200) -> web.Response:
    """discord.py wants ``Content-Type: application/json`` exactly (no charset)."""
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def error(status: int, code: int, message: str) -> web.Response:
    return reply({"message": message, "code": code}, status)


async def read_body(request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
    """JSON, or multipart ``payload_json`` + ``files[n]``."""
    if request.content_type.startswith("multipart/"):
        body: dict[str, Any] | None = None
        files: list[tuple[str, bytes]] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            assert isinstance(part, BodyPartReader)
            if part.name == "payload_json":
                body = json.loads(await part.text())
            elif part.name and part.name.startswith("files["):
                files.append((part.filename or "file", bytes(await part.read())))
        return body or {}, files
    raw = await request.read()
    return (json.loads(raw) if raw else None), []


class Rest:
    def __init__(self, state: State, gateway_url: Any) -> None:
        self.state = state
        self.gateway_url = gateway_url
        self.tokens_ok = True
        self.voice_messages_allowed = True

    def add_to(self, app: web.Application) -> None:
        r = app.router
        r.add_get(API + "/users/@me", self.me)
        r.add_get(API + "/oauth2/applications/@me", self.application)
        r.add_get(API + "/gateway/bot", self.gateway_bot)
        r.add_get(API + "/gateway", self.gateway_bot)
        r.add_put(API + "/applications/{app}/commands", self.sync)
        r.add_put(API + "/applications/{app}/guilds/{guild}/commands", self.sync)
        r.add_get(API + "/applications/{app}/commands", self.list_commands)
        r.add_post(API + "/interactions/{id}/{token}/callback", self.callback)
        r.add_route("*", API + "/webhooks/{app}/{token}/messages/{message}", self.webhook_message)
        r.add_post(API + "/webhooks/{app}/{token}", self.followup)
        r.add_post(API + "/channels/{channel}/messages", self.create)
        r.add_get(API + "/channels/{channel}/messages", self.history)
        r.add_route("*", API + "/channels/{channel}/messages/{message}", self.channel_message)
        r.add_post(API + "/channels/{channel}/typing", self.typing)
        r.add_get("/attachments/{channel}/{id}/{name}", self.cdn)

    # -- login and commands ------------------------------------------------------------------------------

    async def me(self, request: web.Request) -> web.Response:
        self.state.record("GET", request.path, None, [])
        if not self.tokens_ok or request.headers.get("Authorization") != f"Bot {self.state.token}":
            return error(401, 0, "401: Unauthorized")
        return reply(self.state.bot)

    async def application(self, request: web.Request) -> web.Response:
        return reply({"id": self.state.app_id, "name": "Studiobot", "description": "", "icon": None,
                      "bot_public": True, "bot_require_code_grant": False, "owner": self.state.mod,
                      "verify_key": "00", "interactions_endpoint_url": None, "flags": 0})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        return reply({"url": str(self.gateway_url), "shards": 1,
                      "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                              "max_concurrency": 1}})

    async def sync(self, request: web.Request) -> web.Response:
        body, _ = await read_body(request)
        self.state.record("PUT", request.path, {"commands": body}, [])
        scope = request.match_info.get("guild", "global")
        listed: list[dict[str, Any]] = body if isinstance(body, list) else []
        commands = [c | {"id": snowflake(), "application_id": self.state.app_id, "version": "1",
                         "description": c.get("description", ""), "type": c.get("type", 1)} for c in listed]
        self.state.commands[scope] = commands
        return reply(commands)

    async def list_commands(self, request: web.Request) -> web.Response:
        return reply(self.state.commands.get("global", []))

    # -- interactions --------------------------------------------------------------------------------------

    async def callback(self, request: web.Request) -> web.Response:
        body, files = await read_body(request)
        self.state.record("POST", request.path, body, files)
        it = self.state.interactions.get(request.match_info["id"])
        if it is None or it.token != request.match_info["token"]:
            return error(404, 10062, "Unknown interaction")
        if it.callbacks:
            return error(400, 40060, "Interaction has already been acknowledged.")
        assert body is not None
        kind, data = body["type"], body.get("data") or {}
        it.callbacks.append((kind, data, self.state.calls[-1].at))
        message: dict[str, Any] | None = None
        if kind in (4, 5):
            message = self.state.new_message(self.state.bot, webhook_id=self.state.app_id,
                                             interaction_id=it.id, flags=data.get("flags", 0))
            if kind == 4:
                self.state.apply(message, data, files)
            it.original_id, it.loading = message["id"], kind == 5
        elif kind == 7 and it.message_id is not None:
            message = self.state.messages[it.message_id]
            self.state.apply(message, data, files)
        self.state.touch()
        out: dict[str, Any] = {"interaction": {"id": it.id, "type": it.type, "response_message_id":
                                               it.original_id, "response_message_loading": it.loading,
                                               "response_message_ephemeral": bool(data.get("flags", 0) & EPHEMERAL)}}
        if kind in (4, 7) and message is not None:
            out["resource"] = {"type": kind, "message": message}
        return reply(out)

    def _read_or_delete(self, request: web.Request, message: dict[str, Any]) -> web.StreamResponse | None:
        """GET and DELETE of a message mean the same on webhook and channel routes; None for a PATCH."""
        if request.method == "GET":
            return reply(message)
        if request.method == "DELETE":
            self.state.deleted.add(message["id"])
            self.state.touch()
            return web.Response(status=204)
        return None

    def _interaction(self, request: web.Request) -> Any:
        return self.state.by_token.get(request.match_info["token"])

    async def webhook_message(self, request: web.Request) -> web.StreamResponse:
        body, files = await read_body(request)
        self.state.record(request.method, request.path, body, files)
        it = self._interaction(request)
        if it is None:
            return error(404, 10015, "Unknown Webhook")
        ref = request.match_info["message"]
        target = ref
        if ref == "@original":
            target = it.original_id if it.type != 3 or it.original_id else it.message_id
        message = self.state.messages.get(target or "")
        if message is None or target in self.state.deleted:
            return error(404, 10008, "Unknown Message")
        if (answered := self._read_or_delete(request, message)) is not None:
            return answered
        if message["flags"] & (1 << 13):
            return error(400, 50173, "Cannot edit a voice message")
        self.state.apply(message, body or {}, files)
        if message["id"] == it.original_id:
            it.loading = False
        return reply(message)

    async def followup(self, request: web.Request) -> web.Response:
        body, files = await read_body(request)
        self.state.record("POST", request.path, body, files)
        it = self._interaction(request)
        if it is None:
            return error(404, 10015, "Unknown Webhook")
        body = body or {}
        if it.loading and it.original_id not in self.state.deleted:
            # The first followup after a deferred "thinking" response edits it, whatever its flags say.
            message = self.state.messages[it.original_id]
            self.state.apply(message, {k: v for k, v in body.items() if k != "flags"}, files)
            it.loading = False
            return reply(message)
        message = self.state.new_message(self.state.bot, webhook_id=self.state.app_id, interaction_id=it.id,
                                         flags=body.get("flags", 0))
        self.state.apply(message, body, files)
        it.followups.append(message["id"])
        return reply(message)

    # -- channels ------------------------------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.state.token}"

    async def create(self, request: web.Request) -> web.Response:
        body, files = await read_body(request)
        self.state.record("POST", request.path, body, files)
        if not self._authorised(request):
            return error(401, 0, "401: Unauthorized")
        body = body or {}
        flags = int(body.get("flags") or 0)
        if flags & (1 << 13) and not self.voice_messages_allowed:
            return error(403, 50013, "Missing Permissions")
        if flags & (1 << 13) and (body.get("content") or len(files) != 1):
            return error(400, 50161, "Voice messages need exactly one audio file and no content")
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            # Discord: the same author and nonce within a few minutes returns the first message, creates none
            seen = self.state.nonces.get(str(nonce))
            if seen is not None and seen in self.state.messages and seen not in self.state.deleted:
                return reply(self.state.messages[seen] | {"nonce": nonce})
        reference = body.get("message_reference")
        fields: dict[str, Any] = {"flags": flags}
        if reference:
            ref_id = str(reference["message_id"])
            fields["message_reference"] = {"message_id": ref_id, "channel_id": request.match_info["channel"]}
            fields["referenced_message"] = self.state.messages.get(ref_id)
            fields["type"] = 19
        message = self.state.new_message(self.state.bot, **fields)
        self.state.apply(message, {k: v for k, v in body.items() if k != "message_reference"}, files)
        if nonce is not None:
            self.state.nonces[str(nonce)] = message["id"]
        return reply(message | ({"nonce": nonce} if nonce is not None else {}))

    async def history(self, request: web.Request) -> web.Response:
        """GET channel messages: newest first, ``limit`` (default 50, at most 100); ``before`` a message id."""
        self.state.record("GET", request.path, dict(request.query), [])
        if not self._authorised(request):
            return error(401, 0, "401: Unauthorized")
        channel = request.match_info["channel"]
        limit = min(int(request.query.get("limit", 50)), 100)
        before = int(request.query.get("before", 1 << 63))
        found = [m for m in self.state.messages.values()
                 if m["channel_id"] == channel and m["id"] not in self.state.deleted and int(m["id"]) < before
                 and not m["flags"] & EPHEMERAL]
        found.sort(key=lambda m: int(m["id"]), reverse=True)
        return reply(found[:limit])

    async def channel_message(self, request: web.Request) -> web.StreamResponse:
        body, files = await read_body(request)
        self.state.record(request.method, request.path, body, files)
        if not self._authorised(request):
            return error(401, 0, "401: Unauthorized")
        message = self.state.messages.get(request.match_info["message"])
        if message is None or message["id"] in self.state.deleted:
            return error(404, 10008, "Unknown Message")
        if (answered := self._read_or_delete(request, message)) is not None:
            return answered
        if message["author"]["id"] != self.state.bot["id"]:
            return error(403, 50005, "Cannot edit a message authored by another user")
        self.state.apply(message, body or {}, files)
        return reply(message)

    async def typing(self, request: web.Request) -> web.Response:
        self.state.record("POST", request.path, None, [])
        return web.Response(status=204)

    async def cdn(self, request: web.Request) -> web.Response:
        data = self.state.files.get(request.match_info["id"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")
