"""What the fake Discord knows: one guild, its people and channels, every message, every call the bot made."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")

EPHEMERAL = 1 << 6
VOICE_MESSAGE = 1 << 13
MESSAGE_CONTENT = 1 << 15
ADMIN_PERMS = str((1 << 41) - 1)
MANAGE_MESSAGES = 1 << 13
MEMBER_PERMS = str((1 << 10) | (1 << 11) | (1 << 15) | (1 << 16) | (1 << 20) | (1 << 21) | (1 << 31))
DISCORD_EPOCH_MS = 1_420_070_400_000
_ids = itertools.count(1)


def snowflake() -> str:
    """A real-looking id: its timestamp is now (discord.py derives created_at and token expiry from it)."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((ms << 22) | (next(_ids) % (1 << 22)))


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def user(uid: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": uid, "username": name, "global_name": name, "discriminator": "0", "avatar": None, "bot": bot,
            "public_flags": 0}


@dataclass
class Call:
    """One REST request the bot made, in order, with its time."""

    seq: int
    at: float
    method: str
    path: str
    body: dict[str, Any] | None
    files: list[tuple[str, bytes]]


@dataclass
class Interaction:
    """One interaction the fake dispatched, and everything the bot answered to it."""

    id: str
    token: str
    type: int
    user: dict[str, Any]
    message_id: str | None = None  # the message a component lives on
    callbacks: list[tuple[int, dict[str, Any], float]] = field(default_factory=list)
    original_id: str | None = None
    loading: bool = False
    followups: list[str] = field(default_factory=list)

    @property
    def callback_type(self) -> int | None:
        return self.callbacks[0][0] if self.callbacks else None

    @property
    def callback_data(self) -> dict[str, Any]:
        return self.callbacks[0][1] if self.callbacks else {}


class State:
    def __init__(self, *, cdn_base: Callable[[], str]) -> None:
        self.cdn_base = cdn_base
        self.token = "test-token"  # the one bot token accepted (a test may set a real-looking one)
        self.app_id = snowflake()
        self.bot = user(self.app_id, "Studiobot", bot=True)
        self.guild_id = snowflake()
        self.channel_id = snowflake()
        self.voice_channel_id = snowflake()
        self.alice = user(snowflake(), "alice")
        self.bob = user(snowflake(), "bob")
        self.mod = user(snowflake(), "mod")
        self.in_voice: set[str] = {self.alice["id"]}
        self.art_channel_id = snowflake()
        self.artists_role_id = snowflake()
        self.member_roles: dict[str, list[str]] = {}  # user id -> role ids beyond @everyone
        self.messages: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.deleted: set[str] = set()
        self.calls: list[Call] = []
        self.interactions: dict[str, Interaction] = {}
        self.by_token: dict[str, Interaction] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.nonces: dict[str, str] = {}  # enforce_nonce: nonce -> the message it created
        self.changed = asyncio.Event()
        self._seq = itertools.count(1)

    # -- recording ---------------------------------------------------------------------------------------

    def record(self, method: str, path: str, body: dict[str, Any] | None, files: list[tuple[str, bytes]]) -> Call:
        call = Call(next(self._seq), time.monotonic(), method, path, body, files)
        self.calls.append(call)
        self.touch()
        return call

    def touch(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    async def wait_for(self, probe: Callable[[], T | None], timeout: float = 20.0) -> T:
        """Poll ``probe`` after every change until it returns something truthy."""
        async with asyncio.timeout(timeout):
            while True:
                found = probe()
                if found:
                    return found
                changed = self.changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), 0.2)

    # -- people and places -------------------------------------------------------------------------------

    def member(self, who: dict[str, Any]) -> dict[str, Any]:
        perms = ADMIN_PERMS if who["id"] == self.mod["id"] else MEMBER_PERMS
        return {"user": who, "roles": list(self.member_roles.get(who["id"], [])), "flags": 0,
                "joined_at": now_iso(), "deaf": False, "mute": False,
                "nick": None, "avatar": None, "pending": False, "permissions": perms}

    def role(self, role_id: str, name: str) -> dict[str, Any]:
        return {"id": role_id, "name": name, "permissions": "0", "position": 1, "color": 0, "hoist": False,
                "managed": False, "mentionable": False, "flags": 0}

    def channel(self, channel_id: str) -> dict[str, Any]:
        """A text channel as interactions and resolved data carry it."""
        name = "art" if channel_id == self.art_channel_id else "general"
        return {"id": channel_id, "type": 0, "guild_id": self.guild_id, "name": name, "permissions": MEMBER_PERMS,
                "parent_id": None, "nsfw": False, "position": 0, "permission_overwrites": []}

    def guild(self) -> dict[str, Any]:
        everyone = {"id": self.guild_id, "name": "@everyone", "permissions": MEMBER_PERMS, "position": 0,
                    "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}
        text = {"id": self.channel_id, "type": 0, "guild_id": self.guild_id, "name": "general", "position": 0,
                "permission_overwrites": [], "nsfw": False, "parent_id": None}
        voice = {"id": self.voice_channel_id, "type": 2, "guild_id": self.guild_id, "name": "Lounge",
                 "position": 1, "permission_overwrites": [], "bitrate": 64000, "user_limit": 0, "parent_id": None}
        people = [self.bot, self.alice, self.bob, self.mod]
        voice_states = [{"user_id": uid, "channel_id": self.voice_channel_id, "guild_id": self.guild_id,
                         "session_id": "vs" + uid, "deaf": False, "mute": False, "self_deaf": False,
                         "self_mute": False, "self_video": False, "suppress": False, "request_to_speak_timestamp": None}
                        for uid in sorted(self.in_voice)]
        return {"id": self.guild_id, "name": "Test Server", "icon": None, "owner_id": self.mod["id"],
                "roles": [everyone, self.role(self.artists_role_id, "Artists")],
                "channels": [text, voice, text | {"id": self.art_channel_id, "name": "art", "position": 2}],
                "members": [self.member(p) for p in people],
                "member_count": len(people), "voice_states": voice_states, "presences": [], "threads": [],
                "emojis": [], "stickers": [], "features": [], "large": False, "unavailable": False,
                "verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0,
                "mfa_level": 0, "premium_tier": 0, "preferred_locale": "en-US", "system_channel_id": None,
                "afk_channel_id": None, "afk_timeout": 300, "joined_at": now_iso(), "stage_instances": [],
                "guild_scheduled_events": [], "soundboard_sounds": []}

    # -- messages ----------------------------------------------------------------------------------------

    def attachment(self, filename: str, data: bytes, content_type: str | None, **extra: Any) -> dict[str, Any]:
        aid = snowflake()
        self.files[aid] = data
        url = f"{self.cdn_base()}/attachments/{self.channel_id}/{aid}/{filename}"
        att: dict[str, Any] = {"id": aid, "filename": filename, "size": len(data), "url": url, "proxy_url": url}
        if content_type:
            att["content_type"] = content_type
        att.update(extra)
        return att

    def new_message(self, author: dict[str, Any], content: str = "", **fields: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": snowflake(), "type": 0, "content": content, "channel_id": self.channel_id,
            "guild_id": self.guild_id, "author": author, "attachments": [], "embeds": [], "mentions": [],
            "mention_roles": [], "mention_everyone": False, "pinned": False, "tts": False,
            "timestamp": now_iso(), "edited_timestamp": None, "flags": 0, "components": [],
        }
        message.update(fields)
        self.messages[message["id"]] = message
        self.touch()
        return message

    def apply(self, message: dict[str, Any], body: dict[str, Any], files: list[tuple[str, bytes]]) -> None:
        """A create or edit payload, as Discord applies it: given keys replace, attachments map to files."""
        for key in ("content", "components", "embeds", "flags", "allowed_mentions", "message_reference"):
            if key in body and body[key] is not None:
                message[key] = body[key]
        if "attachments" in body or files:
            by_id = {a["id"]: a for a in message.get("attachments", [])}
            out: list[dict[str, Any]] = []
            listed = body.get("attachments")
            if listed is None:
                listed = [{"id": i} for i in range(len(files))]
            for entry in listed:
                ref = str(entry.get("id"))
                if ref in by_id:
                    out.append(by_id[ref])
                    continue
                index = int(ref)
                name, data = files[index]
                extra = {k: v for k, v in entry.items() if k in ("duration_secs", "waveform", "description")}
                out.append(self.attachment(entry.get("filename") or name, data, _guess_type(name), **extra))
            message["attachments"] = out
        message["mention_everyone"] = pings_everyone(message)
        self.touch()

    def visible(self, message: dict[str, Any], *, content_intent: bool) -> dict[str, Any]:
        """The message as a bot without the privileged intent receives it."""
        mentioned = any(m["id"] == self.bot["id"] for m in message.get("mentions", []))
        if content_intent or message["author"]["id"] == self.bot["id"] or mentioned:
            return message
        return message | {"content": "", "attachments": [], "embeds": [], "components": []}


def pings_everyone(message: dict[str, Any]) -> bool:
    """Would Discord ping everyone for this message (what allowed_mentions is for)?"""
    text = message.get("content") or ""
    if "@everyone" not in text and "@here" not in text:
        return False
    allowed = message.get("allowed_mentions")
    return allowed is None or "everyone" in allowed.get("parse", [])


def silent(payload: dict[str, Any]) -> bool:
    """The payload pings nobody: no mention types parsed, no reply ping, no explicit users or roles."""
    allowed = payload.get("allowed_mentions") or {}
    return (allowed.get("parse") == [] and not allowed.get("replied_user") and not allowed.get("users")
            and not allowed.get("roles"))


def _guess_type(name: str) -> str | None:
    ext = name.rsplit(".", 1)[-1].lower()
    return {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp",
            "ogg": "audio/ogg", "mp3": "audio/mpeg", "wav": "audio/wav", "txt": "text/plain"}.get(ext)
