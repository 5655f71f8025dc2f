"""Slack's text format both ways: what users typed, as plain words; what we echo, never a live mention."""

from __future__ import annotations

import html
import re

from core import creative
from core.requests import EditRequest, ImagineRequest, Request, SpeakRequest
from core.text import strip_controls

# <@U123>, <@U123|ada>, <!here>, <!subteam^S1|@team>, <#C1|general>, <https://x|label>
_TOKEN = re.compile(r"<([@#!])?([^<>|]*)(?:\|([^<>]*))?>")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_ZWSP = "\u200b"
_MAX_ECHO = 300


def plain(text: str) -> str:
    """Event text to what the user meant: mentions become @names, links their labels, entities decoded."""

    def token(m: re.Match[str]) -> str:
        sigil, target, label = m.group(1), m.group(2), m.group(3)
        if sigil == "@":
            return f"@{label or target}"
        if sigil == "#":
            return f"#{label or target}"
        if sigil == "!":
            name = target.split("^", 1)[0]
            return label if label else f"@{name}"
        return label or target

    return html.unescape(_TOKEN.sub(token, text)).strip()


def without_mention(text: str, bot_user: str | None) -> str:
    """The words of an ``app_mention`` with the bot's own mention taken out."""
    if bot_user:
        text = re.sub(rf"<@{re.escape(bot_user)}(?:\|[^>]*)?>", " ", text)
    return plain(text)


def escape(text: str) -> str:
    """Safe to post: no control characters, and @channel/@here/@everyone cannot ping even with link_names."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: f"@{_ZWSP}{m.group(1)}", escaped)


def quote(text: str, limit: int = _MAX_ECHO) -> str:
    """User text shortened and escaped, for an echo in a message."""
    text = "\n".join(" ".join(line.split()) for line in strip_controls(text).splitlines() if line.strip())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return escape(text)


def describe(request: Request) -> str:
    """The initial comment under a result: what was asked, in the user's words (escaped)."""
    if isinstance(request, SpeakRequest):
        voices = " and ".join(f"{quote(s.name, 40)} ({s.voice})" for s in request.speakers) or request.voice
        style = f", {quote(request.style, 80)}" if request.style else ""
        gap = "\n" if request.speakers else " "
        return f"/speak ({voices}{style}):{gap}{quote(request.text)}"
    if isinstance(request, ImagineRequest):
        aspect = f" ({request.aspect})" if request.aspect else ""
        return f"/imagine{aspect}: {quote(request.prompt)}"
    if isinstance(request, EditRequest):
        aspect = f" ({request.aspect})" if request.aspect else ""
        region = "Vary (region)" if request.mask is not None else "Edit"
        return f"{region}{aspect}: {quote(request.instruction)}"
    return quote(creative.describe(request))  # U, V, Upscale, Blend


def plain_request(request: Request) -> str:
    """The request in plain words for an image's alt text: never markup, and no word that could ping."""
    for field in ("text", "prompt", "instruction"):
        if isinstance(value := getattr(request, field, None), str):
            inert = value.replace("<", "‹").replace(">", "›")[:500]
            return _BROADCAST.sub(lambda m: f"@{_ZWSP}{m.group(1)}", inert)
    return ""
