"""A front end and a ``studiobot worker`` on different machines (each its own data directory, one database):
the member's picture reaches the worker, and the edited result comes back to the front end."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from core.requests import EditRequest, Origin, Requester
from core.results import ImageResult
from core.studio import open_studio
from tests.fakes.media import image_size, png
from tests.fakes.replies import RecordingHook
from tests.processes import STUDIOBOT, clean_env, read_until
from tests.settings import offline_settings

ADA = Requester("test", "ada", "Ada")
HERE = Origin("test", workspace="w1", channel="c1")


async def test_a_worker_with_its_own_disk_edits_the_picture_a_front_end_took(
        tmp_path: Path, postgres_url: str) -> None:
    worker = await asyncio.create_subprocess_exec(
        *STUDIOBOT, "worker", "--kinds", "image",
        env=clean_env(STUDIOBOT_DATA_DIR=str(tmp_path / "worker"), STUDIOBOT_DATABASE_URL=postgres_url),
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        await read_until(worker.stdout, "Worker:")
        picture = png(96, 64, (200, 40, 40))
        settings = offline_settings(tmp_path / "front", database_url=postgres_url)
        async with open_studio(settings, hooks=(RecordingHook(),), workers=False) as front:
            job = await front.submit(EditRequest(picture, "make it blue"), ADA, HERE)
            result = await asyncio.wait_for(front.outcome(job.id), 60)
            done = await front.job(job.id)
        assert isinstance(result, ImageResult) and image_size(result.data) == image_size(picture)
        assert done is not None and done.owner not in (None, front.runner.lease.owner)  # the worker ran it
        for machine in ("front", "worker"):  # neither keeps inputs or results on its own disk
            assert not (tmp_path / machine / "results").exists() and not (tmp_path / machine / "blobs").exists()
    finally:
        worker.send_signal(signal.SIGTERM)
        await asyncio.wait_for(worker.wait(), 30)
