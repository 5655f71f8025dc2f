"""Which bot token speaks for which workspace: one ``SLACK_BOT_TOKEN``, or every OAuth installation.

Deliveries outlive requests (a restart, a long queue), so they cannot borrow the token Bolt put in a
listener's context. Each workspace gets a ``WorkspaceClient`` that looks its token up before every
call, rotating it first when it is about to expire, so a result posted hours later still gets through.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol
from urllib.parse import urlsplit

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
ROTATE_BEFORE_MIN = 120


def web_client(base_url: str, token: str | None = None) -> AsyncWebClient:
    """A Web API client that also retries Slack's 429s (twice), not only dropped connections."""
    return AsyncWebClient(token=token, base_url=base_url, retry_handlers=_retry_handlers())


CREATES = ("chat.postMessage", "files.completeUploadExternal", "chat.postEphemeral")


class ReadsOnlyRetryHandler(AsyncConnectionErrorRetryHandler):
    """The SDK retries a dropped connection by itself only for calls that create nothing: a message that was
    stored before the drop would be posted twice. Creating calls go back to the studio's delivery, which
    asks Slack what already landed (``reconcile``) before it tries again."""

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                               error: Exception | None = None) -> bool:
        path = urlsplit(request.url).path
        if path.endswith(CREATES):
            return False
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


def _retry_handlers() -> list[AsyncRetryHandler]:
    return [ReadsOnlyRetryHandler(), AsyncRateLimitErrorRetryHandler(max_retry_count=2)]


class Tokens(Protocol):
    async def bot_token(self, team: str | None) -> str | None: ...


class StaticTokens:
    """Single-workspace mode: ``SLACK_BOT_TOKEN`` for everything."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def bot_token(self, team: str | None) -> str | None:
        return self._token


class InstalledTokens:
    """Many workspaces: the installation's bot token, refreshed through ``oauth.v2.access`` near expiry."""

    def __init__(self, store: AsyncInstallationStore, rotator: AsyncTokenRotator) -> None:
        self.store = store
        self.rotator = rotator

    async def bot_token(self, team: str | None) -> str | None:
        bot = await self.store.async_find_bot(enterprise_id=None, team_id=team)
        if bot is None:
            return None
        if bot.bot_refresh_token is not None:
            fresh = await self.rotator.perform_bot_token_rotation(bot=bot,
                                                                 minutes_before_expiration=ROTATE_BEFORE_MIN)
            if fresh is not None:
                await self.store.async_save_bot(fresh)
                bot = fresh
        return bot.bot_token


class WorkspaceClient(AsyncWebClient):
    """An ``AsyncWebClient`` bound to one workspace; its token is resolved per call, never stored by us."""

    def __init__(self, team: str | None, tokens: Tokens, base_url: str) -> None:
        super().__init__(base_url=base_url, retry_handlers=_retry_handlers())
        self.team = team
        self._tokens = tokens

    async def fresh_token(self) -> str:
        """The token to use now ("" when the workspace uninstalled us: Slack then answers not_authed)."""
        return await self._tokens.bot_token(self.team) or ""

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        self.token = await self.fresh_token()  # same for every caller of this client, so no race
        return await super().api_call(api_method, **kwargs)


class Workspaces:
    """One client per workspace, made on first use (one for all with a single token)."""

    def __init__(self, tokens: Tokens, base_url: str, *, single: bool = False) -> None:
        self.tokens = tokens
        self.base_url = base_url
        self.single = single
        self._clients: dict[str | None, WorkspaceClient] = {}

    def client(self, team: str | None) -> WorkspaceClient:
        team = None if self.single else team
        if (client := self._clients.get(team)) is None:
            client = self._clients[team] = WorkspaceClient(team, self.tokens, self.base_url)
        return client
