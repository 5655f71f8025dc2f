"""The operator's endpoint: ``/metrics`` (Prometheus), ``/healthz`` (event loop responsive) and
``/readyz`` (journal reachable, each configured platform connected), on STUDIOBOT_METRICS_HOST:PORT."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from core.studio import Studio
from core.tasks import TaskOwner

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]]
TICK_S = 0.5
STALL_S = 5.0  # a loop that has not ticked for this long is not healthy


class OpsServer:
    def __init__(self, studio: Studio, checks: Mapping[str, Check] | None = None) -> None:
        self.studio = studio
        self.checks = dict(checks or {})
        self._runner: web.AppRunner | None = None
        self._tasks = TaskOwner("ops")
        self._last_tick = time.monotonic()
        self.port = 0

    async def start(self, host: str, port: int) -> str:
        app = web.Application()
        scrape = make_aiohttp_handler(self.studio.metrics.registry)

        async def metrics(request: web.Request) -> web.StreamResponse:
            await self.studio.refresh_metrics()
            return await scrape(request)

        app.router.add_get("/metrics", metrics)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.port = next(a[1] for a in self._runner.addresses if isinstance(a, tuple))
        self._tasks.spawn(self._tick(), name="loop-ticker")
        return f"http://{host}:{self.port}/metrics"

    async def stop(self) -> None:
        await self._tasks.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _tick(self) -> None:
        """Measure how late the loop wakes us: a blocked loop shows as lag, and as a stale tick."""
        while True:
            before = time.monotonic()
            await asyncio.sleep(TICK_S)
            self._last_tick = time.monotonic()
            self.studio.metrics.loop_lag.set(max(0.0, self._last_tick - before - TICK_S))

    async def healthz(self, request: web.Request) -> web.Response:
        stale = time.monotonic() - self._last_tick
        ok = stale < STALL_S
        return _answer(ok, {"event_loop": "ok" if ok else f"no tick for {stale:.1f} s"})

    async def readyz(self, request: web.Request) -> web.Response:
        results = {"journal": await self.studio.journal_ok()}
        for name, check in self.checks.items():
            with contextlib.suppress(Exception):
                results[name] = False
                async with asyncio.timeout(2):
                    results[name] = await check()
        return _answer(all(results.values()), {k: "ok" if v else "down" for k, v in results.items()})


def _answer(ok: bool, detail: dict[str, str]) -> web.Response:
    return web.Response(status=200 if ok else 503, text=json.dumps({"ok": ok, **detail}) + "\n",
                        content_type="application/json")
