"""Jobs: journaled before work, terminal states, progress, cancellation, delivery exactly once."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from core.errors import InputError, JobCancelled, SafetyBlocked
from core.jobs.model import Delivery, Job, JobState
from core.requests import ImagineRequest, SpeakRequest
from core.results import AudioClip, ImageResult
from core.studio import Studio, open_studio
from emulator.app import Emulator
from emulator.faults import Fault
from tests.core.conftest import ORIGIN, REQUESTER, gemini_settings, make_settings
from tests.fakes.replies import RecordingHook, RecordingReply
from tests.waiting import until

pytestmark = pytest.mark.usefixtures("each_store")
SQLITE_ONLY = pytest.mark.parametrize("each_store", ["sqlite"], indirect=True)


async def test_a_job_is_journaled_run_and_delivered_once(offline_studio: Studio) -> None:
    reply = RecordingReply()
    job = await offline_studio.submit(SpeakRequest("hello there"), REQUESTER, ORIGIN, reply=reply)
    result = await offline_studio.outcome(job.id)

    assert isinstance(result, AudioClip)
    assert result.offline
    await _delivered(offline_studio, job.id)
    assert [jid for jid, _ in reply.posted] == [job.id]
    stored = await offline_studio.job(job.id)
    assert stored is not None
    assert stored.state is JobState.DONE
    assert stored.attempts == 1
    assert stored.delivered_ref == f"msg-{job.id}"
    assert (await offline_studio.job_for_message("test", f"msg-{job.id}")) == stored
    assert [p.state for p in reply.progress_events][-1:] == [JobState.RUNNING]  # the post itself ends it
    assert await offline_studio.journal.attempts_of(job.id) == [("posted", f"msg-{job.id}", None)]


async def test_bad_input_is_refused_before_anything_is_journaled(offline_studio: Studio) -> None:
    with pytest.raises(InputError, match="empty"):
        await offline_studio.submit(SpeakRequest("   "), REQUESTER, ORIGIN)
    assert await offline_studio.journal.recent("test") == []


async def test_queue_positions_are_reported_while_waiting(offline_studio: Studio) -> None:
    replies = [RecordingReply() for _ in range(3)]
    jobs = [
        await offline_studio.submit(ImagineRequest(f"card {n}"), REQUESTER, ORIGIN, reply=r)
        for n, r in enumerate(replies)
    ]
    for job in jobs:
        await offline_studio.outcome(job.id)
    told = replies[2].progress_events
    assert [p.state for p in told] == [JobState.QUEUED, JobState.RUNNING]  # the platform: 2 edits at most
    assert told[0].position in (2, 3)


async def test_watchers_see_every_queue_position(offline_studio: Studio) -> None:
    jobs = [await offline_studio.submit(ImagineRequest(f"card {n}"), REQUESTER, ORIGIN) for n in range(3)]
    seen = [e async for e in offline_studio.watch(jobs[2].id)]
    positions = [e.position for e in seen if e.state is JobState.QUEUED and e.position]
    assert positions == sorted(positions, reverse=True) and positions[-1] == 1
    assert seen[-1].state is JobState.DONE


async def test_cancelling_a_queued_job_ends_it_cancelled_and_says_so(offline_studio: Studio) -> None:
    first = await offline_studio.submit(SpeakRequest("a long sentence " * 20), REQUESTER, ORIGIN)
    reply = RecordingReply()
    second = await offline_studio.submit(SpeakRequest("never mind"), REQUESTER, ORIGIN, reply=reply)
    assert await offline_studio.cancel(second.id)
    with pytest.raises(JobCancelled):
        await offline_studio.outcome(second.id)
    await offline_studio.outcome(first.id)
    await _delivered(offline_studio, second.id)
    assert reply.failed == [(second.id, "The request was cancelled.")]
    assert not await offline_studio.cancel(second.id)


async def test_cancelling_a_running_job(tmp_path: Path, emulator: Emulator, hook: RecordingHook) -> None:
    emulator.script(Fault.latency(10))
    async with open_studio(gemini_settings(tmp_path, emulator, gemini_timeout_s=30), hooks=(hook,)) as studio:
        job = await studio.submit(ImagineRequest("slow"), REQUESTER, ORIGIN)
        async for event in studio.watch(job.id):
            if event.state is JobState.RUNNING:
                break
        assert await studio.cancel(job.id)
        with pytest.raises(JobCancelled):
            await studio.outcome(job.id)


async def test_failures_are_terminal_with_a_reason(gemini_studio: Studio, emulator: Emulator,
                                                   hook: RecordingHook) -> None:
    emulator.script(Fault.blocked("PROHIBITED_CONTENT"))
    job = await gemini_studio.submit(ImagineRequest("something bad"), REQUESTER, ORIGIN)
    with pytest.raises(SafetyBlocked):
        await gemini_studio.outcome(job.id)
    stored = await _delivered(gemini_studio, job.id)
    assert stored.state is JobState.FAILED
    assert stored.error_code == "blocked:PROHIBITED_CONTENT"
    assert "prohibited content" in (stored.error or "")
    assert hook.reply.failed == [(job.id, stored.error)]


async def test_undelivered_results_are_delivered_on_the_next_start_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with open_studio(settings) as studio:  # no hook for "test": nobody to deliver to yet
        job = await studio.submit(ImagineRequest("a fox"), REQUESTER, ORIGIN)
        await studio.outcome(job.id)
        assert (await studio.job(job.id)).delivery is Delivery.PENDING  # type: ignore[union-attr]
    hook = RecordingHook()
    async with open_studio(settings, hooks=(hook,)) as studio:
        await _delivered(studio, job.id)
    async with open_studio(settings, hooks=(hook,)) as studio:
        await asyncio.sleep(0.05)
    assert [jid for jid, _ in hook.reply.posted] == [job.id]
    assert isinstance(hook.reply.posted[0][1], ImageResult)


@pytest.mark.parametrize("landed", [True, False], ids=["post-landed", "post-lost"])
async def test_a_job_interrupted_mid_delivery_is_reconciled_then_posted_only_if_absent(
        tmp_path: Path, landed: bool) -> None:
    settings = make_settings(tmp_path)
    async with open_studio(settings) as studio:
        job = await studio.submit(ImagineRequest("a fox"), REQUESTER, ORIGIN)
        result = await studio.outcome(job.id)
        assert await studio.journal.claim_delivery(job.id)  # as if the process died while posting
    hook = RecordingHook()
    if landed:
        hook.reply.posted.append((job.id, result))  # the platform stored it before the process died
    async with open_studio(settings, hooks=(hook,)) as studio:
        stored = await _delivered(studio, job.id)
        attempts = await studio.journal.attempts_of(job.id)
    assert [jid for jid, _ in hook.reply.posted] == [job.id]
    assert stored.delivery is Delivery.DELIVERED
    assert attempts == [("reconciled" if landed else "posted", f"msg-{job.id}", None)]


@SQLITE_ONLY
async def test_the_journal_is_sqlite_in_wal_mode(offline_studio: Studio, tmp_path: Path) -> None:
    job = await offline_studio.submit(SpeakRequest("hi"), REQUESTER, ORIGIN)
    await _delivered(offline_studio, job.id)
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT state, delivery FROM jobs").fetchall() == [("done", "delivered")]


async def _delivered(studio: Studio, job_id: str):  # type: ignore[no-untyped-def]
    async def delivered() -> Job | None:
        job: Job | None = await studio.job(job_id)
        return job if job is not None and job.delivery is Delivery.DELIVERED else None

    return await until(delivered, f"job {job_id} was not delivered")


async def test_one_user_cannot_flood_the_studio(tmp_path: Path) -> None:
    from core.errors import RateLimited
    from core.requests import Requester

    async with open_studio(make_settings(tmp_path, user_requests_per_minute=2)) as studio:
        for _ in range(2):
            await studio.submit(SpeakRequest("hi"), REQUESTER, ORIGIN)
        with pytest.raises(RateLimited, match="2 requests in the last minute"):
            await studio.submit(SpeakRequest("hi"), REQUESTER, ORIGIN)
        await studio.submit(SpeakRequest("hi"), Requester("test", "someone-else"), ORIGIN)


async def test_a_redelivered_event_never_makes_a_second_job(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    hook = RecordingHook()
    async with open_studio(settings, hooks=(hook,)) as studio:
        first, second = await asyncio.gather(
            studio.submit(SpeakRequest("hi"), REQUESTER, ORIGIN, dedupe_key="Ev123"),
            studio.submit(SpeakRequest("hi"), REQUESTER, ORIGIN, dedupe_key="Ev123"),
        )
        assert first.id == second.id
        await _delivered(studio, first.id)
    async with open_studio(settings, hooks=(hook,)) as studio:  # the platform retries after a restart
        again = await studio.submit(SpeakRequest("hi"), REQUESTER, ORIGIN, dedupe_key="Ev123")
        assert again.id == first.id
        assert len(await studio.recent("test")) == 1
    assert len(hook.reply.posted) == 1


@SQLITE_ONLY
async def test_a_journal_from_the_first_release_is_migrated_in_place(tmp_path: Path) -> None:
    from core.jobs import schema

    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:  # the version-1 table, without dedupe_key
        v1 = schema.JOBS_TABLE
        for column in ("dedupe_key    TEXT", "owner         TEXT", "lease_until   DOUBLE PRECISION"):
            v1 = v1.replace(f"    {column},\n", "")
        db.executescript(v1)
        db.execute("PRAGMA user_version=1")
    async with open_studio(make_settings(tmp_path)) as studio:
        job = await studio.submit(SpeakRequest("hi"), REQUESTER, ORIGIN, dedupe_key="k1")
        await studio.outcome(job.id)
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
