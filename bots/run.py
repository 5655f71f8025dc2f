"""``studiobot run``: Settings -> Studio -> every configured adapter, in one TaskGroup."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console

from adapters.playground import Playground
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


def make_playground(settings: Settings, *, host: str | None = None, port: int | None = None,
                    token: str | None = None, allow_remote: bool | None = None) -> Playground:
    secret = token or (settings.playground_token.get_secret_value() if settings.playground_token else None)
    remote = settings.playground_allow_remote if allow_remote is None else allow_remote
    return Playground(settings, host=host, port=port, token=secret, allow_remote=remote)


async def run_forever(settings: Settings, console: Console, *, playground: Playground | None = None) -> None:
    """Serve everything configured until Ctrl+C or SIGTERM; with no platform tokens that is the playground."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await _serve(settings, console, playground)
    except asyncio.CancelledError:
        console.print("stopped", highlight=False)


async def _serve(settings: Settings, console: Console, playground: Playground | None) -> None:
    if playground is None:
        for name, missing in plan(settings):
            if missing:
                console.print(f"{name}: skipped (set {', '.join(missing)})", highlight=False)
            else:
                console.print(f"{name}: configured, but this build has no {name} adapter yet", highlight=False)
        playground = make_playground(settings)
    async with open_studio(settings, hooks=(playground.hook,)) as studio, asyncio.TaskGroup() as tg:
        if studio.offline:
            console.print("[bold yellow]OFFLINE PREVIEW:[/] no GEMINI_API_KEY set, so speech comes from espeak and "
                          "images are preview cards.", highlight=False)
        else:
            console.print(f"Gemini: {settings.tts_model} for speech, {settings.image_model} for images",
                          highlight=False)
        console.print(f"Journal: {settings.journal_path}", highlight=False)
        tg.create_task(playground.serve(studio, on_ready=lambda url: console.print(
            f"[bold]Playground:[/] {url}  (Ctrl+C to stop)", highlight=False)), name="playground")
