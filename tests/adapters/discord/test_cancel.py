"""Cancel under the progress message: while waiting and while drawing, and nothing is posted after."""

from __future__ import annotations

import asyncio
from typing import Any

from core.jobs.model import JobState
from tests.adapters.discord.conftest import Running
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.state import Interaction


async def _cancel_button(fake: FakeDiscord, it: Interaction, text: str) -> str:
    def probe() -> str | None:
        message = fake.state.messages.get(it.original_id or "")
        if message and text in message["content"] and "Cancel" in fake.buttons(message["id"]):
            return str(message["id"])
        return None
    return await fake.state.wait_for(probe)


def _posted_files(fake: FakeDiscord) -> list[dict[str, Any]]:
    return [m for m in fake.state.messages.values() if m["attachments"] and m["author"]["id"] == fake.state.bot["id"]]


async def test_cancel_while_running_and_while_queued(fake: FakeDiscord, bot: Running) -> None:
    bot.provider.gate = asyncio.Event()
    running = await fake.slash("imagine", prompt="a slow fox")
    waiting = await fake.slash("imagine", prompt="a patient owl")
    queued_id = await _cancel_button(fake, waiting, "Waiting in the queue")
    running_id = await _cancel_button(fake, running, "Drawing")

    assert "Only the person who asked" in await fake.ephemeral(await fake.click(queued_id, "Cancel", user=fake.bob))
    await fake.click(queued_id, "Cancel")
    await fake.click(running_id, "Cancel", user=fake.mod)  # someone who manages messages may too
    assert "cancelled" in await fake.ephemeral(waiting)
    assert "cancelled" in await fake.ephemeral(running)

    bot.provider.gate.set()
    jobs = await bot.studio.recent("discord")
    for job in jobs:
        done = await bot.studio.runner.wait(job.id)
        assert done.state is JobState.CANCELLED
    later = await fake.result(await fake.slash("speak", text="still working"))
    assert _posted_files(fake) == [later]  # nothing from the cancelled jobs, before or after
