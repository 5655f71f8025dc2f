"""The playground server: who may connect, and starting and stopping it beside the bots.

Build it before the studio so its hook can be registered first, then hand it the studio::

    playground = Playground(settings)
    async with open_studio(settings, hooks=(playground.hook,)) as studio:
        await playground.serve(studio)       # or: url = await playground.start(studio) ... stop()
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import ipaddress
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

from adapters.playground.hub import Hub, PlaygroundHook
from adapters.playground.routes import Routes
from adapters.playground.uploads import UploadStore
from core.errors import StudioError
from core.settings import Settings
from core.studio import Studio

log = logging.getLogger(__name__)

COOKIE_NAME = "studiobot_token"
HEADER_NAME = "X-Studiobot-Token"
_LOCAL_NAMES = {"localhost", "ip6-localhost"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AccessError(StudioError):
    """The playground was asked to listen somewhere it may not without a token."""

    code = "access"


class PortInUse(StudioError):
    """Another program (often another studiobot) already listens there: say which port, and how to pick one."""

    code = "port_in_use"

    def __init__(self, host: str, port: int) -> None:
        other = port + 1 if 0 < port < 65535 else 8788
        super().__init__(f"Port {port} on {host} is already in use (another studiobot?). Pick another one: "
                         f"studiobot run --port {other}, or studiobot playground --port {other}.")


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_access(host: str, token: str | None, allow_remote: bool) -> None:
    """Only this machine by default: anything else must be asked for and protected by a token."""
    if is_loopback(host):
        return
    if not allow_remote:
        raise AccessError(f"The playground only listens on this machine by default; binding {host} needs the "
                          "explicit allow-remote flag and an access token.")
    if not token or len(token) < 16:
        raise AccessError(f"Binding {host} needs an access token of at least 16 characters.")


def _host_only(value: str) -> str:
    return urlsplit(f"//{value}").hostname or ""


def guard(token: str | None, loopback_only: bool) -> Middleware:
    """Check every request: the access token if there is one, the Host (DNS rebinding) and the Origin (CSRF)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if loopback_only and not is_loopback(_host_only(request.host)):
            return web.json_response({"error": "This playground only answers on localhost."}, status=403)
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is not None and urlsplit(origin).netloc != request.host:
            return web.json_response({"error": "Cross-site requests are not allowed."}, status=403)
        if token is None:
            return await handler(request)
        given = request.query.get("token")
        if given is not None and hmac.compare_digest(given.encode(), token.encode()):
            # Trade the link's token for a cookie, and drop it from the address bar.
            rest = {k: v for k, v in request.query.items() if k != "token"}
            response = web.Response(status=302, headers={hdrs.LOCATION: str(request.rel_url.with_query(rest))})
            response.set_cookie(COOKIE_NAME, token, httponly=True, samesite="Strict")
            return response
        sent = request.headers.get(HEADER_NAME) or request.cookies.get(COOKIE_NAME) or ""
        bearer = request.headers.get(hdrs.AUTHORIZATION, "")
        if bearer.lower().startswith("bearer "):
            sent = sent or bearer[7:]
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return web.json_response({"error": "Open the link with ?token=… to use this playground."}, status=401)
        return await handler(request)

    return middleware


class Playground:
    """One browser-facing chat channel on the shared studio."""

    name = "playground"

    def __init__(self, settings: Settings, *, host: str | None = None, port: int | None = None,
                 token: str | None = None, allow_remote: bool = False) -> None:
        self.host = host or settings.playground_host
        self.port = settings.playground_port if port is None else port
        check_access(self.host, token, allow_remote)
        self.token = token or None
        self.hub = Hub()
        self.hook = PlaygroundHook(self.hub)
        self.uploads = UploadStore(settings.data_dir / "playground" / "uploads", settings.max_input_bytes)
        self._runner: web.AppRunner | None = None
        self.url: str | None = None

    def app(self, studio: Studio) -> web.Application:
        app = web.Application(client_max_size=self.uploads.max_bytes + 1024 * 1024,
                              middlewares=[guard(self.token, is_loopback(self.host))])
        self.hub.limits = studio.provider.limits
        Routes(studio, self.hub, self.uploads).add_to(app)
        app.on_shutdown.append(self.hub.close_all)
        return app

    async def start(self, studio: Studio) -> str:
        """Listen, and return the URL to open (with the token, when there is one)."""
        if self._runner is not None:
            raise RuntimeError("the playground is already running")
        runner = web.AppRunner(self.app(studio), access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(self.host, self.port) from None
            raise
        self._runner = runner
        port = self.port
        for address in runner.addresses:
            if isinstance(address, tuple):
                port = int(address[1])
                break
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{shown}:{port}/" + (f"?token={self.token}" if self.token else "")
        log.debug("playground on %s", self.url.split("?")[0])
        return self.url

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @asynccontextmanager
    async def delivering(self, studio: Studio) -> AsyncIterator[None]:
        """Nothing to open: the pages live in the front end, which shows a worker's results (``handed_off``)."""
        self.hub.limits = studio.provider.limits
        yield

    async def serve(self, studio: Studio, *, on_ready: Callable[[str], None] | None = None) -> None:
        """Run until cancelled (one task in the bots' TaskGroup); ``on_ready`` gets the URL to print."""
        url = await self.start(studio)
        try:
            if on_ready is not None:
                on_ready(url)
            await asyncio.Event().wait()
        finally:
            await asyncio.shield(self.stop())
