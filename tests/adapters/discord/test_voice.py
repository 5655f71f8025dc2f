"""Speech as native voice messages, and played in the caller's voice channel."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from adapters.discord.voice import FeedPipe, live_source, opus_source
from core.feed import AudioFeed
from core.media import audio
from core.providers.espeak import synthesize
from core.providers.offline import OfflineProvider
from core.requests import SpeakRequest
from tests.adapters.discord.conftest import FakeVoice, Running
from tests.fakes.discord import VOICE_MESSAGE, FakeDiscord

FRAME_S = 0.02


def seconds(ogg: bytes) -> float:
    return len(audio.decode(ogg, 16_000).pcm) / 32_000


async def voice_message(fake: FakeDiscord) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        return next((m for m in fake.state.messages.values() if m["flags"] & VOICE_MESSAGE), None)
    return await fake.state.wait_for(probe)


async def test_speak_as_a_voice_message(fake: FakeDiscord, bot: Running) -> None:
    it = await fake.slash("speak", text="This is a voice message.", as_voice_message=True)
    vm = await voice_message(fake)
    assert vm["content"] == ""
    (att,) = vm["attachments"]
    data = fake.file(att)
    assert data[:4] == b"OggS"
    assert abs(att["duration_secs"] - seconds(data)) < 0.1
    wave = base64.b64decode(att["waveform"])
    assert 0 < len(wave) <= 256 and max(wave) > 0
    caption = await fake.state.wait_for(  # the progress message has a Cancel button; the caption has Delete
        lambda: "Delete" in fake.buttons(it.original_id or "") and fake.message(it.original_id or ""))
    assert "Kore" in caption["content"] and not caption["attachments"]
    await fake.click(caption["id"], "Delete")
    await fake.state.wait_for(lambda: fake.is_deleted(caption["id"]) and fake.is_deleted(vm["id"]))


async def test_a_refused_voice_message_falls_back_to_a_file(fake: FakeDiscord, bot: Running) -> None:
    fake.rest.voice_messages_allowed = False
    message = await fake.result(await fake.slash("speak", text="Plan B.", as_voice_message=True))
    assert fake.file(message["attachments"][0])[:4] == b"OggS"
    assert "voice messages aren't allowed here" in message["content"]


async def test_server_defaults_make_speech_a_voice_message(fake: FakeDiscord, bot: Running) -> None:
    setting = await fake.slash("studiobot-defaults", voice_message=True, user=fake.mod)
    assert "voice message: on" in await fake.ephemeral(setting)
    await fake.slash("speak", text="By default.")
    vm = await voice_message(fake)
    assert vm["attachments"][0]["duration_secs"] > 0.3


async def test_play_in_the_callers_voice_channel(fake: FakeDiscord, bot: Running) -> None:
    it = await fake.slash("speak", text="Hello voice channel, how are you today?", play=True)
    message = await fake.result(it)
    assert "Playing in" in message["content"]
    clip = fake.file(message["attachments"][0])
    (vc,) = FakeVoice.instances
    assert getattr(vc.channel, "id", None) == int(fake.state.voice_channel_id)
    await asyncio.wait_for(asyncio.to_thread(vc.disconnected.wait), 10)  # leaves once idle
    assert vc.packets and all(len(p) < 1500 for p in vc.packets)  # one Opus packet per 20 ms frame
    assert abs(len(vc.packets) * FRAME_S - seconds(clip)) <= 0.1


async def test_clips_queue_per_server(fake: FakeDiscord, bot: Running) -> None:
    FakeVoice.hold.clear()  # the first clip is still playing when the second arrives, however slow the box
    first = await fake.result(await fake.slash("speak", text="One.", play=True))
    second = await fake.result(await fake.slash("speak", text="Two, a little longer.", play=True))
    FakeVoice.hold.set()
    (vc,) = FakeVoice.instances  # joined once, played both
    await asyncio.wait_for(asyncio.to_thread(vc.disconnected.wait), 10)
    total = sum(seconds(fake.file(m["attachments"][0])) for m in (first, second))
    assert abs(len(vc.packets) * FRAME_S - total) <= 0.2


async def test_not_in_a_voice_channel_still_posts_and_says_why(fake: FakeDiscord, bot: Running) -> None:
    message = await fake.result(await fake.slash("speak", text="Anyone?", play=True, user=fake.bob))
    assert "Not played: you weren't in a voice channel." in message["content"]
    assert fake.file(message["attachments"][0])[:4] == b"OggS"
    assert not FakeVoice.instances


async def test_a_live_source_yields_its_first_frame_before_the_stream_ends() -> None:
    speech = synthesize("The first words of a longer answer.")
    feed = AudioFeed()
    feed.push(audio.resample(speech.pcm, speech.sample_rate, 24_000))
    pipe = FeedPipe()
    pump = asyncio.create_task(pipe.pump(feed))
    source = live_source(pipe)
    try:
        first = await asyncio.wait_for(asyncio.to_thread(source.read), 20)
        assert first and len(first) < 1500 and not feed.closed  # a 20 ms Opus frame while more may come
        feed.push(b"\x00\x00" * 24_000)  # one more second arrives later
        feed.close(complete=True)
        frames = [first]
        while packet := await asyncio.to_thread(source.read):
            frames.append(packet)
    finally:
        source.cleanup()
        await pump
    assert abs(len(frames) * FRAME_S - (speech.duration_s + 1.0)) <= 0.1  # all of it, once


async def test_play_starts_from_the_first_chunk(fake: FakeDiscord, bot: Running) -> None:
    bot.provider.midway = asyncio.Event()  # the job cannot finish until the test lets it
    it = await fake.slash("speak", text="First sentence plays now. The second one comes later.", play=True)
    (vc,) = await fake.state.wait_for(lambda: FakeVoice.instances or None)
    await fake.state.wait_for(lambda: len(vc.packets) > 5)
    assert not any(m["attachments"] for m in fake.state.messages.values())  # playing, nothing posted yet
    bot.provider.midway.set()
    message = await fake.result(it)
    assert "Playing in" in message["content"]
    clip = fake.file(message["attachments"][0])
    await asyncio.wait_for(asyncio.to_thread(vc.disconnected.wait), 10)
    assert len(FakeVoice.instances) == 1  # played once, from the stream: the file is not played again
    assert abs(len(vc.packets) * FRAME_S - seconds(clip)) <= 0.1


async def test_a_finished_clip_plays_whole_every_time() -> None:
    """ffmpeg's Ogg output read in whole pages: a short read from the pipe once cut clips at random points."""
    speech = await OfflineProvider().speak(SpeakRequest("Hello voice channel, how are you today?"))
    clip = await asyncio.to_thread(audio.encode, speech, "ogg", offline=True)

    def packets() -> int:
        source = opus_source(clip)
        try:
            return sum(1 for _ in iter(source.read, b""))
        finally:
            source.cleanup()

    counts = [await asyncio.to_thread(packets) for _ in range(8)]
    assert len(set(counts)) == 1 and abs((counts[0] - 2) * FRAME_S - seconds(clip.data)) <= 0.1, counts
