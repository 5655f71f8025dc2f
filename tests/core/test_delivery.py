"""The delivery contract in the core: refusals at the door, resume past a full queue, leases, retention, cancels."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from pathlib import Path

import pytest

from core.errors import JobCancelled, RateLimited
from core.jobs.delivery import DeliveryRetry
from core.jobs.model import Delivery, Job, JobState
from core.requests import ImagineRequest
from core.results import Result
from core.studio import open_studio
from emulator.app import Emulator
from emulator.faults import Fault
from tests.core.conftest import ORIGIN, REQUESTER, gemini_settings, make_settings
from tests.fakes.replies import RecordingHook, RecordingReply
from tests.waiting import until


async def settled(studio, job_id: str) -> Job:  # type: ignore[no-untyped-def]
    async def final() -> Job | None:
        job: Job | None = await studio.job(job_id)
        return job if job is not None and job.state.terminal and job.delivery.final else None

    return await until(final, f"job {job_id} did not settle")


async def test_a_request_refused_for_a_full_queue_is_shown_once_and_never_redelivered(
        tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Fault.latency(30))
    settings = gemini_settings(tmp_path, emulator, max_queue=1, gemini_timeout_s=60)
    hook = RecordingHook()
    async with open_studio(settings, hooks=(hook,)) as studio:
        await studio.submit(ImagineRequest("held"), REQUESTER, ORIGIN)  # runs (and hangs)
        await studio.submit(ImagineRequest("waits"), REQUESTER, ORIGIN)
        await asyncio.sleep(0.05)
        with pytest.raises(RateLimited):
            await studio.submit(ImagineRequest("refused"), REQUESTER, ORIGIN)
        [refused] = [j for j in await studio.recent("test") if j.request.prompt == "refused"]  # type: ignore[attr-defined]
        assert (refused.state, refused.delivery) == (JobState.FAILED, Delivery.DELIVERED)
    emulator.reset()
    async with open_studio(settings, hooks=(hook,)) as studio:
        jobs = await studio.recent("test")
        for job in jobs:
            await settled(studio, job.id)
    assert refused.id not in [jid for jid, _ in hook.reply.failed + hook.reply.posted]  # type: ignore[operator]
    assert len(hook.reply.posted) == 2


async def test_a_full_queue_during_resume_does_not_abort_start_up(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    hook = RecordingHook()
    async with open_studio(settings, resume=False) as studio:  # accepts 6 jobs, then "dies" before running them
        await studio.runner.stop(grace_s=0)
        ids = []
        for n in range(6):
            job = Job(id=f"{n:012x}", request=ImagineRequest(f"card {n}"), requester=REQUESTER, origin=ORIGIN)
            await studio.journal.add(job)
            ids.append(job.id)
    async with open_studio(make_settings(tmp_path, max_queue=2), hooks=(hook,)) as studio:
        for job_id in ids:
            assert (await settled(studio, job_id)).state is JobState.DONE
    assert sorted(jid for jid, _ in hook.reply.posted) == ids


async def test_a_live_job_is_leased_and_a_dead_owner_is_taken_over(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with open_studio(settings) as studio:
        job = await studio.submit(ImagineRequest("a fox"), REQUESTER, ORIGIN)
        stored = await studio.job(job.id)
        assert stored is not None and stored.owner == studio.runner.lease.owner
        assert stored.lease_until is not None and stored.lease_until > time.time()
        assert str(os.getpid()) in stored.owner
        other = await studio.journal.take_over("elsewhere:1:x", time.time() + 30)
        assert other == []  # a live lease is not taken
        await studio.outcome(job.id)
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:  # as if a process on this host died holding it
        db.execute("UPDATE jobs SET owner = ?, lease_until = ?, state = 'queued', delivery = 'pending'",
                   (f"{os.uname().nodename}:999999:dead", time.time() + 3600))
    hook = RecordingHook()
    async with open_studio(settings, hooks=(hook,)) as studio:
        assert (await settled(studio, job.id)).state is JobState.DONE
    assert [jid for jid, _ in hook.reply.posted] == [job.id]


class FlakyReply(RecordingReply):
    """Fails the first post as a dropped connection would, after the platform stored it."""

    async def post(self, job: Job, result: Result) -> str | None:
        first = not self.posted
        ref = await super().post(job, result)
        if first:
            raise DeliveryRetry("connection reset")
        return ref


async def test_a_post_dropped_after_it_landed_is_reconciled_not_repeated(tmp_path: Path) -> None:
    hook = RecordingHook(reply=FlakyReply())
    async with open_studio(make_settings(tmp_path), hooks=(hook,)) as studio:
        job = await studio.submit(ImagineRequest("a fox"), REQUESTER, ORIGIN)
        done = await settled(studio, job.id)
        attempts = await studio.journal.attempts_of(job.id)
    assert done.delivery is Delivery.DELIVERED and len(hook.reply.posted) == 1
    assert [a[0] for a in attempts] == ["retry", "reconciled"]


async def test_cancel_right_after_a_worker_took_the_job_still_cancels_it(tmp_path: Path) -> None:
    async with open_studio(make_settings(tmp_path), hooks=(RecordingHook(),)) as studio:
        job = await studio.submit(ImagineRequest("a fox"), REQUESTER, ORIGIN)
        assert await studio.cancel(job.id)  # the idle worker has it already, but has not started it
        with pytest.raises(JobCancelled):
            await studio.outcome(job.id)
        await settled(studio, job.id)
        assert studio.runner._live == {}  # no per-job entry is left behind


async def test_retention_prunes_old_jobs_results_and_inputs(tmp_path: Path) -> None:
    from core.jobs import retention

    async with open_studio(make_settings(tmp_path), hooks=(RecordingHook(),)) as studio:
        job = await studio.submit(ImagineRequest("a fox"), REQUESTER, ORIGIN)
        await settled(studio, job.id)
        path = await studio.result_path(await studio.job(job.id))  # type: ignore[arg-type]
        assert path is not None and path.exists()
        assert await retention.prune(studio.journal, studio.results, studio.journal.blobs, 3600) == 0  # type: ignore[attr-defined]
        old = time.time() - 31 * 86400
        await studio.journal.db.execute("UPDATE jobs SET updated_at = ?", (old,))  # type: ignore[attr-defined]
        assert await retention.prune(studio.journal, studio.results, studio.journal.blobs, 30 * 86400) == 1  # type: ignore[attr-defined]
        assert await studio.job(job.id) is None and not path.exists()
