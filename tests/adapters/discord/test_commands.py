"""/imagine, /speak and /edit as a member sees them: a "thinking" response that becomes the result."""

from __future__ import annotations

import pytest

from core.media import audio
from core.settings import Settings
from tests.adapters.discord.conftest import Running, image_size, png
from tests.fakes.discord import FakeDiscord

ASPECTS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9")


async def test_the_bot_logs_in_and_is_ready(fake: FakeDiscord, bot: Running) -> None:
    assert bot.client.user is not None
    assert fake.gateway.identifies[0]["token"] == "test-token"
    assert not fake.gateway.identifies[0]["intents"] & (1 << 15)  # no privileged message content by default


async def test_imagine_posts_a_picture_with_a_caption(fake: FakeDiscord, bot: Running) -> None:
    it = await fake.slash("imagine", prompt="a red fox in the snow")
    assert await fake.responded(it) == 5  # deferred ("thinking…") first
    message = await fake.result(it)
    (att,) = message["attachments"]
    assert image_size(fake.file(att)) == (1024, 1024)
    assert "a red fox in the snow" in message["content"]
    assert f"<@{fake.alice['id']}>" in message["content"]
    assert set(fake.buttons(message["id"])) == {"Retry", "Edit", "Vary", "Upscale to 2K", "Delete"}


async def test_the_defer_is_sent_before_generation_starts(fake: FakeDiscord, bot: Running) -> None:
    it = await fake.slash("imagine", prompt="a lighthouse")
    await fake.result(it)
    (_, _, deferred_at) = it.callbacks[0]
    assert bot.provider.started and deferred_at < bot.provider.started[0]


@pytest.mark.parametrize("aspect", ASPECTS)
async def test_imagine_honours_each_aspect(fake: FakeDiscord, bot: Running, aspect: str) -> None:
    it = await fake.slash("imagine", prompt="a tidy desk", aspect=aspect)
    message = await fake.result(it)
    width, height = image_size(fake.file(message["attachments"][0]))
    w, h = (int(x) for x in aspect.split(":"))
    assert abs(width / height - w / h) < 0.05
    assert aspect in message["content"]


async def test_imagine_with_an_attached_image_is_image_guided(fake: FakeDiscord, bot: Running) -> None:
    ref = fake.upload("cat.png", png(200, 200, (250, 10, 10)), "image/png")
    it = await fake.slash("imagine", prompt="this cat as a king", image=ref)
    message = await fake.result(it)
    assert "image-guided" in message["content"]


async def test_speak_posts_an_ogg_clip_of_the_right_length(fake: FakeDiscord, bot: Running) -> None:
    it = await fake.slash("speak", text="Hello there, this is a test.", voice="Puck", style="warm and slow")
    message = await fake.result(it)
    (att,) = message["attachments"]
    data = fake.file(att)
    assert data[:4] == b"OggS"
    seconds = len(audio.decode(data, 16_000).pcm) / 32_000
    assert seconds > 0.5
    assert "Puck" in message["content"] and "warm and slow" in message["content"]
    assert f"{seconds:.1f} s" in message["content"] or "s · for" in message["content"]
    assert set(fake.buttons(message["id"])) == {"Retry", "Delete"}


async def test_speak_with_two_names_is_a_dialogue(fake: FakeDiscord, bot: Running) -> None:
    it = await fake.slash("speak", text="Ann: Hi Bob.\nBob: Hello Ann, nice day.", voice="Kore", voice2="Charon")
    message = await fake.result(it)
    assert "Kore & Charon" in message["content"]
    assert fake.file(message["attachments"][0])[:4] == b"OggS"


async def test_voice_autocomplete_matches_names_and_characters(fake: FakeDiscord, bot: Running) -> None:
    choices = await fake.autocomplete("speak", "voice", text="hi", voice="warm")
    assert {"name": "Sulafat — Warm", "value": "Sulafat"} in choices
    by_name = await fake.autocomplete("speak", "voice", text="hi", voice="pu")
    assert [c["value"] for c in by_name][:1] == ["Puck"]


async def test_edit_changes_an_attached_image(fake: FakeDiscord, bot: Running) -> None:
    src = fake.upload("photo.png", png(400, 300), "image/png")
    it = await fake.slash("edit", image=src, instruction="make it night")
    message = await fake.result(it)
    assert image_size(fake.file(message["attachments"][0])) == (400, 300)
    assert "make it night" in message["content"]


async def test_edit_with_a_mask(fake: FakeDiscord, bot: Running) -> None:
    src = fake.upload("photo.png", png(400, 300), "image/png")
    mask = fake.upload("mask.png", png(400, 300, (255, 255, 255)), "image/png")
    it = await fake.slash("edit", image=src, instruction="add stars", mask=mask)
    message = await fake.result(it)
    assert "masked" in message["content"]
    assert image_size(fake.file(message["attachments"][0])) == (400, 300)


async def test_a_redelivered_command_is_not_generated_twice(fake: FakeDiscord, bot: Running) -> None:
    it = await fake.slash("imagine", prompt="only once")
    await fake.result(it)
    await fake.redeliver(it)
    await fake.settle()
    assert len(bot.provider.started) == 1
    assert len([c for c in fake.state.calls if c.path.endswith("/callback")]) == 2  # the 2nd was refused (40060)



async def test_no_token_reaches_the_journal(fake: FakeDiscord, bot: Running, settings: Settings) -> None:
    it = await fake.slash("imagine", prompt="a quiet harbour")
    await fake.result(it)
    for path in settings.data_dir.rglob("*"):
        if path.is_file():
            assert it.token.encode() not in path.read_bytes(), path
            assert b"test-token" not in path.read_bytes(), path
