"""``studiobot doctor``: check the configuration without starting anything.

A newcomer's first question is "why doesn't it start?". Each check is one line saying what was
found and, when something is off, what to do. Nothing here prints a secret: tokens are judged by
their shape, and (only with ``--online``) by asking the platform whether it accepts them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import re
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bots.run import plan
from core.settings import Settings

DISCORD_API = "https://discord.com/api/v10"
SLACK_API = "https://slack.com/api/"
ONLINE_TIMEOUT_S = 10.0
_GEMINI_KEY = re.compile(r"^AIza[0-9A-Za-z_-]{35}$")
_SIGNING_SECRET = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True, slots=True)
class Check:
    """One finding: ``ok`` False means something stops the bot from working as configured."""

    name: str
    ok: bool
    detail: str


def _secret(value: object) -> str | None:
    get = getattr(value, "get_secret_value", None)
    return get() if get is not None else None


def _discord_shape(token: str) -> str | None:
    """None when the token looks like a bot token (three dot-separated parts, the first the bot's id)."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return "does not look like a bot token (three parts separated by dots); copy it again from the Bot tab"
    try:
        int(base64.b64decode(parts[0] + "=" * (-len(parts[0]) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return "does not start with the bot's id; copy the token from the Bot tab, not the client secret"
    return None


def shape_checks(settings: Settings) -> list[Check]:
    """Offline checks of every configured secret's shape."""
    checks: list[Check] = []
    gemini = _secret(settings.gemini_api_key)
    if not gemini:
        checks.append(Check("Gemini", True, "no GEMINI_API_KEY: offline preview (espeak speech, preview cards)"))
    elif not _GEMINI_KEY.match(gemini) and settings.gemini_base_url is None:
        checks.append(Check("Gemini", False, "GEMINI_API_KEY does not look like a key (AIza… , 39 characters); "
                                             "create one at https://aistudio.google.com/apikey"))
    else:
        checks.append(Check("Gemini", True, f"key set; {settings.tts_model} for speech, {settings.image_model} "
                                            "for images"))
    discord_token = _secret(settings.discord_token)
    if discord_token:
        problem = _discord_shape(discord_token)
        checks.append(Check("DISCORD_TOKEN", problem is None, problem or "has the shape of a bot token"))
    for name, value, prefix, where in (
        ("SLACK_BOT_TOKEN", _secret(settings.slack_bot_token), "xoxb-", "OAuth & Permissions"),
        ("SLACK_APP_TOKEN", _secret(settings.slack_app_token), "xapp-", "Basic Information → App-Level Tokens"),
    ):
        if value:
            good = value.startswith(prefix)
            checks.append(Check(name, good, f"starts with {prefix}" if good else
                                f"should start with {prefix}; copy it from {where}"))
    secret = _secret(settings.slack_signing_secret)
    if secret:
        good = bool(_SIGNING_SECRET.match(secret))
        checks.append(Check("SLACK_SIGNING_SECRET", good, "32 hex characters" if good else
                            "should be 32 hex characters; copy it from Basic Information → App Credentials"))
    return checks


def adapter_checks(settings: Settings) -> list[Check]:
    """Which adapters ``studiobot run`` would start."""
    checks = []
    starting = []
    for spec, missing in plan(settings):
        if missing:
            checks.append(Check(spec.name, True, f"would be skipped (set {', '.join(missing)})"))
        else:
            starting.append(spec.name)
            checks.append(Check(spec.name, True, "would start"))
    if not starting:
        where = f"http://{settings.playground_host}:{settings.playground_port}/"
        checks.append(Check("Playground", True, f"would start on {where} (no platform configured)"))
    return checks


def media_checks() -> list[Check]:
    """ffmpeg encodes every clip; espeak speaks offline. Both ship in wheels, but a broken install shows here."""
    checks = []
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        checks.append(Check("ffmpeg", os.access(exe, os.X_OK), exe))
    except Exception as exc:  # RuntimeError when the bundled binary is missing
        checks.append(Check("ffmpeg", False, f"not found ({exc}); reinstall imageio-ffmpeg"))
    try:
        from core.providers.espeak import synthesize

        synthesize("ok", "Kore")
        checks.append(Check("espeak", True, "loads and speaks"))
    except Exception as exc:
        checks.append(Check("espeak", False, f"does not load ({type(exc).__name__}); reinstall espeakng-loader"))
    return checks


def data_checks(settings: Settings) -> list[Check]:
    """Where the journal, results and uploads live, and whether we may write there."""
    root = settings.data_dir.expanduser()
    existing = next((p for p in (root, *root.parents) if p.exists()), Path("/"))
    writable = os.access(existing, os.W_OK)
    state = "exists" if root.exists() else "will be created"
    detail = f"{root} ({state})" if writable else f"{root}: {existing} is not writable; set STUDIOBOT_DATA_DIR"
    return [Check("Data", writable, detail)]


async def _get_json(session: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str]) -> tuple[
        int, dict[str, object]]:
    async with session.request(method, url, headers=headers) as response:
        try:
            body = await response.json(content_type=None)
        except ValueError:
            body = {}
        return response.status, body if isinstance(body, dict) else {}


async def online_checks(settings: Settings) -> list[Check]:
    """Ask Discord and Slack whether they accept the tokens (one request each)."""
    checks: list[Check] = []
    timeout = aiohttp.ClientTimeout(total=ONLINE_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        token = _secret(settings.discord_token)
        if token:
            base = (settings.discord_api_base or DISCORD_API).rstrip("/")
            try:
                status, body = await _get_json(session, "GET", f"{base}/users/@me", {"Authorization": f"Bot {token}"})
            except (aiohttp.ClientError, TimeoutError) as exc:
                checks.append(Check("Discord online", False, f"API unreachable ({type(exc).__name__})"))
            else:
                ok = status == 200
                who = f"accepted: logged in as {body.get('username', '?')}"
                checks.append(Check("Discord online", ok, who if ok else f"token rejected (HTTP {status}); "
                                                                         "reset it in the Bot tab"))
        bot = _secret(settings.slack_bot_token)
        if bot:
            base = settings.slack_api_url or SLACK_API
            try:
                _, body = await _get_json(session, "POST", f"{base}auth.test", {"Authorization": f"Bearer {bot}"})
            except (aiohttp.ClientError, TimeoutError) as exc:
                checks.append(Check("Slack online", False, f"API unreachable ({type(exc).__name__})"))
            else:
                ok = body.get("ok") is True
                detail = (f"accepted: {body.get('user', '?')} in {body.get('team', '?')}" if ok else
                          f"token rejected ({body.get('error', 'unknown error')}); reinstall the app and copy it "
                          "again")
                checks.append(Check("Slack online", ok, detail))
        app = _secret(settings.slack_app_token)
        if app:
            base = settings.slack_api_url or SLACK_API
            try:
                _, body = await _get_json(session, "POST", f"{base}apps.connections.open",
                                          {"Authorization": f"Bearer {app}"})
            except (aiohttp.ClientError, TimeoutError) as exc:
                checks.append(Check("Slack Socket Mode", False, f"API unreachable ({type(exc).__name__})"))
            else:
                ok = body.get("ok") is True
                checks.append(Check("Slack Socket Mode", ok, "SLACK_APP_TOKEN accepted" if ok else
                                    f"SLACK_APP_TOKEN rejected ({body.get('error', 'unknown error')}); create an "
                                    "app-level token with connections:write"))
    return checks


async def diagnose(settings: Settings, *, online: bool = False) -> list[Check]:
    checks = shape_checks(settings) + adapter_checks(settings) + data_checks(settings)
    checks += await asyncio.to_thread(media_checks)
    if online:
        checks += await online_checks(settings)
    return checks
