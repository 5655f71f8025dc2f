"""Retry, Edit and Delete under each result, including after the bot restarts."""

from __future__ import annotations

import asyncio
from typing import Any

from core.requests import EditRequest
from core.settings import Settings
from tests.adapters.discord.conftest import Running, TimedProvider, image_size, running
from tests.fakes.discord import FakeDiscord, silent


def job_id(fake: FakeDiscord, message_id: str) -> str:
    return fake.buttons(message_id)["Retry"].rsplit(":", 1)[-1]


async def test_retry_makes_a_new_result_for_the_same_request(fake: FakeDiscord, bot: Running) -> None:
    first = await fake.result(await fake.slash("imagine", prompt="a blue whale", aspect="16:9"))
    again = await fake.click(first["id"], "Retry")
    assert await fake.responded(again) == 5
    second = await fake.result(again)
    assert second["id"] != first["id"]
    assert job_id(fake, second["id"]) != job_id(fake, first["id"])
    assert "a blue whale" in second["content"] and "16:9" in second["content"]
    assert image_size(fake.file(second["attachments"][0])) == (1344, 768)


async def test_a_stranger_cannot_delete_a_result(fake: FakeDiscord, bot: Running) -> None:
    result = await fake.result(await fake.slash("imagine", prompt="my cat"))
    press = await fake.click(result["id"], "Delete", user=fake.bob)
    assert "Only the person who asked" in await fake.ephemeral(press)
    assert not fake.is_deleted(result["id"])


async def test_the_requester_can_delete_a_result(fake: FakeDiscord, bot: Running) -> None:
    result = await fake.result(await fake.slash("imagine", prompt="my cat"))
    await fake.click(result["id"], "Delete", user=fake.alice)
    await fake.state.wait_for(lambda: fake.is_deleted(result["id"]))


async def test_a_moderator_can_delete_a_result(fake: FakeDiscord, bot: Running) -> None:
    result = await fake.result(await fake.slash("imagine", prompt="something off-topic"))
    await fake.click(result["id"], "Delete", user=fake.mod)
    await fake.state.wait_for(lambda: fake.is_deleted(result["id"]))


async def test_the_edit_button_asks_and_edits_that_result(fake: FakeDiscord, bot: Running) -> None:
    first = await fake.result(await fake.slash("imagine", prompt="a castle", aspect="3:2"))
    opened = await fake.click(first["id"], "Edit")
    modal = await fake.modal(opened)
    assert modal["title"] == "Edit image"
    edited = await fake.result(await fake.submit_modal(opened, "add a dragon"))
    assert "add a dragon" in edited["content"]
    assert image_size(fake.file(edited["attachments"][0])) == (1248, 832)
    child = await bot.studio.job(job_id(fake, edited["id"]))
    assert child is not None and child.parent_id == job_id(fake, first["id"])
    assert isinstance(child.request, EditRequest)


async def test_buttons_work_after_a_restart(fake: FakeDiscord, settings: Settings) -> None:
    async with running(settings):
        old = await fake.result(await fake.slash("speak", text="Remember me.", voice="Charon"))
    assert not fake.gateway.sessions  # the first process is gone
    async with running(settings) as second:
        again = await fake.click(old["id"], "Retry")
        retried = await fake.result(again)
        assert "Charon" in retried["content"]
        assert fake.file(retried["attachments"][0])[:4] == b"OggS"
        press = await fake.click(old["id"], "Delete", user=fake.bob)
        assert "Only the person who asked" in await fake.ephemeral(press)
        await fake.click(old["id"], "Delete", user=fake.alice)
        await fake.state.wait_for(lambda: fake.is_deleted(old["id"]))
        assert second.client.user is not None


async def test_a_job_finished_after_a_restart_is_posted_in_the_channel(fake: FakeDiscord, settings: Settings) -> None:
    held = TimedProvider()
    held.gate = asyncio.Event()  # never opened: the first process stops mid-generation
    async with running(settings, provider=held):
        it = await fake.slash("imagine", prompt="a slow painting")
        await fake.state.wait_for(lambda: held.started)
    async with running(settings):
        def late_result() -> dict[str, Any] | None:
            return next((m for m in fake.state.messages.values() if m["attachments"] and m["author"]["id"] ==
                         fake.state.bot["id"] and not fake.is_deleted(m["id"])), None)
        message = await fake.state.wait_for(late_result)
        await fake.state.wait_for(lambda: fake.is_deleted(it.original_id or ""))  # no "thinking…" left behind
    assert "a slow painting" in message["content"]
    assert set(fake.buttons(message["id"])) == {"Retry", "Edit", "Vary", "Upscale to 2K", "Delete"}
    assert all(silent(p) for p in fake.content_payloads())
