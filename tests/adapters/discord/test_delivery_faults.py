"""A result post that meets a platform fault still ends as exactly one result, with no false error."""

from __future__ import annotations

from typing import Any

import pytest

from core.jobs.model import Delivery
from core.requests import ImagineRequest, Origin, Requester
from tests.adapters.discord.conftest import Running
from tests.fakes.discord import FakeDiscord
from tests.waiting import until

ORIGINAL = r"/webhooks/\d+/[^/]+/messages/@original$"
CHANNEL_MESSAGES = r"/channels/\d+/messages"
FAULTS: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "500 on the result edit": ("status", "PATCH", ORIGINAL, {"status": 500}),
    "429 on the result edit": ("status", "PATCH", ORIGINAL, {"status": 429, "retry_after": 0.3}),
    "dropped before Discord stored the edit": ("drop_before", "PATCH", ORIGINAL, {}),
    "dropped after Discord stored the edit": ("drop_after", "PATCH", ORIGINAL, {}),
}


def bot_messages_with_files(fake: FakeDiscord) -> list[dict[str, Any]]:
    bot = fake.state.bot["id"]
    return [m for m in fake.state.messages.values()
            if m["author"]["id"] == bot and m["attachments"] and not fake.is_deleted(m["id"])]


async def settled(bot: Running) -> Any:
    async def final() -> Any:
        jobs = await bot.studio.recent("discord")
        return jobs if jobs and all(j.state.terminal and j.delivery.final for j in jobs) else None

    return await until(final, "not delivered")


@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
async def test_one_fault_on_the_result_post_still_gives_exactly_one_result(fake: FakeDiscord, bot: Running,
                                                                           fault: str) -> None:
    kind, method, path, options = FAULTS[fault]
    armed = fake.faults.arm(kind, method, path, **options)
    it = await fake.slash("imagine", prompt="a lighthouse")
    shown = await fake.result(it)
    [job] = await settled(bot)
    assert armed.hits == 1
    assert job.delivery is Delivery.DELIVERED and job.delivered_ref == shown["id"]
    assert [m["id"] for m in bot_messages_with_files(fake)] == [shown["id"]]
    assert not it.followups  # no "couldn't post" note beside the result


async def test_a_channel_post_dropped_after_discord_stored_it_is_found_not_posted_again(
        fake: FakeDiscord, bot: Running) -> None:
    """A job with no live interaction (as after a restart) posts in the channel, keyed by a nonce."""
    armed = fake.faults.arm("drop_after", "POST", CHANNEL_MESSAGES + "$")
    origin = Origin("discord", workspace=fake.state.guild_id, channel=fake.state.channel_id)
    job = await bot.studio.submit(ImagineRequest("a lighthouse"), Requester("discord", fake.alice["id"]), origin)
    [done] = await settled(bot)
    assert armed.hits == 1
    [shown] = bot_messages_with_files(fake)
    assert done.delivery is Delivery.DELIVERED and done.delivered_ref == shown["id"]
    assert [a[0] for a in await bot.studio.journal.attempts_of(job.id)] == ["retry", "reconciled"]
    [create] = [c for c in fake.state.calls if c.method == "POST" and c.path.endswith("/messages")]
    assert create.body is not None and create.body["enforce_nonce"] is True and job.id in create.body["nonce"]
