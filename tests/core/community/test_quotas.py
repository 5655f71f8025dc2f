"""Limits in requests and estimated cost, per member and per server, kept in the journal database."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from core.community.model import Limits
from core.community.quotas import next_day
from core.errors import QuotaExceeded
from core.requests import ImagineRequest, Origin, Requester, SpeakRequest
from core.studio import open_studio
from emulator.app import Emulator
from emulator.wire import IMAGE_TOKENS
from tests.core.conftest import gemini_settings, make_settings

pytestmark = pytest.mark.usefixtures("each_store")

ORIGIN = Origin("test", workspace="guild1", channel="c1")
ADA = Requester("test", "ada", "Ada")
BOB = Requester("test", "bob", "Bob")


async def test_a_daily_quota_refuses_with_the_reset_time_and_still_after_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, user_requests_per_day=2)
    async with open_studio(settings) as studio:
        for _ in range(2):
            await studio.submit(SpeakRequest("hi"), ADA, ORIGIN)
        with pytest.raises(QuotaExceeded) as refused:
            await studio.submit(SpeakRequest("hi"), ADA, ORIGIN)
        await studio.submit(SpeakRequest("hi"), BOB, ORIGIN)  # the limit is per member
    assert refused.value.limit == "user_per_day"
    assert abs(refused.value.reset_at - next_day(time.time())) < 2
    assert "today's 2 requests" in refused.value.user_message
    assert refused.value.render(lambda at: f"<t:{int(at)}:R>").endswith(f"<t:{int(next_day(time.time()))}:R>.")

    async with open_studio(settings) as studio:  # a restart forgets nothing
        with pytest.raises(QuotaExceeded, match="today's 2 requests"):
            await studio.submit(SpeakRequest("hi"), ADA, ORIGIN)


async def test_two_processes_share_one_count(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, server_requests_per_minute=3)
    async with open_studio(settings) as first, open_studio(settings, resume=False) as second:
        await first.submit(SpeakRequest("hi"), ADA, ORIGIN)
        await second.submit(SpeakRequest("hi"), BOB, ORIGIN)
        await first.submit(SpeakRequest("hi"), BOB, ORIGIN)
        with pytest.raises(QuotaExceeded, match="This server has made 3 requests in the last minute") as refused:
            await second.submit(SpeakRequest("hi"), Requester("test", "cy"), ORIGIN)
    assert time.time() + 50 < refused.value.reset_at <= time.time() + 60


async def test_admins_and_other_servers_are_not_limited(tmp_path: Path) -> None:
    async with open_studio(make_settings(tmp_path, user_requests_per_minute=1)) as studio:
        await studio.community.update("test", "guild2", lambda s: dataclasses.replace(s, limits=Limits(
            user_per_minute=0)))
        boss = Requester("test", "boss", admin=True)
        for _ in range(3):
            await studio.submit(SpeakRequest("hi"), boss, ORIGIN)
            await studio.submit(SpeakRequest("hi"), ADA, dataclasses.replace(ORIGIN, workspace="guild2"))
        await studio.submit(SpeakRequest("hi"), BOB, ORIGIN)
        with pytest.raises(QuotaExceeded):
            await studio.submit(SpeakRequest("hi"), BOB, ORIGIN)


async def test_cost_is_recorded_per_job_from_the_providers_usage(tmp_path: Path, emulator: Emulator) -> None:
    settings = gemini_settings(tmp_path, emulator, price_image_input_per_mtok=2.0)
    async with open_studio(settings) as studio:
        prompt = "a lighthouse at dusk, oil painting"
        job = await studio.submit(ImagineRequest(prompt), ADA, ORIGIN)
        await studio.outcome(job.id)
        (line,) = await studio.community.usage(by=("kind",))
    assert (line.requests, line.input_tokens, line.output_tokens) == (1, 1 + len(prompt) // 4, IMAGE_TOKENS)
    # input at the configured $2/M, output at the list price of gemini-3.1-flash-image ($60/M)
    assert line.cost_usd == pytest.approx((line.input_tokens * 2.0 + IMAGE_TOKENS * 60.0) / 1e6)


async def test_streamed_speech_is_billed_once_from_its_last_chunk(tmp_path: Path, emulator: Emulator) -> None:
    async with open_studio(gemini_settings(tmp_path, emulator)) as studio:
        job = await studio.submit(SpeakRequest("Streamed speech is billed too."), ADA, ORIGIN)
        await studio.outcome(job.id)
        (line,) = await studio.community.usage(by=("kind",))
    assert line.requests == 1 and line.output_tokens == round(emulator.spoken[0] * 25)  # usage of the last chunk


async def test_offline_costs_nothing(tmp_path: Path) -> None:
    async with open_studio(make_settings(tmp_path)) as studio:
        job = await studio.submit(ImagineRequest("a cat"), ADA, ORIGIN)
        await studio.outcome(job.id)
        (line,) = await studio.community.usage()
    assert (line.requests, line.cost_usd, line.output_tokens) == (1, 0.0, 0)


async def test_a_daily_budget_refuses_once_spent(tmp_path: Path, emulator: Emulator) -> None:
    async with open_studio(gemini_settings(tmp_path, emulator, server_cost_per_day=0.05)) as studio:
        job = await studio.submit(ImagineRequest("a cat"), ADA, ORIGIN)  # about $0.067
        await studio.outcome(job.id)
        with pytest.raises(QuotaExceeded, match=r"This server's daily budget of \$0.05 is used up"):
            await studio.submit(ImagineRequest("a dog"), BOB, ORIGIN)
        allowance = await studio.community.allowance(ADA, "guild1")
    assert allowance.requests == 1 and allowance.cost_usd > 0.05


async def test_each_grid_candidate_counts_against_the_limit(tmp_path: Path) -> None:
    async with open_studio(make_settings(tmp_path, user_requests_per_day=5)) as studio:
        await studio.submit(ImagineRequest("a fox", count=4), ADA, ORIGIN)
        with pytest.raises(QuotaExceeded, match="That makes 2 images, more than the 1 requests left today"):
            await studio.submit(ImagineRequest("a fox", count=2), ADA, ORIGIN)
        await studio.submit(SpeakRequest("one more"), ADA, ORIGIN)
        allowance = await studio.community.allowance(ADA, "guild1")
    assert (allowance.requests, allowance.requests_left) == (2, 0)
