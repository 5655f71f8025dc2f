"""``studiobot run``: Settings -> Studio -> every configured adapter, in one TaskGroup."""

from __future__ import annotations

import asyncio
import importlib
import signal
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console

from adapters.base import Adapter
from adapters.playground import Playground
from bots.local import FileHook
from core.ops import OpsServer
from core.settings import Settings
from core.studio import Studio, open_studio


@dataclass(frozen=True)
class AdapterSpec:
    name: str
    module: str  # imported only when configured: a Slack-only deployment never loads discord.py
    missing: Callable[[Settings], list[str]]

    def build(self, settings: Settings) -> Adapter:
        factory: Callable[[Settings], Adapter] = importlib.import_module(self.module).build
        return factory(settings)


def _discord_missing(s: Settings) -> list[str]:
    return [] if s.discord_token else ["DISCORD_TOKEN"]


def _slack_missing(s: Settings) -> list[str]:
    if s.slack_oauth:  # many workspaces: tokens come from installations
        return [] if s.slack_signing_secret else ["SLACK_SIGNING_SECRET"]
    missing = [] if s.slack_bot_token else ["SLACK_BOT_TOKEN"]
    if not (s.slack_app_token or s.slack_signing_secret):
        missing.append("SLACK_APP_TOKEN or SLACK_SIGNING_SECRET")
    return missing


ADAPTERS = (
    AdapterSpec("Discord", "adapters.discord", _discord_missing),
    AdapterSpec("Slack", "adapters.slack", _slack_missing),
)


def plan(settings: Settings) -> list[tuple[AdapterSpec, list[str]]]:
    """Each platform adapter and the settings it still needs."""
    return [(spec, spec.missing(settings)) for spec in ADAPTERS]


def make_playground(settings: Settings, *, host: str | None = None, port: int | None = None,
                    token: str | None = None, allow_remote: bool | None = None) -> Playground:
    secret = token or (settings.playground_token.get_secret_value() if settings.playground_token else None)
    remote = settings.playground_allow_remote if allow_remote is None else allow_remote
    return Playground(settings, host=host, port=port, token=secret, allow_remote=remote)


def configured(settings: Settings, console: Console) -> list[Adapter]:
    """The platform adapters whose settings are present; one clear line for each one skipped."""
    adapters = []
    for spec, missing in plan(settings):
        if missing:
            console.print(f"{spec.name}: skipped (set {', '.join(missing)})", highlight=False)
        else:
            adapters.append(spec.build(settings))
    return adapters


async def run_forever(settings: Settings, console: Console, *, adapters: list[Adapter] | None = None,
                      with_workers: bool = False) -> None:
    """Serve until Ctrl+C or SIGTERM: the configured platforms, or the playground when there are none."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    if adapters is None:
        adapters = configured(settings, console) or [make_playground(settings)]
    try:
        await _serve(settings, console, adapters, with_workers=with_workers)
    except asyncio.CancelledError:
        console.print("stopped", highlight=False)


async def _serve(settings: Settings, console: Console, adapters: list[Adapter], *, with_workers: bool) -> None:
    # The CLI's hook too: a `studiobot speak -o x.ogg` killed mid-job is finished into x.ogg here.
    hooks = (*(a.hook for a in adapters), FileHook())
    async with open_studio(settings, hooks=hooks, workers=with_workers) as studio:
        if studio.offline:
            console.print("[bold yellow]OFFLINE PREVIEW:[/] no GEMINI_API_KEY set, so speech comes from espeak and "
                          "images are preview cards.", highlight=False)
        else:
            console.print(f"Gemini: {settings.tts_model} for speech, {settings.image_model} for images",
                          highlight=False)
        console.print(_where_jobs_run(studio, settings, with_workers), highlight=False)
        ops = await start_ops(settings, console, studio, adapters)
        tasks = [asyncio.create_task(a.serve(studio, on_ready=_announce(console, a.name)), name=a.name)
                 for a in adapters]
        try:
            # asyncio.wait, not a TaskGroup: on shutdown the adapters must outlive the studio's last posts.
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            await studio.stop()  # workers stop (their jobs resume next start); deliveries under way finish
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if ops is not None:
                await ops.stop()


async def start_ops(settings: Settings, console: Console, studio: Studio, adapters: list[Adapter]) -> OpsServer | None:
    """Metrics and health checks (STUDIOBOT_METRICS_PORT=0 turns them off; a busy port is not fatal)."""
    if not settings.metrics_port:
        return None
    checks = {a.name: ready for a in adapters if (ready := getattr(a, "ready", None)) is not None}
    ops = OpsServer(studio, checks)
    try:
        where = await ops.start(settings.metrics_host, settings.metrics_port)
    except OSError as exc:
        await ops.stop()
        console.print(f"Metrics: off ({settings.metrics_host}:{settings.metrics_port}: {exc.strerror})",
                      highlight=False)
        return None
    console.print(f"Metrics: {where} (and /healthz, /readyz)", highlight=False)
    return ops


def _where_jobs_run(studio: Studio, settings: Settings, with_workers: bool) -> str:
    if not studio.runner.shared:
        return f"Journal: {settings.journal_path}"
    if with_workers:
        return "Scaled out on PostgreSQL: this process takes events and runs jobs (--with-workers)"
    return "Scaled out on PostgreSQL: this process takes events; `studiobot worker`s run the jobs"


def _announce(console: Console, name: str) -> Callable[[str], None]:
    return lambda where: console.print(f"[bold]{name.capitalize()}:[/] {where}", highlight=False)
