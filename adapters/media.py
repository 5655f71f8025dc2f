"""Downloading users' files safely: only from the platform's own hosts, size-capped, never HTML."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from urllib.parse import urljoin, urlsplit

import aiohttp

from core.errors import InputError
from core.media.images import sniff
from core.text import size_text

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
DEFAULT_TIMEOUT_S = 30.0
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
_MARKUP_TYPES = ("text/html", "application/xhtml+xml", "text/xml", "application/xml")


def host_allowed(url: str, allowed: Iterable[str]) -> bool:
    """``cdn.example.com`` allows that host and its subdomains, over http(s) only."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    return any(host == a or host.endswith("." + a) for a in (h.lower().strip(".") for h in allowed))


def _too_large(what: str, max_bytes: int) -> InputError:
    return InputError(f"The {what} is larger than {size_text(max_bytes)}.")


async def download(session: aiohttp.ClientSession, url: str, *, allowed_hosts: Iterable[str],
                   headers: Mapping[str, str] | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                   what: str = "image", timeout_s: float = DEFAULT_TIMEOUT_S) -> bytes:
    """The file's bytes, or an InputError a user can act on.

    One deadline covers every redirect and every byte (a server dripping a byte a second cannot hold
    us), the cap is counted while reading, redirects never leave the allow-list, and a web page is
    never mistaken for the file whatever its headers claim.
    """
    hosts = tuple(allowed_hosts)
    try:
        async with asyncio.timeout(timeout_s):
            body = await _fetch(session, url, hosts, dict(headers or {}), max_bytes, what)
    except TimeoutError:
        raise InputError(f"Downloading the {what} took longer than {timeout_s:g} s. Try uploading it again.",
                         detail="deadline") from None
    except aiohttp.ClientError as exc:
        raise InputError(f"I couldn't download the {what}. Try again in a moment.",
                         detail=type(exc).__name__) from None
    if sniff(body) is None and body.lstrip()[:1] == b"<":
        # Slack answers a private file URL without a valid token with its HTML login page.
        raise InputError(f"I got a web page instead of the {what}: the file may be private or expired.")
    return body


async def _fetch(session: aiohttp.ClientSession, url: str, hosts: tuple[str, ...], headers: dict[str, str],
                 max_bytes: int, what: str) -> bytes:
    for _ in range(MAX_REDIRECTS + 1):
        if not host_allowed(url, hosts):
            raise InputError(f"I can only fetch the {what} from this chat's own file hosts.")
        async with session.get(url, headers=headers, allow_redirects=False) as resp:
            if resp.status in _REDIRECTS:
                location = urljoin(url, resp.headers.get("Location", ""))
                if not host_allowed(location, hosts):
                    raise InputError(f"The {what} link points somewhere I'm not allowed to fetch from.")
                url = location
                continue
            if resp.status != 200:
                raise InputError(f"I couldn't download the {what} (HTTP {resp.status}). Try uploading it again.")
            if resp.content_type in _MARKUP_TYPES:
                raise InputError(f"I got a web page instead of the {what}: the file may be private or expired.")
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise _too_large(what, max_bytes)
            data = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > max_bytes:
                    raise _too_large(what, max_bytes)
            return bytes(data)
    raise InputError(f"The {what} link redirects too many times.")
