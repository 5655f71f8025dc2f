"""Editing pictures already in the channel: the message menu, and replies that mention the bot (chained)."""

from __future__ import annotations

from pathlib import Path

from tests.adapters.discord.conftest import Running, image_size, make_settings, png, running
from tests.fakes.discord import FakeDiscord


def job_id(fake: FakeDiscord, message_id: str) -> str:
    return fake.buttons(message_id)["Retry"].rsplit(":", 1)[-1]


async def test_the_edit_image_menu_asks_then_replies_to_that_message(fake: FakeDiscord, bot: Running) -> None:
    photo = await fake.say("look at my garden", user=fake.bob,
                           attachments=(fake.upload("garden.png", png(500, 250), "image/png"),))
    opened = await fake.message_command("Edit image", photo["id"])
    submitted = await fake.submit_modal(opened, "add a rainbow")
    assert await fake.responded(submitted) == 5
    edited = await fake.reply_to(photo["id"])
    assert "add a rainbow" in edited["content"]
    assert image_size(fake.file(edited["attachments"][0])) == (500, 250)
    await fake.state.wait_for(lambda: fake.is_deleted(submitted.original_id or ""))  # no stray "thinking…"


async def test_the_edit_image_menu_on_a_message_without_a_picture(fake: FakeDiscord, bot: Running) -> None:
    words = await fake.say("no pictures here", user=fake.bob)
    opened = await fake.message_command("Edit image", words["id"])
    assert "no image" in await fake.ephemeral(opened)


async def test_a_reply_mentioning_the_bot_edits_its_result_and_edits_chain(fake: FakeDiscord, bot: Running) -> None:
    first = await fake.result(await fake.slash("imagine", prompt="a quiet street", aspect="4:3"))
    ask = await fake.say("make it night", reply_to=first["id"], mention_bot=True)
    night = await fake.reply_to(ask["id"])
    assert "make it night" in night["content"]
    assert image_size(fake.file(night["attachments"][0])) == (1184, 864)
    ask_again = await fake.say("add falling snow", reply_to=night["id"], mention_bot=True, user=fake.bob)
    snowy = await fake.reply_to(ask_again["id"])
    assert "add falling snow" in snowy["content"] and f"<@{fake.bob['id']}>" in snowy["content"]
    night_job = await bot.studio.job(job_id(fake, night["id"]))
    snow_job = await bot.studio.job(job_id(fake, snowy["id"]))
    assert night_job is not None and night_job.parent_id == job_id(fake, first["id"])
    assert snow_job is not None and snow_job.parent_id == night_job.id


async def test_a_reply_to_someone_elses_picture_points_to_the_menu(fake: FakeDiscord, bot: Running) -> None:
    photo = await fake.say("my dog", user=fake.bob, attachments=(fake.upload("dog.png", png(), "image/png"),))
    ask = await fake.say("give him a hat", reply_to=photo["id"], mention_bot=True)
    hint = await fake.reply_to(ask["id"], with_file=False)
    assert "Edit image" in hint["content"]


async def test_with_the_content_intent_any_picture_can_be_edited_by_reply(tmp_path: Path, fake: FakeDiscord) -> None:
    async with running(make_settings(tmp_path, fake, discord_message_content=True)):
        photo = await fake.say("my dog", user=fake.bob, attachments=(fake.upload("dog.png", png(), "image/png"),))
        ask = await fake.say("give him a hat", reply_to=photo["id"], mention_bot=True)
        edited = await fake.reply_to(ask["id"])
    assert "give him a hat" in edited["content"]
    assert image_size(fake.file(edited["attachments"][0])) == (320, 240)


async def test_a_reply_without_an_instruction_gets_a_hint(fake: FakeDiscord, bot: Running) -> None:
    first = await fake.result(await fake.slash("imagine", prompt="a boat"))
    ask = await fake.say("", reply_to=first["id"], mention_bot=True)
    hint = await fake.reply_to(ask["id"], with_file=False)
    assert "say what to change" in hint["content"]


async def test_a_message_that_does_not_mention_the_bot_is_ignored(fake: FakeDiscord, bot: Running) -> None:
    first = await fake.result(await fake.slash("imagine", prompt="a boat"))
    before = len(fake.state.calls)
    await fake.say("nice boat", reply_to=first["id"])
    await fake.settle()
    assert len(fake.state.calls) == before
