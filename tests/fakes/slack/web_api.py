"""A fake Slack Web API (aiohttp) that the real ``AsyncWebClient`` talks to through its ``base_url``.

It records every call and every uploaded file, keeps channels as lists of messages so threads and
``conversations.replies`` behave, serves private files only with the bot token (HTML without it, as
Slack does), and hosts the Socket Mode websocket (see ``socket_mode.py``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.faults import Faults
from tests.fakes.slack.oauth import OAuthMethods
from tests.fakes.slack.records import (
    _APP_TOKEN_METHODS,
    APP_TOKEN,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER,
    LOGIN_PAGE,
    TEAM,
    Call,
    StoredFile,
    Upload,
    _error_body,
    _metadata_if,
    _mimetype,
)
from tests.fakes.slack.socket_mode import SocketModeServer

__all__ = ["APP_TOKEN", "BOT_TOKEN", "BOT_USER", "LOGIN_PAGE", "TEAM", "Call", "FakeSlack", "StoredFile", "Upload"]


@dataclass
class FakeSlack(OAuthMethods):
    """State and routes; ``start()`` binds 127.0.0.1 on a free port."""

    bot_token: str = BOT_TOKEN
    app_token: str = APP_TOKEN
    admins: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    files: dict[str, StoredFile] = field(default_factory=dict)
    channels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # posts to response_url
    views: list[dict[str, Any]] = field(default_factory=list)
    homes: dict[str, dict[str, Any]] = field(default_factory=dict)  # App Home views by user
    share_async: bool = False  # like real Slack: completeUploadExternal returns before the share exists
    outside: set[str] = field(default_factory=set)  # channels the bot is not a member of
    file_ready_s: float = 0.0  # like real Slack: a fresh upload can't be shown in an image block at once

    def __post_init__(self) -> None:
        self._oauth_init()
        self._ids = itertools.count(1)
        self._clock = itertools.count(1)
        self._changed = asyncio.Condition()
        self.socket = SocketModeServer()
        self.faults = Faults(_error_body)
        self._runner: web.AppRunner | None = None
        self.base = ""

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self.faults.middleware])
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files-pri/{team_file}/{name}", self._download)
        app.router.add_post("/response/{token}", self._response_url)
        app.router.add_get("/socket", self.socket.handle)
        app.on_shutdown.append(self.socket.close_all)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = next(a[1] for a in self._runner.addresses if isinstance(a, tuple))
        self.base = f"http://127.0.0.1:{port}/"
        return self.base

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base}api/"

    def response_url(self, token: str = "r1") -> str:
        return f"{self.base}response/{token}"

    # -- test helpers ------------------------------------------------------------------------------------

    def new_ts(self) -> str:
        return f"1700000000.{next(self._clock):06d}"

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def post_file(self, channel: str, content: bytes, *, name: str = "photo.png", mimetype: str = "image/png",
                  user: str = "UALICE", text: str = "", thread_ts: str | None = None) -> dict[str, Any]:
        """A user shares a file: the message as Slack stores it (and sends it in events)."""
        stored = StoredFile(self.new_id("F"), name, mimetype, content, user)
        self.files[stored.id] = stored
        msg = self._add_message(channel, {"user": user, "text": text, "files": [stored.info(self.base)],
                                          "subtype": "file_share"}, thread_ts)
        return msg

    def user_file(self, content: bytes, *, name: str = "mask.png", mimetype: str = "image/png",
                  user: str = "UALICE") -> dict[str, Any]:
        """A file uploaded but not shared (a modal's file input): its description, as in view state."""
        stored = StoredFile(self.new_id("F"), name, mimetype, content, user)
        self.files[stored.id] = stored
        return stored.info(self.base)

    def post_text(self, channel: str, text: str, *, user: str = "UALICE", thread_ts: str | None = None
                  ) -> dict[str, Any]:
        return self._add_message(channel, {"user": user, "text": text}, thread_ts)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def completed_uploads(self) -> list[Upload]:
        return [u for u in self.uploads if u.completed]

    def posted_texts(self) -> list[str]:
        """Every piece of text the bot made visible: messages, comments, ephemerals, responses, views."""
        texts: list[str] = []
        for call in self.calls:
            for key in ("text", "initial_comment", "blocks", "view"):
                if key in call.args:
                    value = call.args[key]
                    texts.append(value if isinstance(value, str) else json.dumps(value))
        texts += [json.dumps(r) for r in self.responses]
        return texts

    async def wait_for(self, check: Callable[[], Any], timeout: float = 20) -> Any:
        """Until ``check()`` is truthy (re-checked whenever the fake records something)."""
        async with asyncio.timeout(timeout), self._changed:
            while not (value := check()):
                await self._changed.wait()
            return value

    async def next_upload(self, count: int = 1, timeout: float = 20) -> Upload:
        uploads: list[Upload] = await self.wait_for(lambda: len(self.completed_uploads()) >= count and
                                                    self.completed_uploads(), timeout)
        return uploads[count - 1]

    async def next_ephemeral(self, count: int = 1, timeout: float = 20) -> dict[str, Any]:
        found: list[dict[str, Any]] = await self.wait_for(lambda: len(self.ephemerals) >= count and self.ephemerals,
                                                          timeout)
        return found[count - 1]

    # -- internals ---------------------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _add_message(self, channel: str, fields: dict[str, Any], thread_ts: str | None) -> dict[str, Any]:
        msg = {"type": "message", "ts": self.new_ts(), "channel": channel, **fields}
        if thread_ts:
            msg["thread_ts"] = thread_ts
            parent = self._find(channel, thread_ts)
            if parent is not None:
                parent.setdefault("thread_ts", thread_ts)
                parent["reply_count"] = parent.get("reply_count", 0) + 1
        self.channels.setdefault(channel, []).append(msg)
        return msg

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.channels.get(channel, []) if m["ts"] == ts), None)

    @staticmethod
    def _token(request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args |= await request.json()
        elif request.method == "POST" and request.can_read_body:
            args |= dict(await request.post())
        for key in ("files", "blocks", "view", "metadata"):
            if isinstance(args.get(key), str) and args[key].startswith(("[", "{")):
                args[key] = json.loads(args[key])
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        token = self._token(request) or args.pop("token", None)
        self.calls.append(Call(method, args, token))
        expected = self.app_token if method in _APP_TOKEN_METHODS else self.bot_token
        if method == "oauth.v2.access":
            body = self.oauth_v2_access(args, request.headers.get("Authorization"))
        elif token != expected and (method in _APP_TOKEN_METHODS or token not in self.tokens):
            body: dict[str, Any] = {"ok": False, "error": "not_authed" if token is None else "invalid_auth"}
        elif (args.get("channel_id") or args.get("channel")) in self.outside and method != "conversations.replies":
            body = {"ok": False, "error": "not_in_channel"}
        else:
            handler = getattr(self, "_m_" + method.replace(".", "_"), None)
            body = {"ok": False, "error": "unknown_method"} if handler is None else handler(args)
        self.calls[-1].error = None if body.get("ok") else str(body.get("error"))
        await self._notify()
        return web.json_response(body)

    # -- Web API methods -----------------------------------------------------------------------------------

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        team = self.tokens.get(self.calls[-1].token or "", TEAM)
        user = self.workspaces[team].bot_user if team in self.workspaces else BOT_USER
        return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "studiobot", "team_id": team,
                "user_id": user, "bot_id": BOT_ID, "is_enterprise_install": False}

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://{self.base.removeprefix('http://')}socket"}

    def _bot_message(self, args: dict[str, Any], **extra: Any) -> dict[str, Any]:
        channel = args.get("channel", "")
        fields = {"user": BOT_USER, "bot_id": BOT_ID, "text": args.get("text", ""), **extra}
        for key in ("blocks", "metadata"):
            if args.get(key):
                fields[key] = args[key]
        return self._add_message(channel, fields, args.get("thread_ts"))

    def _image_files(self, args: dict[str, Any]) -> list[str] | None:
        """The files image blocks show; None when one is unknown or not ready yet (Slack: invalid_blocks)."""
        ids = [b["slack_file"]["id"] for b in args.get("blocks") or [] if b.get("type") == "image" and
               "slack_file" in b]
        now = asyncio.get_running_loop().time()
        if any(i not in self.files or self.files[i].ready_at > now for i in ids):
            return None
        return ids

    def _shown(self, msg: dict[str, Any], ids: list[str]) -> None:
        for upload in self.uploads:
            if upload.file_id in ids:
                upload.channel, upload.thread_ts, upload.ts = msg["channel"], msg.get("thread_ts"), msg["ts"]

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        ids = self._image_files(args)
        if ids is None:
            return {"ok": False, "error": "invalid_blocks"}
        msg = self._bot_message(args)
        self._shown(msg, ids)
        return {"ok": True, "channel": msg["channel"], "ts": msg["ts"], "message": msg}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        self.ephemerals.append(dict(args))
        return {"ok": True, "message_ts": self.new_ts()}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        msg = self._find(args.get("channel", ""), args.get("ts", ""))
        if msg is None:
            return {"ok": False, "error": "message_not_found"}
        ids = self._image_files(args)
        if ids is None:
            return {"ok": False, "error": "invalid_blocks"}
        msg.update({k: v for k, v in args.items() if k in ("text", "blocks", "metadata")})
        self._shown(msg, ids)
        return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": msg.get("text", "")}

    def _m_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        msg = self._find(args.get("channel", ""), args.get("ts", ""))
        if msg is None:
            return {"ok": False, "error": "message_not_found"}
        self.channels[args["channel"]].remove(msg)
        return {"ok": True, "channel": args["channel"], "ts": args["ts"]}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = self.new_id("F")
        self.uploads.append(Upload(file_id, args.get("filename", ""), b""))
        return {"ok": True, "upload_url": f"{self.base}upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        done = []
        for spec in args.get("files", []):
            upload = next((u for u in self.uploads if u.file_id == spec["id"]), None)
            if upload is None:
                return {"ok": False, "error": "file_not_found"}
            upload.title = spec.get("title")
            upload.channel = args.get("channel_id") or args.get("channel")
            upload.thread_ts = args.get("thread_ts")
            upload.initial_comment = args.get("initial_comment")
            mimetype = _mimetype(upload.filename)
            stored = StoredFile(upload.file_id, upload.filename, mimetype, upload.content, BOT_USER,
                                ready_at=asyncio.get_running_loop().time() + self.file_ready_s)
            upload.completed_upload = True
            self.files[stored.id] = stored
            info = stored.info(self.base)
            if upload.channel and upload.ts is None:  # completing it again shares nothing new
                msg = self._add_message(upload.channel, {"user": BOT_USER, "bot_id": BOT_ID, "files": [info],
                                                         "text": upload.initial_comment or "",
                                                         "subtype": "file_share"}, upload.thread_ts)
                upload.ts = msg["ts"]
            done.append(self._file_info(stored.id, shares=not self.share_async))
        return {"ok": True, "files": done}

    def _file_info(self, file_id: str, *, shares: bool = True) -> dict[str, Any]:
        stored = self.files[file_id]
        info = stored.info(self.base)
        upload = next((u for u in self.uploads if u.file_id == file_id), None)
        if shares and upload is not None and upload.ts and upload.channel:
            share = {"ts": upload.ts, **({"thread_ts": upload.thread_ts} if upload.thread_ts else {})}
            info["shares"] = {"public": {upload.channel: [share]}}
        else:
            info["shares"] = {}
        return info

    def _m_files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("file") not in self.files:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": self._file_info(args["file"])}

    def _m_files_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        stored = self.files.pop(args.get("file", ""), None)
        if stored is None:
            return {"ok": False, "error": "file_not_found"}
        for messages in self.channels.values():
            messages[:] = [m for m in messages if not any(f["id"] == stored.id for f in m.get("files", []))]
        return {"ok": True}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = args.get("user", "")
        admin = user in self.admins
        return {"ok": True, "user": {"id": user, "name": user.lower(), "is_admin": admin, "is_owner": False}}

    def _m_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel", ""), args.get("ts", "")
        parent = self._find(channel, ts)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        replies = [m for m in self.channels[channel] if m.get("thread_ts") == ts and m["ts"] != ts]
        limit = int(args.get("limit", 1000))
        return {"ok": True, "messages": _metadata_if(args, [parent, *replies][:limit]), "has_more": False}

    def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        messages = [m for m in self.channels.get(args.get("channel", ""), [])
                    if m.get("thread_ts") in (None, m["ts"])]
        if latest := args.get("latest"):
            inclusive = str(args.get("inclusive", "")).lower() in ("1", "true")
            messages = [m for m in messages if m["ts"] < latest or (inclusive and m["ts"] == latest)]
        limit = int(args.get("limit", 100))
        return {"ok": True, "messages": _metadata_if(args, list(reversed(messages))[:limit]), "has_more": False}

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = dict(args.get("view") or {})
        view["id"] = self.new_id("V")
        self.views.append({"trigger_id": args.get("trigger_id"), "view": view})
        return {"ok": True, "view": view}

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = dict(args.get("view") or {}) | {"id": self.new_id("V")}
        self.homes[str(args.get("user_id"))] = view
        return {"ok": True, "view": view}

    # -- non-API endpoints ---------------------------------------------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        upload = next((u for u in self.uploads if u.file_id == request.match_info["file_id"]), None)
        if upload is None:
            return web.Response(status=404, text="no such upload")
        upload.content = await request.read()
        self.calls.append(Call("upload", {"file_id": upload.file_id, "length": len(upload.content)},
                               self._token(request)))
        await self._notify()
        return web.Response(text=f"OK - {len(upload.content)}")

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["team_file"].removeprefix(f"{TEAM}-")
        stored = self.files.get(file_id)
        token = self._token(request)
        self.calls.append(Call("download", {"file": file_id}, token))
        if stored is None or stored.revoked or (token != self.bot_token and token not in self.tokens):
            return web.Response(text=LOGIN_PAGE, content_type="text/html")  # Slack's sign-in page, status 200
        return web.Response(body=stored.content, content_type=stored.mimetype)

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append({"url_token": request.match_info["token"], **body})
        await self._notify()
        return web.Response(text="ok")
