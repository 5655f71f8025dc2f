"""``GET /api/usage``: the playground's usage panel (today and the last 30 days, by kind, with estimated cost).

The playground is one trusted local user, so no limit applies to it; the panel shows what generating
here has cost, from the same ledger ``studiobot usage`` and ``/usage`` read.
"""

from __future__ import annotations

from aiohttp import web

from core.community.reports import money
from core.studio import Studio

PLATFORM = "playground"


async def _lines(studio: Studio, days: int) -> list[dict[str, object]]:
    lines = await studio.community.usage(days=days, by=("kind",), platform=PLATFORM)
    return [{"kind": line.key["kind"], "requests": line.requests, "generations": line.units,
             "tokens_in": line.input_tokens, "tokens_out": line.output_tokens, "cost": money(line.cost_usd),
             "cost_usd": line.cost_usd} for line in lines]


def add_to(app: web.Application, studio: Studio) -> None:
    async def usage(request: web.Request) -> web.Response:
        today, month = await _lines(studio, 1), await _lines(studio, 30)
        total = sum(float(str(line["cost_usd"])) for line in today)
        return web.json_response({"today": today, "last_30_days": month, "today_cost": money(total),
                                  "offline": studio.offline})

    app.router.add_get("/api/usage", usage)
