"""What the fake Slack records and stores: calls, uploads, files; and the fixed ids and tokens of its workspace."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
TEAM = "T0TEAM"
BOT_USER = "UBOT"
BOT_ID = "BBOT"
LOGIN_PAGE = "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"

# methods the fake answers without a bearer token check, and those taking the app-level token
_APP_TOKEN_METHODS = {"apps.connections.open"}


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)
    error: str | None = None  # what the fake answered, when it refused


@dataclass
class Upload:
    """One file that went through the three-step upload flow."""

    file_id: str
    filename: str
    content: bytes
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    ts: str | None = None  # the message that shares or shows it
    completed_upload: bool = False  # files.completeUploadExternal done (shared or not)

    @property
    def completed(self) -> bool:
        """Visible in a conversation: shared, or shown by an image block."""
        return self.ts is not None


@dataclass
class StoredFile:
    id: str
    name: str
    mimetype: str
    content: bytes
    user: str
    revoked: bool = False  # the download answers the sign-in page even with the token
    ready_at: float = 0.0  # before this (loop time), an image block naming it is refused: invalid_blocks

    def info(self, base: str) -> dict[str, Any]:
        url = f"{base}files-pri/{TEAM}-{self.id}/{self.name}"
        kind = self.mimetype.split("/")[-1]
        return {"id": self.id, "name": self.name, "title": self.name, "mimetype": self.mimetype,
                "filetype": kind, "size": len(self.content), "user": self.user,
                "url_private": url, "url_private_download": f"{url}?download=1"}


def _mimetype(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower()
    return {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp",
            "ogg": "audio/ogg", "mp3": "audio/mpeg", "wav": "audio/wav"}.get(ext, "application/octet-stream")


def _metadata_if(args: dict[str, Any], messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Message metadata only for ``include_all_metadata`` (Slack's default leaves it out)."""
    if str(args.get("include_all_metadata", "")).lower() in ("1", "true"):
        return messages
    return [{k: v for k, v in m.items() if k != "metadata"} for m in messages]


def _error_body(status: int, retry_after: float) -> web.Response:
    if status == 429:
        return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                 headers={"Retry-After": str(max(1, round(retry_after)))})
    return web.json_response({"ok": False, "error": "internal_error"}, status=status)
