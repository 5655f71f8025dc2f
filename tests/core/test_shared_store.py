"""Two front ends on one database (two studios, as two processes would be): one event makes one job, and a
limit is a limit across both. Run on SQLite (one data dir) and on PostgreSQL."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from core.errors import RateLimited
from core.requests import Origin, Requester, SpeakRequest
from core.studio import Studio, open_studio
from tests.core.conftest import make_settings
from tests.fakes.replies import RecordingHook

pytestmark = pytest.mark.usefixtures("each_store")
ADA = Requester("slack", "U1", "Ada")
HERE = Origin("slack", workspace="T1", channel="C1")


async def _two_front_ends(stack: AsyncExitStack, tmp_path: Path, **settings: object) -> list[Studio]:
    return [await stack.enter_async_context(open_studio(make_settings(tmp_path, **settings),
                                                        hooks=(RecordingHook("slack"),)))
            for _ in range(2)]


async def test_one_retried_event_reaching_two_front_ends_makes_one_job(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        a, b = await _two_front_ends(stack, tmp_path)
        same_event = (s.submit(SpeakRequest("hello"), ADA, HERE, dedupe_key="Ev42") for s in (a, b))
        jobs = await asyncio.gather(*same_event)
        assert jobs[0].id == jobs[1].id
        assert len(await a.recent("slack")) == 1
        # generated once: by the front end that took it, or (PostgreSQL) by a worker, heard of by either
        [owner, *_] = [s for s in (a, b) if s.runner.shared or s.runner.lease.owner == jobs[0].owner]
        assert (await owner.outcome(jobs[0].id)).data


async def test_a_per_minute_limit_holds_across_two_front_ends(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        a, b = await _two_front_ends(stack, tmp_path, user_requests_per_minute=3)
        tries = [s.submit(SpeakRequest(f"hello {n}"), ADA, HERE) for n in range(4) for s in (a, b)]
        outcomes = await asyncio.gather(*tries, return_exceptions=True)
        accepted = [o for o in outcomes if not isinstance(o, BaseException)]
        refused = [o for o in outcomes if isinstance(o, RateLimited)]
        assert (len(accepted), len(refused)) == (3, 5), outcomes
