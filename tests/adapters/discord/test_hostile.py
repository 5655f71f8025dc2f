"""Hostile input through Discord's slash commands: only the requester sees a plain refusal; nothing is queued."""

from __future__ import annotations

from typing import Any

import pytest

from tests.adapters.discord.conftest import Running
from tests.fakes.discord import FakeDiscord
from tests.hostile import samples
from tests.hostile.lines import IMAGINE, LIVE, SPEAK

TEXTS = [(i, t, w) for i, t, w in SPEAK if not t.startswith("--")]
VOICES = [("escape", "\x1b[2JGandalf"), ("mention", "<@123456789>"), ("everyone", "@everyone"),
          ("link", "[x](https://evil.example)"), ("lookalike", "Коrе"), ("blank", "\u200b")]
FILES = [("html-as-png", "html", "web page"), ("svg-as-png", "svg", "web page"),
         ("bomb", "png-bomb", "too large"), ("zlib-bomb", "zlib-bomb", "too large"),
         ("truncated", "truncated-png", "damaged"), ("empty", "empty", "")]


async def refused(fake: FakeDiscord, bot: Running, words: str, **slash: Any) -> str:
    name = slash.pop("command")
    it = await fake.slash(name, **slash)
    text = await fake.ephemeral(it)
    assert words.lower() in text.lower(), text
    assert not LIVE.search(text), text
    assert "Traceback" not in text
    assert await bot.studio.journal.recent("discord") == []
    assert not bot.provider.started
    return text


@pytest.mark.parametrize(("text", "words"), [(t, w) for _, t, w in TEXTS], ids=[i for i, _, _ in TEXTS])
async def test_hostile_text_to_speak(fake: FakeDiscord, bot: Running, text: str, words: str) -> None:
    await refused(fake, bot, words, command="speak", text=text)


@pytest.mark.parametrize("voice", [v for _, v in VOICES], ids=[i for i, _ in VOICES])
async def test_a_hostile_voice_is_named_inertly(fake: FakeDiscord, bot: Running, voice: str) -> None:
    await refused(fake, bot, "voice", command="speak", text="hello there", voice=voice)


@pytest.mark.parametrize(("prompt", "words"), [(t, w) for i, t, w in IMAGINE if "--" not in t],
                         ids=[i for i, t, _ in IMAGINE if "--" not in t])
async def test_a_hostile_prompt(fake: FakeDiscord, bot: Running, prompt: str, words: str) -> None:
    await refused(fake, bot, words, command="imagine", prompt=prompt)


@pytest.mark.parametrize(("sample", "words"), [(s, w) for _, s, w in FILES], ids=[i for i, _, _ in FILES])
async def test_an_attachment_that_lies_about_being_a_png(fake: FakeDiscord, bot: Running, sample: str,
                                                         words: str) -> None:
    picture = fake.upload("photo.png", samples.NOT_IMAGES[sample](), "image/png")
    await refused(fake, bot, words, command="edit", image=picture, instruction="make it night")


async def test_a_blank_instruction(fake: FakeDiscord, bot: Running) -> None:
    picture = fake.upload("photo.png", samples.png(), "image/png")
    await refused(fake, bot, "empty", command="edit", image=picture, instruction="\u200b\u202e")
