"""What goes wrong, said plainly and only to the person who asked; and no prompt can ping anyone."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from emulator.app import Emulator
from emulator.faults import Fault
from tests.adapters.discord.conftest import Running, make_settings, png, running
from tests.fakes.discord import EPHEMERAL, FakeDiscord, pings_everyone, silent


async def test_text_over_the_limit_is_refused_with_the_limit(fake: FakeDiscord, tmp_path: Path) -> None:
    async with running(make_settings(tmp_path, fake, max_speech_chars=4000)) as bot:
        it = await fake.slash("speak", text="la " * 1500 + "!")
        text = await fake.ephemeral(it)
        assert "the limit is 4,000" in text and "4,501" in text
        assert fake.is_deleted(it.original_id or "")  # the public "thinking…" is gone
        assert not bot.provider.started


async def test_a_non_image_attachment_is_refused(fake: FakeDiscord, bot: Running) -> None:
    notes = fake.upload("notes.txt", b"just some words", "text/plain")
    it = await fake.slash("imagine", prompt="a cat", image=notes)
    text = await fake.ephemeral(it)
    assert "notes.txt" in text and "isn't an image" in text


async def test_an_image_that_is_not_an_image_inside_is_refused(fake: FakeDiscord, bot: Running) -> None:
    fake_png = fake.upload("cat.png", b"GIF? no, plain bytes", "image/png")
    it = await fake.slash("edit", image=fake_png, instruction="make it blue")
    assert "isn't a picture" in await fake.ephemeral(it)


async def test_an_oversized_attachment_is_refused_before_download(fake: FakeDiscord, bot: Running) -> None:
    big = fake.upload("huge.png", png(), "image/png")
    big.attachment["size"] = 30 * 1024 * 1024
    it = await fake.slash("edit", image=big, instruction="make it blue")
    text = await fake.ephemeral(it)
    assert "30.0 MB" in text and "20 MB" in text


async def test_results_fit_the_upload_limit(fake: FakeDiscord, bot: Running) -> None:
    fake.attachment_size_limit = 40_000
    it = await fake.slash("imagine", prompt="a very detailed city at night", aspect="16:9")
    message = await fake.result(it)
    assert message["attachments"][0]["size"] <= 40_000


async def test_a_prompt_cannot_ping_everyone(fake: FakeDiscord, bot: Running) -> None:
    it = await fake.slash("imagine", prompt=f"@everyone @here <@&{fake.state.guild_id}> <@{fake.bob['id']}> party")
    message = await fake.result(it)
    assert "@\u200beveryone" in message["content"]  # shown, but not even the text is a live mention
    assert "<@" not in message["content"].split(" · for ")[0]
    assert not message["mention_everyone"]
    payloads = fake.content_payloads()
    assert payloads and all(silent(p) for p in payloads)
    assert not any(pings_everyone(m) for m in fake.state.messages.values())


async def test_a_safety_block_is_explained_to_the_requester_only(tmp_path: Path, fake: FakeDiscord,
                                                                 emulator: Emulator) -> None:
    settings = make_settings(tmp_path, fake, gemini_api_key=SecretStr("test-key"), gemini_base_url=emulator.base_url,
                             gemini_retry_base_s=0.01, gemini_timeout_s=5)
    emulator.script(Fault.blocked("PROHIBITED_CONTENT"))
    async with running(settings):
        it = await fake.slash("imagine", prompt="something the model refuses")
        text = await fake.ephemeral(it)
    assert "declined" in text and "prohibited content" in text
    visible = [m for m in fake.state.messages.values() if not m["flags"] & EPHEMERAL
               and m["id"] not in fake.state.deleted]
    assert not visible
