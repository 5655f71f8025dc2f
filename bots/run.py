"""``studiobot run``: Settings -> Studio -> every configured adapter, in one TaskGroup."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console

from core.settings import Settings
from core.studio import open_studio


@dataclass(frozen=True)
class AdapterSpec:
    name: str
    missing: Callable[[Settings], list[str]]


def _discord_missing(s: Settings) -> list[str]:
    return [] if s.discord_token else ["DISCORD_TOKEN"]


def _slack_missing(s: Settings) -> list[str]:
    missing = [] if s.slack_bot_token else ["SLACK_BOT_TOKEN"]
    if not (s.slack_app_token or s.slack_signing_secret):
        missing.append("SLACK_APP_TOKEN or SLACK_SIGNING_SECRET")
    return missing


ADAPTERS = (AdapterSpec("Discord", _discord_missing), AdapterSpec("Slack", _slack_missing))


def plan(settings: Settings) -> list[tuple[str, list[str]]]:
    """Each platform adapter and the settings it still needs."""
    return [(spec.name, spec.missing(settings)) for spec in ADAPTERS]


async def run_forever(settings: Settings, console: Console) -> None:
    ready = []
    for name, missing in plan(settings):
        if missing:
            console.print(f"{name}: skipped (set {', '.join(missing)})", highlight=False)
        else:
            console.print(f"{name}: configured, but this build has no {name} adapter yet", highlight=False)
            ready.append(name)
    async with open_studio(settings) as studio:
        provider = "OFFLINE preview provider (no GEMINI_API_KEY)" if studio.offline else "Gemini"
        console.print(f"Studio ready with {provider}; journal at {settings.journal_path}", highlight=False)
        console.print("No adapter can start yet: nothing to serve. Unfinished jobs were resumed.", highlight=False)
        await asyncio.sleep(0)
