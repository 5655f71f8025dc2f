"""``studiobot worker``: run jobs from the shared queue on any machine, and deliver them over REST.

A worker takes no platform events. It builds each configured adapter only for delivery (Discord's REST
client with the bot token, Slack's web client with each workspace's token) and posts results itself; the
front end that took the command hears of it on the bus and tidies its own reply.
"""

from __future__ import annotations

import asyncio
import signal
from contextlib import AsyncExitStack

from rich.console import Console

from bots.run import configured, start_ops
from core.errors import InputError
from core.jobs.shared_runner import SharedJobRunner
from core.jobs.worker import serve_jobs
from core.settings import Settings
from core.studio import open_studio

KINDS = ("speech", "image")
NOT_SHARED = ("studiobot worker takes jobs from the shared queue: set STUDIOBOT_DATABASE_URL=postgresql://… "
              "(without it, `studiobot run` runs jobs itself)")


def parse_kinds(text: str) -> list[str]:
    kinds = [k.strip().lower() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise InputError(f"--kinds takes {' and/or '.join(KINDS)}, comma-separated (got {text[:40]!r}).")
    return list(dict.fromkeys(kinds))


async def work_forever(settings: Settings, console: Console, *, concurrency: int, kinds: list[str]) -> None:
    """Run jobs until Ctrl+C or SIGTERM; running jobs get the shutdown grace period, then go back in line."""
    if not (settings.database_url_value or "").startswith(("postgresql://", "postgres://")):
        raise InputError(NOT_SHARED)
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    adapters = configured(settings, console)
    async with open_studio(settings, hooks=tuple(a.hook for a in adapters), resume=False,
                           workers=False) as studio, \
            AsyncExitStack() as stack:
        runner = studio.runner
        assert isinstance(runner, SharedJobRunner)
        for adapter in adapters:
            await stack.enter_async_context(adapter.delivering(studio))
        ops = await start_ops(settings, console, studio, [])
        if ops is not None:
            stack.push_async_callback(ops.stop)
        platforms = ", ".join(a.name for a in adapters) or "none (front ends deliver)"
        console.print(f"Worker: {', '.join(kinds)} jobs, {concurrency} at a time; delivers to {platforms}",
                      highlight=False)
        try:
            await serve_jobs(runner, queues=kinds, concurrency=concurrency, grace_s=settings.shutdown_grace_s)
        except asyncio.CancelledError:
            console.print("stopped", highlight=False)
        finally:
            await studio.stop()  # posts under way finish while the adapters they post through are still open
