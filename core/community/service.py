"""The community façade the studio and adapters call: settings, admission, costs and usage reports."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.community import model, policy, quotas
from core.community.costs import Prices, TokenUsage, list_prices
from core.community.model import ServerSettings
from core.community.store import CommunityStore, LedgerRow, UsageLine
from core.requests import Origin, Request, Requester
from core.settings import Settings

log = logging.getLogger(__name__)
LOCAL_PLATFORMS = ("cli", "playground")  # one trusted local user: no limits


@dataclass(frozen=True, slots=True)
class Allowance:
    """What a member has used today and what is left (``None`` = unlimited)."""

    requests: int
    cost_usd: float
    requests_left: int | None
    cost_left: float | None
    per_minute: int | None
    resets_at: float


class Community:
    def __init__(self, store: CommunityStore, settings: Settings, *,
                 exempt_platforms: tuple[str, ...] = LOCAL_PLATFORMS) -> None:
        self.store = store
        self.settings = settings
        self.exempt_platforms = exempt_platforms
        self._updates = asyncio.Lock()
        self.speech_prices = Prices(*_prices(settings.price_tts_input_per_mtok, settings.price_tts_output_per_mtok,
                                             list_prices(settings.tts_model, "speech")))
        self.image_prices = Prices(*_prices(settings.price_image_input_per_mtok,
                                            settings.price_image_output_per_mtok,
                                            list_prices(settings.image_model, "image")))

    # -- settings ------------------------------------------------------------------------------------------

    async def server(self, platform: str, workspace: str | None) -> ServerSettings:
        """Read fresh each time: a change made by another process takes effect at once."""
        if not workspace:
            return ServerSettings()
        return model.load(await self.store.get_settings(platform, workspace))

    async def update(self, platform: str, workspace: str,
                     change: Callable[[ServerSettings], ServerSettings]) -> ServerSettings:
        async with self._updates:
            new = change(await self.server(platform, workspace))
            await self.store.put_settings(platform, workspace, model.dump(new))
        log.info("settings of %s server %s changed", platform, workspace)
        return new

    # -- admission -------------------------------------------------------------------------------------------

    async def admit(self, job_id: str, request: Request, requester: Requester, origin: Origin) -> None:
        """The server's rules, then its limits; on success the request is in the ledger (and counts)."""
        server = await self.server(origin.platform, origin.workspace)
        policy.check(server, request, requester, origin)
        now = time.time()
        checks = [] if self.exempt(requester) else quotas.windows(
            quotas.effective(self.settings, server.limits), now, server=bool(origin.workspace))
        row = LedgerRow(job_id, origin.platform, origin.workspace or "", requester.user_id, request.kind, now,
                        policy.units(request))
        breach = await self.store.admit(row, checks)
        if breach is not None:
            raise quotas.refusal(breach, now)

    def exempt(self, requester: Requester) -> bool:
        return requester.admin or requester.platform in self.exempt_platforms

    async def withdraw(self, job_id: str) -> None:
        """A request accepted by the rules but never queued (queue full) does not count."""
        await self.store.forget_request(job_id)

    # -- costs -------------------------------------------------------------------------------------------------

    def cost(self, kind: str, usage: TokenUsage) -> float:
        return (self.speech_prices if kind == "speak" else self.image_prices).cost(usage)

    async def record(self, job_id: str, kind: str, usages: Sequence[TokenUsage]) -> float:
        """Write the job's tokens and estimated cost to its ledger row; offline jobs report none and cost 0."""
        total = 0.0
        for usage in usages:
            cost = self.cost(kind, usage)
            total += cost
            await self.store.record_cost(job_id, usage.model, usage.input_tokens, usage.output_tokens, cost)
        return total

    # -- reports -----------------------------------------------------------------------------------------------

    async def usage(self, *, days: float = 1, by: Sequence[str] = (), platform: str | None = None,
                    workspace: str | None = None, user_id: str | None = None,
                    since: float | None = None) -> list[UsageLine]:
        """Requests, tokens and cost since ``since`` (default: midnight UTC ``days - 1`` days ago)."""
        if since is None:
            since = quotas.day_start(time.time()) - (max(1, days) - 1) * 86_400
        where = {k: v for k, v in (("platform", platform), ("workspace", workspace), ("user_id", user_id))
                 if v is not None}
        return await self.store.summary(since, by, where)

    async def allowance(self, requester: Requester, workspace: str | None) -> Allowance:
        """A member's use today against their daily limits."""
        now = time.time()
        server = await self.server(requester.platform, workspace)
        limits = quotas.effective(self.settings, server.limits)
        lines = await self.usage(platform=requester.platform, user_id=requester.user_id,
                                 since=quotas.day_start(now))
        used = lines[0] if lines else UsageLine({}, 0, 0.0, 0, 0, 0)
        exempt = self.exempt(requester)
        return Allowance(
            requests=used.requests, cost_usd=used.cost_usd,
            requests_left=None if exempt or not limits.user_per_day else max(0, limits.user_per_day - used.units),
            cost_left=None if exempt or not limits.user_cost_per_day
            else max(0.0, limits.user_cost_per_day - used.cost_usd),
            per_minute=None if exempt or not limits.user_per_minute else limits.user_per_minute,
            resets_at=quotas.next_day(now),
        )


def _prices(given_in: float | None, given_out: float | None, listed: Prices) -> tuple[float, float]:
    return (listed.input_per_mtok if given_in is None else given_in,
            listed.output_per_mtok if given_out is None else given_out)
