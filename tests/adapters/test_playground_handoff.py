"""Scaled out, a worker runs a playground job but only the front end holds the pages: the hand-off shows it."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from core.jobs.model import JobState
from tests.adapters.conftest import GatedProvider, make_settings, read_events, serving


async def test_a_job_a_worker_delivered_appears_on_the_open_pages(tmp_path: Path) -> None:
    provider = GatedProvider()
    async with serving(make_settings(tmp_path), provider=provider) as served, \
            served.http.ws_connect("/api/events") as ws:
        _, body = await served.post("/imagine a lighthouse")
        entry_id = body["entry"]["id"]
        job = await served.studio.job(entry_id.removeprefix("job:"))
        assert job is not None
        reply = served.studio.runner._live[job.id].reply
        assert reply is not None

        await reply.handed_off(dataclasses.replace(job, state=JobState.DONE))  # as the shared journal has it
        events = await read_events(ws, lambda e: e["type"] == "entry" and e["entry"]["id"] == entry_id
                                   and e["entry"]["state"] == "done")
        assert [e for e in events if e["type"] == "entry" and e["entry"]["state"] == "done"] == events[-1:]
        await asyncio.wait_for(served.studio.cancel(job.id), 10)  # this process never runs it
        provider.gate.set()
