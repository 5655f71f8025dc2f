"""Downloading users' files safely: only from the platform's own hosts, size-capped, never HTML."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

import aiohttp

from core.errors import InputError
from core.media.images import sniff

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
_TIMEOUT = aiohttp.ClientTimeout(total=30)


def host_allowed(url: str, allowed: Iterable[str]) -> bool:
    """``cdn.example.com`` allows that host and its subdomains, over http(s) only."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    return any(host == a or host.endswith("." + a) for a in (h.lower().strip(".") for h in allowed))


async def download(session: aiohttp.ClientSession, url: str, *, allowed_hosts: Iterable[str],
                   headers: Mapping[str, str] | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                   what: str = "image") -> bytes:
    """The file's bytes, or an InputError a user can act on. Redirects are not followed off the allow-list."""
    if not host_allowed(url, allowed_hosts):
        raise InputError(f"I can only fetch the {what} from this chat's own file hosts.")
    try:
        async with session.get(url, headers=dict(headers or {}), timeout=_TIMEOUT, allow_redirects=False) as resp:
            if resp.status in (301, 302, 303, 307, 308):
                location = resp.headers.get("Location", "")
                if not host_allowed(location, allowed_hosts):
                    raise InputError(f"The {what} link points somewhere I'm not allowed to fetch from.")
                return await download(session, location, allowed_hosts=allowed_hosts, headers=headers,
                                      max_bytes=max_bytes, what=what)
            if resp.status != 200:
                raise InputError(f"I couldn't download the {what} (HTTP {resp.status}). Try uploading it again.")
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise InputError(f"The {what} is larger than {max_bytes // (1024 * 1024)} MB.")
            data = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > max_bytes:
                    raise InputError(f"The {what} is larger than {max_bytes // (1024 * 1024)} MB.")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise InputError(f"I couldn't download the {what}. Try again in a moment.",
                         detail=type(exc).__name__) from None
    body = bytes(data)
    if sniff(body) is None and body.lstrip()[:1] == b"<":
        # Slack answers a private file URL without a valid token with its HTML login page.
        raise InputError(f"I got a web page instead of the {what}: the file may be private or expired.")
    return body
