"""Per-user request limits, so one member cannot monopolise a community's quota."""

from __future__ import annotations

from collections import OrderedDict

from aiolimiter import AsyncLimiter

from core.errors import RateLimited
from core.requests import Requester

MAX_TRACKED = 10_000


class UserLimits:
    """A leaky bucket per (platform, user); refusing is instant, never a wait on the event loop."""

    def __init__(self, per_minute: int, *, exempt: tuple[str, ...] = ()) -> None:
        self.per_minute = per_minute
        self.exempt = exempt
        self._buckets: OrderedDict[tuple[str, str], AsyncLimiter] = OrderedDict()

    async def admit(self, requester: Requester, cost: int = 1) -> None:
        """``cost``: how many images or clips the request makes (each grid candidate counts)."""
        if self.per_minute <= 0 or requester.platform in self.exempt:
            return
        key = (requester.platform, requester.user_id)
        bucket = self._buckets.pop(key, None) or AsyncLimiter(self.per_minute, 60)
        self._buckets[key] = bucket
        if len(self._buckets) > MAX_TRACKED:
            self._buckets.popitem(last=False)
        cost = max(1, min(cost, self.per_minute))
        if not bucket.has_capacity(cost):
            raise RateLimited(60 / self.per_minute,
                              f"You've made {self.per_minute} requests in the last minute. "
                              f"Try again in about {max(1, round(60 / self.per_minute))} s.")
        await bucket.acquire(cost)
