"""Per-minute rate limits and daily quotas, per member and per server, in requests and estimated cost.

Counted in the journal database (the ``usage`` ledger), so limits hold across restarts and processes.
Minute windows slide; days run from midnight UTC. Admins and local platforms are exempt.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from core.community.model import Limits
from core.community.store import Breach, Window
from core.errors import QuotaExceeded
from core.settings import Settings

MINUTE = 60.0


def day_start(now: float) -> float:
    day = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day.timestamp()


def next_day(now: float) -> float:
    return (datetime.fromtimestamp(day_start(now), UTC) + timedelta(days=1)).timestamp()


def effective(settings: Settings, limits: Limits) -> Limits:
    """The server's overrides over the operator's defaults."""
    def pick(own: float | None, default: float) -> float:
        return default if own is None else own

    return Limits(
        user_per_minute=int(pick(limits.user_per_minute, settings.user_requests_per_minute)),
        server_per_minute=int(pick(limits.server_per_minute, settings.server_requests_per_minute)),
        user_per_day=int(pick(limits.user_per_day, settings.user_requests_per_day)),
        server_per_day=int(pick(limits.server_per_day, settings.server_requests_per_day)),
        user_cost_per_day=pick(limits.user_cost_per_day, settings.user_cost_per_day),
        server_cost_per_day=pick(limits.server_cost_per_day, settings.server_cost_per_day),
    )


def windows(limits: Limits, now: float, *, server: bool) -> list[Window]:
    """The checks to make, tightest first; server windows only where there is a server."""
    today = day_start(now)
    wanted = [
        Window("user_per_minute", "user", "requests", limits.user_per_minute or 0, now - MINUTE, slides=True),
        Window("server_per_minute", "server", "requests", limits.server_per_minute or 0, now - MINUTE, slides=True),
        Window("user_per_day", "user", "requests", limits.user_per_day or 0, today),
        Window("server_per_day", "server", "requests", limits.server_per_day or 0, today),
        Window("user_cost_per_day", "user", "cost", limits.user_cost_per_day or 0, today),
        Window("server_cost_per_day", "server", "cost", limits.server_cost_per_day or 0, today),
    ]
    return [w for w in wanted if w.limit > 0 and (server or w.scope == "user")]


def refusal(breach: Breach, now: float) -> QuotaExceeded:
    """Name the limit and when it frees up (``{when}`` is filled in each platform's date syntax)."""
    w = breach.window
    whose = "You've" if w.scope == "user" else "This server has"
    if w.name.endswith("per_minute"):
        # a slot frees when the request that pushed the window to its limit leaves it
        free = len(breach.oldest) + breach.wanted - int(w.limit)  # generations that must leave the window
        reset = breach.oldest[min(len(breach.oldest), max(1, free)) - 1] + MINUTE
        text = f"{whose} made {int(w.limit)} requests in the last minute, the limit. Try again {{when}}."
        if breach.wanted > 1 and len(breach.oldest) < w.limit:
            text = (f"That makes {breach.wanted} images, and {whose.lower()} {int(w.limit) - len(breach.oldest)} of "
                    f"{int(w.limit)} requests left this minute. Ask for fewer, or try again {{when}}.")
    elif w.measure == "requests":
        reset = next_day(now)
        text = f"{whose} used today's {int(w.limit)} requests. The limit resets {{when}}."
        if breach.wanted > 1 and breach.used < w.limit:
            text = (f"That makes {breach.wanted} images, more than the {int(w.limit - breach.used)} requests "
                    f"left today. Ask for fewer, or wait until the limit resets {{when}}.")
    else:
        reset = next_day(now)
        budget = "Your" if w.scope == "user" else "This server's"
        text = f"{budget} daily budget of ${w.limit:.2f} is used up. It resets {{when}}."
    return QuotaExceeded(w.name, text, max(reset, now + 1))


def now() -> float:
    return time.time()
