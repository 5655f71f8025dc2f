"""Before a platform adapter connects: is the API reachable, and does it accept the token?

The libraries' own loops retry a dead network forever with a traceback every few seconds and
never say a token is simply wrong. Here a wrong token ends the run with one line saying what to
fix, and an unreachable API gets one line per attempt, retried with a capped exponential backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp

from core.errors import StudioError

log = logging.getLogger("studiobot.preflight")

BACKOFF_START_S = 1.0
BACKOFF_CAP_S = 60.0
PROBE_TIMEOUT_S = 15.0
UNREACHABLE = (OSError, aiohttp.ClientError, TimeoutError)


class TokenRejected(StudioError):
    """The platform answered, and said no: retrying will not help."""

    code = "token_rejected"


def _reason(exc: BaseException) -> str:
    text = str(exc).split("[", 1)[0].strip() or type(exc).__name__
    return text[:120]


async def until_reachable(name: str, probe: Callable[[], Awaitable[None]], *, hint: str,
                          start_s: float = BACKOFF_START_S, cap_s: float = BACKOFF_CAP_S) -> None:
    """Run ``probe`` until it passes; ``TokenRejected`` and cancellation go straight through."""
    delay = start_s
    while True:
        try:
            await probe()
            return
        except UNREACHABLE as exc:
            log.warning("%s: API unreachable (%s); %s. Retrying in %.0f s.", name, _reason(exc), hint, delay)
        await asyncio.sleep(delay)
        delay = min(cap_s, delay * 2)


def _timeout() -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=PROBE_TIMEOUT_S)


async def discord_probe(api_base: str, token: str) -> None:
    """GET /users/@me: 200 is a working bot token, 401 a wrong one; anything else counts as unreachable."""
    async with aiohttp.ClientSession(timeout=_timeout()) as session, session.get(
            f"{api_base.rstrip('/')}/users/@me", headers={"Authorization": f"Bot {token}"}) as response:
        if response.status == 401:
            raise TokenRejected("Discord rejected DISCORD_TOKEN (401). Reset the token in the Developer Portal "
                                "(your app → Bot → Reset Token) and set DISCORD_TOKEN again.")
        if response.status >= 400:
            raise aiohttp.ClientResponseError(response.request_info, (), status=response.status,
                                              message=f"HTTP {response.status}")


_SLACK_BAD_TOKEN = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}


async def slack_probe(api_url: str, bot_token: str | None, app_token: str | None) -> None:
    """auth.test with the bot token, then apps.connections.open with the app token (Socket Mode)."""
    async with aiohttp.ClientSession(timeout=_timeout()) as session:
        calls = []
        if bot_token is not None:
            calls.append(("auth.test", bot_token, "SLACK_BOT_TOKEN", "OAuth & Permissions → Bot User OAuth Token"))
        if app_token is not None:
            calls.append(("apps.connections.open", app_token, "SLACK_APP_TOKEN",
                          "Basic Information → App-Level Tokens (scope connections:write)"))
        for method, token, setting, where in calls:
            async with session.post(f"{api_url}{method}", headers={"Authorization": f"Bearer {token}"}) as response:
                if response.status >= 500:
                    raise aiohttp.ClientResponseError(response.request_info, (), status=response.status,
                                                      message=f"HTTP {response.status}")
                body = await response.json(content_type=None)
            error = body.get("error") if isinstance(body, dict) and not body.get("ok") else None
            if error in _SLACK_BAD_TOKEN or (error and method == "apps.connections.open"):
                raise TokenRejected(f"Slack rejected {setting} ({error}). Copy it again from {where}.")
