"""Delivery-only Discord (what a worker opens): REST login, no gateway, results posted once; and the front
end's hand-off, which removes the "thinking…" only its interaction token can reach."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from io import BytesIO
from typing import Any

import pytest
from PIL import Image

from adapters.discord import DiscordAdapter
from core.jobs.delivery import Reply
from core.jobs.model import Delivery, Job, JobState, Progress
from core.media import audio
from core.providers.offline import OfflineProvider
from core.redact import Redactor
from core.requests import ImagineRequest, Origin, Request, Requester, SpeakRequest
from core.results import ImageResult, Result
from core.settings import Settings
from core.studio import Studio, open_studio
from tests.adapters.discord.conftest import FakeVoice, Running, TimedProvider, running
from tests.adapters.discord.test_voice import FRAME_S, seconds
from tests.fakes.discord import FakeDiscord
from tests.fakes.media import png
from tests.waiting import delivered, until

ORIGINAL = r"/webhooks/\d+/[^/]+/messages/@original$"
CHANNEL_MESSAGE = r"/channels/\d+/messages/\d+$"


@asynccontextmanager
async def worker(settings: Settings) -> AsyncIterator[tuple[DiscordAdapter, Studio]]:
    """A studio whose Discord adapter only entered ``delivering`` (never ``serve``)."""
    adapter = DiscordAdapter(settings, guild_ready_timeout=0.05)
    async with open_studio(settings, provider=TimedProvider(), hooks=(adapter.hook,)) as studio, \
            adapter.delivering(studio):
        yield adapter, studio


def results_shown(fake: FakeDiscord) -> list[dict[str, Any]]:
    """The bot's messages carrying a file that a member can see now."""
    bot = fake.state.bot["id"]
    return [m for m in fake.state.messages.values()
            if m["author"]["id"] == bot and m["attachments"] and not fake.is_deleted(m["id"])]


def verbose(caplog: pytest.LogCaptureFixture) -> None:
    """Everything at DEBUG, as ``-v`` shows it (``setup_logging`` keeps discord.http at WARNING there too)."""
    for noisy in ("discord.http", "discord.gateway", "aiosqlite"):
        caplog.set_level(logging.WARNING, logger=noisy)
    caplog.set_level(logging.DEBUG)  # last: it sets the capturing handler's level too


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured line as the project's log handlers print it: through the shape-based redaction (not told
    any secret, so a token that leaks raw is still seen)."""
    redact = Redactor()
    return "\n".join(redact(r.getMessage()) for r in caplog.records)


REQUESTS: dict[str, Request] = {"image": ImagineRequest("a lighthouse at dusk"), "speech": SpeakRequest("Hello there")}


@pytest.mark.parametrize("what", list(REQUESTS))
async def test_a_delivery_only_worker_posts_a_channel_job_once_without_the_gateway(
        fake: FakeDiscord, settings: Settings, what: str, caplog: pytest.LogCaptureFixture) -> None:
    verbose(caplog)
    origin = Origin("discord", workspace=fake.state.guild_id, channel=fake.state.channel_id)
    async with worker(settings) as (adapter, studio):
        assert await adapter.ready()  # /readyz of a worker: logged in over REST
        job = await studio.submit(REQUESTS[what], Requester("discord", fake.alice["id"], "alice"), origin)
        done = await delivered(studio, job.id)
        stored = await studio.result_of(done)
    assert adapter.client.is_closed() and not await adapter.ready()
    assert not fake.gateway.identifies and not fake.gateway.sessions  # never connected: takes no events

    [shown] = results_shown(fake)
    assert done.state is JobState.DONE and done.delivery is Delivery.DELIVERED and done.delivered_ref == shown["id"]
    [attachment] = shown["attachments"]
    data = fake.file(attachment)
    assert stored is not None and data == stored.data and job.id in attachment["filename"]
    if what == "image":
        with Image.open(BytesIO(data)) as img:
            assert img.format == "PNG" and img.size == (stored.width, stored.height)
    else:
        speech = audio.decode(data, 16_000)
        assert 0.3 < len(speech.pcm) / 32_000 < 5  # a short clip a member can play
    [create] = [c for c in fake.state.calls if c.method == "POST" and c.path.endswith("/messages")]
    assert create.body is not None
    assert create.body["nonce"] == f"sbr{job.id}" and create.body["enforce_nonce"] is True
    assert "test-token" not in logged(caplog)


async def live_reply(front: Running, job: Job) -> Reply:
    """The front end's in-memory Reply for a job (its interaction token lives there and nowhere else)."""
    live = front.studio.runner._live[job.id]
    assert live.reply is not None
    return live.reply


async def held_slash(fake: FakeDiscord, front: Running) -> tuple[Any, Job, str]:
    """A member's /imagine, deferred ("thinking…"), its job held as if a worker had it."""
    front.provider.gate = asyncio.Event()
    it = await fake.slash("imagine", prompt="a lighthouse")
    assert await fake.responded(it) == 5

    async def journaled() -> Job | None:
        jobs = await front.studio.recent("discord")
        return jobs[0] if jobs else None

    job = await until(journaled, "the job journaled")
    assert it.original_id is not None and job.origin.meta["placeholder"] == it.original_id
    return it, job, it.original_id


async def worker_delivers(settings: Settings, job: Job, result: Result | None = None) -> str | None:
    """What a worker's runner does for a job it ran: ask the platform, then post through ``reply_for``."""
    result = result or ImageResult(png(64, 48), "image/png", 64, 48)
    job = dataclasses.replace(job, state=JobState.DONE)  # as the worker's journal has it once the job ran
    own = settings.model_copy(update={"data_dir": settings.data_dir / "worker"})  # its own studio, same Discord
    async with worker(own) as (adapter, _):
        if await adapter.hook.reconcile(job) is not None:
            return None
        return await adapter.hook.reply_for(job).post(job, result)


async def test_hand_off_after_a_worker_posted_leaves_one_result_and_no_thinking(
        fake: FakeDiscord, settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    verbose(caplog)
    async with running(settings) as front:
        it, job, placeholder = await held_slash(fake, front)
        reply = await live_reply(front, job)
        ref = await worker_delivers(settings, job)
        await reply.handed_off(job)

        assert [m["id"] for m in results_shown(fake)] == [ref]
        assert fake.is_deleted(placeholder)
        calls = len(fake.state.calls)
        await reply.handed_off(job)  # told twice (a repeated notification): nothing more happens
        await reply.progress(Progress(job.id, JobState.RUNNING, message="part 2 of 3"))  # a late progress event
        assert len(fake.state.calls) == calls
        front.provider.gate.set()
    assert it.token not in logged(caplog) and "test-token" not in logged(caplog)


async def test_hand_off_removes_the_thinking_the_worker_could_not(
        fake: FakeDiscord, settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    """The worker's bot-token delete of the placeholder is refused; the interaction token still may."""
    verbose(caplog)
    async with running(settings) as front:
        it, job, placeholder = await held_slash(fake, front)
        reply = await live_reply(front, job)
        refused = fake.faults.arm("status", "DELETE", CHANNEL_MESSAGE, status=403)
        ref = await worker_delivers(settings, job)
        assert refused.hits == 1 and not fake.is_deleted(placeholder)

        await reply.handed_off(job)
        assert fake.is_deleted(placeholder)
        assert [m["id"] for m in results_shown(fake)] == [ref]
        front.provider.gate.set()
    assert it.token not in logged(caplog)


async def test_hand_off_on_a_dropped_connection_logs_once_and_does_not_raise(
        fake: FakeDiscord, settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    verbose(caplog)
    async with running(settings) as front:
        it, job, _ = await held_slash(fake, front)
        reply = await live_reply(front, job)
        dropped = fake.faults.arm("drop_before", "DELETE", ORIGINAL, times=2)  # aiohttp retries a DELETE once
        await reply.handed_off(job)
        assert dropped.hits == 2
        lines = [r.getMessage() for r in caplog.records if "could not remove" in r.getMessage()]
        assert len(lines) == 1, lines
        front.provider.gate.set()
    assert it.token not in logged(caplog)


async def test_hand_off_of_a_reply_edit_takes_down_its_status_message(fake: FakeDiscord, settings: Settings) -> None:
    """A reply-mention edit shows progress in a channel message of its own: once a worker posted the
    result, the front end removes that status, so the member sees one reply, the picture."""
    async with running(settings) as front:
        first = await fake.result(await fake.slash("imagine", prompt="a quiet street"))
        front.provider.gate = asyncio.Event()
        ask = await fake.say("make it night", reply_to=first["id"], mention_bot=True)
        status = await fake.reply_to(ask["id"], with_file=False)
        job = next(j for j in await front.studio.recent("discord") if j.kind == "edit")
        reply = await live_reply(front, job)

        ref = await worker_delivers(settings, job)
        await reply.handed_off(job)
        await reply.handed_off(job)
        assert fake.is_deleted(status["id"])
        shown = await fake.reply_to(ask["id"])
        assert shown["id"] == ref and shown["attachments"]
        replies = [m for m in fake.state.messages.values() if not fake.is_deleted(m["id"])
                   and str((m.get("message_reference") or {}).get("message_id")) == ask["id"]]
        assert replies == [shown]
        front.provider.gate.set()


async def test_speech_a_worker_posted_plays_in_voice_from_the_front_end(
        fake: FakeDiscord, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the front end has a voice connection: the worker's post claims nothing about playback, and the
    hand-off plays the clip in the caller's channel."""
    async with running(settings) as front:
        front.provider.gate = asyncio.Event()
        # Scaled out the job generates in a worker, so this process has no live audio of it to play early.
        monkeypatch.setattr(front.studio, "audio_feed", lambda job_id: asyncio.sleep(0, None))
        it = await fake.slash("speak", text="Hello voice channel, how are you today?", play=True)
        assert await fake.responded(it) == 5
        job = await until(lambda: front.studio.recent("discord"), "the job journaled")
        job = job[0]
        reply = await live_reply(front, job)
        speech = await OfflineProvider().speak(SpeakRequest("Hello voice channel, how are you today?"))
        clip = await asyncio.to_thread(audio.encode, speech, "ogg", offline=True)
        ref = await asyncio.to_thread(front.studio.results.save, job.id, clip)  # the shared result store
        done = dataclasses.replace(job, state=JobState.DONE, result=ref)

        posted = await worker_delivers(settings, done, clip)
        assert "Not played" not in fake.message(posted or "")["content"]
        await reply.handed_off(done)
        (vc,) = await fake.state.wait_for(lambda: FakeVoice.instances or None)
        await asyncio.wait_for(asyncio.to_thread(vc.disconnected.wait), 20)  # played to the end, then left
        assert getattr(vc.channel, "id", None) == int(fake.state.voice_channel_id)
        assert abs(len(vc.packets) * FRAME_S - seconds(clip.data)) <= 0.1  # the whole clip, once
        await front.studio.cancel(job.id)  # this process never runs it (a worker did)
