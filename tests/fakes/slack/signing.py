"""Requests as Slack sends them to an HTTP-mode app: signed slash commands, events and interactivity."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp

SIGNING_SECRET = "test-signing-secret"


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


class SlackSender:
    """Posts to the app's ``/slack/events`` the way Slack would."""

    def __init__(self, http: aiohttp.ClientSession, url: str, secret: str = SIGNING_SECRET) -> None:
        self.http = http
        self.url = url
        self.secret = secret

    async def send(self, body: str, content_type: str, *, secret: str | None = None, timestamp: int | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, str, str]:
        """Status, content type and body of the app's answer."""
        all_headers = {"Content-Type": content_type, **sign(secret or self.secret, body, timestamp),
                       **(headers or {})}
        async with self.http.post(self.url, data=body.encode(), headers=all_headers) as res:
            return res.status, res.content_type, await res.text()

    async def form(self, fields: dict[str, str], **kwargs: Any) -> tuple[int, str, str]:
        return await self.send(urlencode(fields), "application/x-www-form-urlencoded", **kwargs)

    async def interactive(self, payload: dict[str, Any], **kwargs: Any) -> tuple[int, str, str]:
        return await self.form({"payload": json.dumps(payload)}, **kwargs)

    async def event(self, body: dict[str, Any], *, retry: int | None = None, **kwargs: Any) -> tuple[int, str, str]:
        headers = dict(kwargs.pop("headers", None) or {})
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.send(json.dumps(body), "application/json", headers=headers, **kwargs)
