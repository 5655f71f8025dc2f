"""The operator's endpoint beside a real bot: /metrics counts what ran, /readyz follows the platform."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.ops import OpsServer
from tests.adapters.discord.conftest import Running
from tests.fakes.discord import FakeDiscord


@asynccontextmanager
async def ops_for(bot: Running) -> AsyncIterator[str]:
    ops = OpsServer(bot.studio, {"discord": bot.adapter.ready})
    await ops.start("127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{ops.port}"
    finally:
        await ops.stop()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_count_the_jobs_that_ran(fake: FakeDiscord, bot: Running) -> None:
    for text in ("one", "two"):
        await fake.result(await fake.slash("speak", text=text))
    await fake.result(await fake.slash("imagine", prompt="a fox"))
    await fake.ephemeral(await fake.slash("imagine", prompt="   "))  # refused: nothing to draw
    async with ops_for(bot) as base, aiohttp.ClientSession() as http:
        async with http.get(base + "/metrics") as resp:
            assert resp.status == 200
            found = samples(await resp.text())
        async with http.get(base + "/healthz") as resp:
            assert resp.status == 200
    jobs = await bot.studio.recent("discord")
    assert found[("studiobot_jobs", (("kind", "speak"), ("state", "done")))] == 2
    assert found[("studiobot_jobs", (("kind", "imagine"), ("state", "done")))] == 1
    assert sum(v for (name, _), v in found.items() if name == "studiobot_jobs") == len(jobs)
    assert found[("studiobot_deliveries", (("outcome", "delivered"),))] == 3
    assert found[("studiobot_refusals_total", (("reason", "invalid_input"),))] == 1
    assert found[("studiobot_queue_wait_seconds_count", (("pool", "speech"),))] == 2
    assert found[("studiobot_provider_seconds_count", (("kind", "imagine"), ("outcome", "ok")))] == 1
    assert found[("studiobot_estimated_spend_usd", (("kind", "speak"),))] == 0.0  # offline costs nothing


async def test_readyz_fails_while_the_platform_is_down(fake: FakeDiscord, bot: Running) -> None:
    async with ops_for(bot) as base, aiohttp.ClientSession() as http:
        async with http.get(base + "/readyz") as resp:
            assert resp.status == 200 and (await resp.json())["discord"] == "ok"
        await fake.stop()

        async def status() -> int:
            async with http.get(base + "/readyz") as resp:
                return resp.status

        for _ in range(100):  # discord.py notices the closed gateway at once; allow it a few moments
            if await status() == 503:
                break
            await fake.settle(0.05)
        async with http.get(base + "/readyz") as resp:
            body = await resp.json()
            assert resp.status == 503 and body["discord"] == "down" and body["journal"] == "ok"


async def test_an_unexpected_error_becomes_a_friendly_note_and_a_log_line(
        fake: FakeDiscord, bot: Running, caplog: pytest.LogCaptureFixture) -> None:
    db = bot.studio.community.store.db  # type: ignore[attr-defined]
    await db.execute("ALTER TABLE usage RENAME TO usage_away")  # a fault in the database, not in our code
    text = await fake.ephemeral(await fake.slash("usage"))
    assert "Something went wrong on our side" in text
    assert any("/usage failed (interaction" in r.getMessage() for r in caplog.records)
    await db.execute("ALTER TABLE usage_away RENAME TO usage")
