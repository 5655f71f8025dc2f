"""Streamed speech through the real google-genai client and the emulator: order, breaks, long texts."""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path

import pytest

from core.feed import BYTES_PER_S
from core.media import audio
from core.providers.gemini import GeminiProvider
from core.requests import SpeakRequest
from core.results import AudioClip
from core.studio import Studio, open_studio
from emulator.app import Emulator
from emulator.faults import Fault
from emulator.stream import Pacing
from tests.core.conftest import ORIGIN, REQUESTER, gemini_settings
from tests.fakes.replies import RecordingReply

TTS25 = "gemini-2.5-flash-preview-tts"
TEXT = "Streaming speech starts playing almost at once. Then the rest of the sentence follows, chunk by chunk."


def streams(emulator: Emulator) -> list[str]:
    return [c.path.rsplit(":", 1)[1] for c in emulator.calls]


def voice_configs(emulator: Emulator) -> list[object]:
    return [c.body["generationConfig"]["speechConfig"] for c in emulator.calls]


async def test_chunks_arrive_in_order_and_join_to_the_unary_answer(tmp_path: Path, emulator: Emulator) -> None:
    emulator.pacing = Pacing(chunk_s=0.25)
    provider = GeminiProvider(gemini_settings(tmp_path, emulator, tts_model=TTS25))
    try:
        chunks = [c async for c in provider.stream_speech(SpeakRequest(TEXT, voice="Puck"))]
    finally:
        await provider.aclose()
    assert streams(emulator) == ["streamGenerateContent"]
    assert len(chunks) > 4 and all(c.sample_rate == 24_000 for c in chunks)
    joined = b"".join(c.pcm for c in chunks)
    assert hashlib.sha256(joined).hexdigest() == emulator.digests[0]  # every chunk, in its place


async def test_the_feed_has_audio_before_the_job_ends(tmp_path: Path, emulator: Emulator) -> None:
    emulator.pacing = Pacing(chunk_s=0.25, chunk_interval_s=0.05)
    async with open_studio(gemini_settings(tmp_path, emulator)) as studio:
        job = await studio.submit(SpeakRequest(TEXT), REQUESTER, ORIGIN)
        feed = await studio.audio_feed(job.id)
        assert feed is not None
        heard = bytearray()
        async for pcm in feed.listen():
            if not heard:
                current = await studio.job(job.id)
                assert current is not None and not current.state.terminal  # playing while it runs
            heard += pcm
        clip = await studio.outcome(job.id)
        assert feed.complete and await studio.audio_feed(job.id) is None  # over: the file takes over
    assert isinstance(clip, AudioClip)
    assert len(heard) / BYTES_PER_S == pytest.approx(clip.duration_s, abs=0.05)


@pytest.mark.parametrize("fault", [Fault.cut(2), Fault.end("OTHER", 2)], ids=["cut", "ends-OTHER"])
async def test_a_stream_broken_midway_is_generated_again_whole(tmp_path: Path, emulator: Emulator,
                                                               fault: Fault) -> None:
    async with open_studio(gemini_settings(tmp_path, emulator)) as studio:
        emulator.pacing = Pacing(chunk_s=0.25)
        whole = await studio.run(SpeakRequest(TEXT), REQUESTER, ORIGIN)
        emulator.reset()
        emulator.script(fault)
        reply = RecordingReply()
        job = await studio.submit(SpeakRequest(TEXT), REQUESTER, ORIGIN, reply=reply)
        feed = await studio.audio_feed(job.id)
        assert feed is not None
        heard = [pcm async for pcm in feed.listen()]
        broken = await studio.outcome(job.id)
    assert streams(emulator) == ["streamGenerateContent", "generateContent"]  # the stream, then the whole clip
    assert isinstance(broken, AudioClip) and isinstance(whole, AudioClip)
    assert broken.duration_s == pytest.approx(whole.duration_s, abs=0.05)  # not half a clip
    assert sum(map(len, heard)) >= len(feed.pcm())  # listeners replayed the rewound part, skipped nothing
    await asyncio.sleep(0)
    assert [jid for jid, _ in reply.posted] == [job.id]


async def test_a_broken_stream_that_stays_broken_fails_clearly(tmp_path: Path, emulator: Emulator) -> None:
    async with open_studio(gemini_settings(tmp_path, emulator, gemini_attempts=2)) as studio:
        emulator.script(Fault.cut(1), Fault.http(503), Fault.http(503))
        reply = RecordingReply()
        job = await studio.submit(SpeakRequest(TEXT), REQUESTER, ORIGIN, reply=reply)
        feed = await studio.audio_feed(job.id)
        assert feed is not None
        async for _ in feed.listen():
            pass
        assert not feed.complete  # listeners learn the clip will not be finished
        finished = await studio.runner.wait(job.id)
    assert finished.error and "unavailable" in finished.error
    await asyncio.sleep(0)
    assert not reply.posted and [jid for jid, _ in reply.failed] == [job.id]


def article(chars: int) -> str:
    """Paragraphs of numbered sentences, so the order of the parts can be read back from the requests."""
    paragraphs, n, total = [], 0, 0
    while total < chars:
        sentences = []
        for _ in range(6):
            n += 1
            sentences.append(f"Sentence number {n} tells a little more of this long story about streaming.")
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs)[:chars].rsplit(" ", 1)[0] + "."


async def test_a_15000_character_text_becomes_one_clip_in_parts(tmp_path: Path, emulator: Emulator) -> None:
    text = article(15_000)
    reply = RecordingReply()
    settings = gemini_settings(tmp_path, emulator, tts_model=TTS25, gemini_timeout_s=60)
    async with open_studio(settings) as studio:
        job = await studio.submit(SpeakRequest(text, voice="Charon", style="calm", audio_format="wav"),
                                  REQUESTER, ORIGIN, reply=reply)
        shown = [e.message async for e in studio.watch(job.id) if e.message.startswith("part ")]
        clip = await studio.outcome(job.id)
    assert isinstance(clip, AudioClip)
    sent = ["".join(p["text"] for p in c.body["contents"][0]["parts"]) for c in emulator.calls]
    numbers = [int(m) for part in sent for m in re.findall(r"Sentence number (\d+) ", part)]
    assert len(sent) >= 8 and numbers == sorted(numbers) == list(range(1, len(numbers) + 1))  # in order, none lost
    assert all(len(part) <= 2200 and not part.endswith(("Sentenc", "numbe")) for part in sent)
    assert all(cfg == voice_configs(emulator)[0] for cfg in voice_configs(emulator))  # one voice throughout
    assert all("calm" in part for part in sent)  # the style travels with every part
    assert audio.decode(clip.data, 24_000).duration_s == pytest.approx(sum(emulator.spoken), rel=0.1)
    total = len(sent)
    assert shown == [f"part {n} of {total}" for n in range(1, total + 1)]  # every watcher sees every part


async def test_upload_limit_picks_a_lower_bitrate_or_refuses_first(offline_studio: Studio) -> None:
    text = "A long reading for a small upload limit. " * 12
    roomy = await offline_studio.run(SpeakRequest(text), REQUESTER, ORIGIN)
    assert isinstance(roomy, AudioClip)
    tight = await offline_studio.run(SpeakRequest(text, max_bytes=len(roomy.data) // 2), REQUESTER, ORIGIN)
    assert isinstance(tight, AudioClip) and len(tight.data) <= len(roomy.data) // 2
    assert tight.duration_s == pytest.approx(roomy.duration_s, abs=0.05)
    with pytest.raises(Exception, match="too large for the"):
        await offline_studio.submit(SpeakRequest(text * 10, audio_format="wav", max_bytes=1_000_000), REQUESTER, ORIGIN)
