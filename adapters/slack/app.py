"""The Slack adapter: one Bolt ``AsyncApp`` over Socket Mode (with ``SLACK_APP_TOKEN``) or HTTP.

Built before the studio so its delivery hook can be registered first, then handed the studio::

    slack = SlackAdapter(settings)
    async with open_studio(settings, hooks=(slack.hook,)) as studio:
        await slack.serve(studio)

Both transports put an ``asyncio.Event`` in the Bolt context and set it once the ack has left
(HTTP response written, or Socket Mode ack sent); listeners wait for it before queueing work.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler, async_default_handlers
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.flow import ACK_SENT, Flow
from adapters.slack.handlers import Commands
from adapters.slack.interactions import Interactions
from adapters.slack.reply import PLATFORM, SlackHook
from adapters.slack.sources import Sources
from core.settings import Settings
from core.studio import Studio

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
DEFAULT_API_URL = "https://slack.com/api/"


class AckingSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler, plus a signal once each envelope's ack has been sent."""

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        sent = asyncio.Event()
        bolt_req = AsyncBoltRequest(mode="socket_mode", body=req.payload, headers=build_headers(req),
                                    context={ACK_SENT: sent})
        start = time.time()
        bolt_resp = await self.app.async_dispatch(bolt_req)
        await send_async_response(client, req, bolt_resp, start)
        sent.set()


class SlackAdapter:
    """What ``studiobot run`` serves for Slack; ``start``/``stop`` let tests run it beside a fake Slack."""

    name = PLATFORM

    def __init__(self, settings: Settings) -> None:
        if settings.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        token = settings.slack_bot_token.get_secret_value()
        self.client = AsyncWebClient(
            token=token, base_url=settings.slack_api_url or DEFAULT_API_URL,
            retry_handlers=[*async_default_handlers(), AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
        )
        self._hook = SlackHook(self.client)
        self.app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        secret = settings.slack_signing_secret
        self.signing_secret = secret.get_secret_value() if secret else ""
        self.port = settings.slack_port
        self.sources = Sources(self.client, token, settings.media_hosts)
        self.app: AsyncApp | None = None
        self._runner: web.AppRunner | None = None
        self._socket: AckingSocketModeHandler | None = None

    @property
    def hook(self) -> SlackHook:
        return self._hook

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    def bolt(self, studio: Studio) -> AsyncApp:
        """The Bolt app with every listener; nothing answers Slack until ``start``."""
        if not self.socket_mode and not self.signing_secret:
            raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)")
        app = AsyncApp(client=self.client, signing_secret=self.signing_secret, logger=log)
        flow = Flow(studio, self.client, self.sources)
        Commands(flow).register(app)
        Interactions(flow).register(app)
        return app

    async def start(self, studio: Studio, *, host: str = "0.0.0.0", port: int | None = None) -> str:  # noqa: S104
        """Connect (Socket Mode) or listen (HTTP); returns where, for the console."""
        if self.app is not None:
            raise RuntimeError("the Slack adapter is already running")
        self.app = app = self.bolt(studio)
        if self.app_token is not None:
            self._socket = AckingSocketModeHandler(app, self.app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            return "connected over Socket Mode"
        web_app = web.Application(client_max_size=1024 * 1024)
        web_app.router.add_post(EVENTS_PATH, self._events)
        self._runner = web.AppRunner(web_app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, self.port if port is None else port).start()
        bound = next(a[1] for a in self._runner.addresses if isinstance(a, tuple))
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        return f"http://{shown}:{bound}{EVENTS_PATH}"

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """Bolt's aiohttp adapter, except the answer is flushed before listeners are told it was sent."""
        assert self.app is not None
        sent = asyncio.Event()
        bolt_req = AsyncBoltRequest(body=await request.text(), query=request.query_string,
                                    headers=request.headers, context={ACK_SENT: sent})  # type: ignore[arg-type]
        response = await to_aiohttp_response(await self.app.async_dispatch(bolt_req))
        await response.prepare(request)
        await response.write_eof()
        sent.set()
        return response

    async def stop(self) -> None:
        socket, self._socket = self._socket, None
        runner, self._runner = self._runner, None
        self.app = None
        if socket is not None:
            await socket.close_async()  # type: ignore[no-untyped-call]
        if runner is not None:
            await runner.cleanup()
        await self.sources.close()

    async def serve(self, studio: Studio, *, on_ready: Callable[[str], None] | None = None) -> None:
        """Run until cancelled (one task in the bots' TaskGroup)."""
        where = await self.start(studio)
        try:
            if on_ready is not None:
                on_ready(where)
            await asyncio.Event().wait()
        finally:
            await asyncio.shield(self.stop())
