"""The Slack adapter: one Bolt ``AsyncApp`` over Socket Mode (with ``SLACK_APP_TOKEN``) or HTTP.

Built before the studio so its delivery hook can be registered first, then handed the studio::

    slack = SlackAdapter(settings)
    async with open_studio(settings, hooks=(slack.hook,)) as studio:
        await slack.serve(studio)

Two ways to hold tokens: one workspace with ``SLACK_BOT_TOKEN``, or many with ``SLACK_CLIENT_ID`` and
``SLACK_CLIENT_SECRET``, where Bolt's OAuth flow (``/slack/install``, ``/slack/oauth_redirect``) stores
each installation in the journal's database (the shared PostgreSQL when scaled out) and uninstalls
remove it. Listeners ack first and work after (Bolt answers Slack the moment ``ack()`` is called);
nothing here reaches into Bolt's transports.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator

from adapters.preflight import slack_probe, until_reachable
from adapters.slack import errors
from adapters.slack.blend import Blends
from adapters.slack.creative import CreativeButtons
from adapters.slack.flow import Flow
from adapters.slack.handlers import Commands
from adapters.slack.home import Home
from adapters.slack.installs import SlackStores
from adapters.slack.interactions import Interactions
from adapters.slack.references import References
from adapters.slack.reply import PLATFORM, SlackHook
from adapters.slack.settings_modal import SettingsModal
from adapters.slack.sources import Sources
from adapters.slack.workspaces import DEFAULT_API_URL, InstalledTokens, StaticTokens, Workspaces, web_client
from core.settings import Settings
from core.studio import Studio

log = logging.getLogger(__name__)


class SdkNotices(logging.Filter):
    """What Bolt and slack_sdk log on our logger, said for an operator.

    Bolt reads SLACK_BOT_TOKEN from the environment and warns that our client wins (it is meant to):
    dropped. A lost Socket Mode connection is retried by slack_sdk every ten seconds with a traceback:
    one warning with a hint instead (the traceback stays for ``-v``).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "`token` will be unused" in message:
            return False
        if message.startswith("Failed to connect (error: "):
            reason = message.removeprefix("Failed to connect (error: ").rsplit("); Retrying", 1)[0]
            record.msg = ("Slack: Socket Mode connection failed (%s); check the network (or STUDIOBOT_SLACK_API_URL). "
                          "Retrying in 10 s.")
            record.args = (reason.split("[", 1)[0].strip()[:120],)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


log.addFilter(SdkNotices())

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# what an OAuth install asks for: keep in step with manifest.yml (tests/adapters/slack/test_manifest.py)
BOT_SCOPES = ("commands", "chat:write", "files:write", "files:read", "app_mentions:read", "channels:history",
              "groups:history", "im:history", "users:read")


class SlackAdapter:
    """What ``studiobot run`` serves for Slack; ``start``/``stop`` let tests run it beside a fake Slack."""

    name = PLATFORM

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base_url = settings.slack_api_url or DEFAULT_API_URL
        self.api = web_client(self.base_url)  # token-less: OAuth exchanges, rotation, Socket Mode's connection
        self.stores: SlackStores | None = None
        if settings.slack_oauth:
            assert settings.slack_client_id is not None and settings.slack_client_secret is not None
            if settings.slack_signing_secret is None:
                raise ValueError("Installing into many workspaces needs SLACK_SIGNING_SECRET too")
            secret = settings.slack_client_secret.get_secret_value()
            self.stores = SlackStores(settings.database_url_value, settings.journal_path, settings.slack_client_id,
                                      secret)
            rotator = AsyncTokenRotator(client_id=settings.slack_client_id, client_secret=secret, client=self.api)
            self.workspaces = Workspaces(InstalledTokens(self.stores.installations, rotator), self.base_url)
        elif settings.slack_bot_token is not None:
            self.bot_token = settings.slack_bot_token.get_secret_value()
            self.workspaces = Workspaces(StaticTokens(self.bot_token), self.base_url, single=True)
        else:
            raise ValueError("SLACK_BOT_TOKEN is not set (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth)")
        self._hook = SlackHook(self.workspaces)
        self.app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        secret_value = settings.slack_signing_secret
        self.signing_secret = secret_value.get_secret_value() if secret_value else ""
        self.port = settings.slack_port
        self.sources = Sources(settings.media_hosts, max_bytes=settings.max_input_bytes,
                               timeout_s=settings.download_timeout_s)
        self.app: AsyncApp | None = None
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._delivering = False

    @property
    def hook(self) -> SlackHook:
        return self._hook

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @property
    def oauth(self) -> bool:
        return self.stores is not None

    def bolt(self, studio: Studio) -> AsyncApp:
        """The Bolt app with every listener; nothing answers Slack until ``start``."""
        if not self.socket_mode and not self.signing_secret:
            raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)")
        if self.stores is not None:
            app = self._oauth_app(self.stores)
        else:
            app = AsyncApp(client=web_client(self.base_url, self.bot_token), signing_secret=self.signing_secret,
                           logger=log)
        flow = Flow(studio, self.workspaces, self.sources)
        references = References(flow)
        Commands(flow, references).register(app)
        Interactions(flow).register(app)
        references.register(app)
        Blends(flow).register(app)
        CreativeButtons(flow).register(app)
        self._hook.limits = studio.provider.limits
        Home(flow).register(app)
        SettingsModal(flow).register(app)
        errors.register(app, flow)
        return app

    def _oauth_app(self, stores: SlackStores) -> AsyncApp:
        s = self.settings
        assert s.slack_client_id is not None and s.slack_client_secret is not None
        secret = s.slack_client_secret.get_secret_value()
        store = stores.installations
        # Bolt's default authorize would rotate tokens against slack.com; this one uses our client, and
        # caches auth.test per token instead of calling it on every request.
        authorize = AsyncInstallationStoreAuthorize(
            logger=log, installation_store=store, client_id=s.slack_client_id, client_secret=secret,
            cache_enabled=True, client=self.api)
        oauth = AsyncOAuthSettings(
            client_id=s.slack_client_id, client_secret=secret, scopes=list(BOT_SCOPES),
            redirect_uri=s.slack_redirect_uri, install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH,
            installation_store=store, state_store=stores.states, logger=log)
        app = AsyncApp(client=self.api, signing_secret=self.signing_secret, logger=log,
                       authorize=authorize,  # type: ignore[arg-type]  # Bolt accepts an AsyncAuthorize too
                       installation_store=store, oauth_settings=oauth)
        app.enable_token_revocation_listeners()  # app_uninstalled / tokens_revoked delete the installation
        return app

    async def ready(self) -> bool:
        """Serving now (``/readyz``): the Socket Mode connection is up, or the HTTP endpoint listens; delivering
        only, once the Web API accepted the token."""
        if self._delivering:
            return True
        if self._socket is not None:
            return bool(await self._socket.client.is_connected())
        return self._runner is not None

    async def start(self, studio: Studio, *, host: str = "0.0.0.0", port: int | None = None) -> str:  # noqa: S104
        """Connect (Socket Mode) and/or listen (HTTP, and OAuth's pages); returns where, for the console."""
        if self.app is not None:
            raise RuntimeError("the Slack adapter is already running")
        bot_token = None if self.oauth else self.bot_token  # OAuth: each workspace's token comes later
        await until_reachable("Slack", lambda: slack_probe(self.base_url, bot_token, self.app_token),
                              hint="check the network (or STUDIOBOT_SLACK_API_URL)")
        self.app = app = self.bolt(studio)
        where = []
        if self.app_token is not None:
            self._socket = AsyncSocketModeHandler(app, self.app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            where.append("connected over Socket Mode")
        if self.app_token is None or self.oauth:
            self._runner = web.AppRunner(app.web_app(path=EVENTS_PATH), access_log=None, handle_signals=False,
                                         shutdown_timeout=2.0)
            await self._runner.setup()
            await web.TCPSite(self._runner, host, self.port if port is None else port).start()
            bound = next(a[1] for a in self._runner.addresses if isinstance(a, tuple))
            shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
            base = f"http://{shown}:{bound}"
            where.append(f"{base}{EVENTS_PATH}" if self.app_token is None else "")
            if self.oauth:
                where.append(f"install at {base}{INSTALL_PATH}")
        return ", ".join(w for w in where if w)

    @property
    def http_base(self) -> str | None:
        """The local HTTP server's base URL (tests), when one is listening."""
        if self._runner is None:
            return None
        bound = next(a for a in self._runner.addresses if isinstance(a, tuple))
        return f"http://127.0.0.1:{bound[1]}"

    async def stop(self) -> None:
        socket, self._socket = self._socket, None
        runner, self._runner = self._runner, None
        self.app = None
        if socket is not None:
            await socket.close_async()  # type: ignore[no-untyped-call]
        if runner is not None:
            await runner.cleanup()
        await self.sources.close()
        if self.stores is not None:
            await self.stores.close()

    @asynccontextmanager
    async def delivering(self, studio: Studio) -> AsyncIterator[None]:
        """Post results through the Web API only (a worker): each workspace's bot token, from SLACK_BOT_TOKEN or
        the installation store, and no Socket Mode connection or HTTP listener, so this process takes no events."""
        bot_token = None if self.oauth else self.bot_token
        await until_reachable("Slack", lambda: slack_probe(self.base_url, bot_token, None),
                              hint="check the network (or STUDIOBOT_SLACK_API_URL)")
        self._hook.limits = studio.provider.limits
        self._delivering = True
        try:
            yield
        finally:
            self._delivering = False
            await self.sources.close()
            if self.stores is not None:
                await self.stores.close()

    async def serve(self, studio: Studio, *, on_ready: Callable[[str], None] | None = None) -> None:
        """Run until cancelled (one task in the bots' TaskGroup)."""
        try:
            where = await self.start(studio)
            if on_ready is not None:
                on_ready(where)
            await asyncio.Event().wait()
        finally:
            await asyncio.shield(self.stop())
