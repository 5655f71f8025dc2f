"""Delivery-only Slack (what a worker opens): the Web API with each workspace's bot token, no Socket Mode and
no listener; results posted once with their metadata; and the front end's hand-off of its status message."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pydantic import SecretStr
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import SlackAdapter, build
from core.jobs.model import Delivery, Job, JobState, Progress
from core.media import audio
from core.redact import Redactor
from core.requests import ImagineRequest, Origin, Request, Requester, SpeakRequest
from core.results import ImageResult
from core.settings import Settings
from core.studio import Studio, open_studio
from tests.adapters.slack.conftest import ALICE, CHANNEL, HeldProvider, Rig, make_settings, running
from tests.fakes.media import png
from tests.fakes.slack import BOT_TOKEN, TEAM, FakeSlack
from tests.fakes.slack.oauth import CLIENT_ID, CLIENT_SECRET
from tests.waiting import delivered

SECOND = "T0SECOND"
OAUTH: dict[str, Any] = {"slack_bot_token": None, "slack_client_id": CLIENT_ID,
                         "slack_client_secret": SecretStr(CLIENT_SECRET)}
REQUESTS: dict[str, Request] = {"image": ImagineRequest("a harbour at dawn"),
                                "speech": SpeakRequest("Hello there", audio_format="mp3")}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    yield server
    await server.stop()


@asynccontextmanager
async def worker(settings: Settings) -> AsyncIterator[tuple[SlackAdapter, Studio]]:
    """A studio whose Slack adapter only entered ``delivering`` (never ``start``/``serve``)."""
    adapter = build(settings)
    async with open_studio(settings, hooks=(adapter.hook,)) as studio, adapter.delivering(studio):
        yield adapter, studio


def verbose(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="aiosqlite")
    caplog.set_level(logging.DEBUG)  # last: it sets the capturing handler's level too


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured line as the project's handlers print it (shape-based redaction only, so a raw leak shows)."""
    redact = Redactor()
    return "\n".join(redact(r.getMessage()) for r in caplog.records)


def with_metadata(fake: FakeSlack, job: Job, event: str) -> list[dict[str, Any]]:
    return [m for m in fake.channels.get(CHANNEL, [])
            if (m.get("metadata") or {}).get("event_type") == event
            and m["metadata"]["event_payload"] == {"job_id": job.id}]


async def check_one_result(fake: FakeSlack, studio: Studio, job: Job, what: str) -> str:
    """Exactly one result in the channel, the right bytes, the job id in its metadata; the token it used."""
    done = await delivered(studio, job.id)
    stored = await studio.result_of(done)
    assert done.state is JobState.DONE and done.delivery is Delivery.DELIVERED
    [upload] = fake.completed_uploads()
    assert stored is not None and upload.content == stored.data and upload.filename == f"studiobot-{job.id}." + (
        "png" if what == "image" else "mp3")
    if what == "image":
        with Image.open(BytesIO(upload.content)) as img:
            assert img.format == "PNG" and img.size == (stored.width, stored.height)
    else:
        assert 0.3 < len(audio.decode(upload.content, 16_000).pcm) / 32_000 < 5
    [result] = with_metadata(fake, job, "studiobot_result")  # the image itself, or speech's buttons
    assert done.delivered_ref in (f"{CHANNEL}:{result['ts']}", f"{CHANNEL}:{upload.ts}")
    assert not with_metadata(fake, job, "studiobot_status")
    [complete] = fake.calls_to("files.completeUploadExternal")
    assert complete.token is not None
    return complete.token


@pytest.mark.parametrize("what", list(REQUESTS))
async def test_a_delivery_only_worker_posts_a_single_workspace_job_once(
        fake: FakeSlack, tmp_path: Path, what: str, caplog: pytest.LogCaptureFixture) -> None:
    verbose(caplog)
    settings = make_settings(tmp_path, fake)
    async with worker(settings) as (adapter, studio):
        origin = Origin("slack", workspace=TEAM, channel=CHANNEL)
        job = await studio.submit(REQUESTS[what], Requester("slack", ALICE, "alice"), origin)
        assert await check_one_result(fake, studio, job, what) == BOT_TOKEN
        assert adapter.http_base is None and not fake.calls_to("apps.connections.open")  # takes no events
        assert await adapter.ready()  # /readyz of a worker
    assert not await adapter.ready()
    assert BOT_TOKEN not in logged(caplog)


async def test_a_delivery_only_worker_posts_with_the_installed_workspace_token(
        fake: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Many workspaces: the token comes from the installation a front end stored when the team installed."""
    verbose(caplog)
    settings = make_settings(tmp_path, fake, **OAUTH)
    code = fake.grant(SECOND)
    granted = await AsyncWebClient(base_url=fake.api_url).oauth_v2_access(client_id=CLIENT_ID,
                                                                         client_secret=CLIENT_SECRET, code=code)
    token = str(granted["access_token"])
    async with worker(settings) as (adapter, studio):
        assert adapter.stores is not None
        await adapter.stores.installations.async_save(Installation(
            app_id="A0FAKE", team_id=SECOND, user_id="UINSTALLER", bot_token=token, bot_id="BBOT2",
            bot_user_id="UBOT2", bot_scopes="chat:write,files:write", installed_at=time.time()))
        origin = Origin("slack", workspace=SECOND, channel=CHANNEL)
        job = await studio.submit(REQUESTS["image"], Requester("slack", ALICE, "alice"), origin)
        assert await check_one_result(fake, studio, job, "image") == token
        assert adapter.http_base is None and not fake.calls_to("apps.connections.open")
    assert token not in logged(caplog)


async def live_status(slack: Rig) -> tuple[Job, Any]:
    """A member's /imagine, its status message up, its job held as if a worker had it; and the live Reply."""
    status, _, _ = await slack.slash("/imagine", "a lighthouse")
    assert status == 200
    [posted] = await slack.status_posts()
    job = (await slack.jobs())[0]
    reply = slack.studio.runner._live[job.id].reply
    assert reply is not None and with_metadata(slack.fake, job, "studiobot_status")
    assert posted["channel"] == CHANNEL
    return job, reply


async def worker_delivers(settings: Settings, job: Job) -> str | None:
    """What a worker's runner does for a job it ran: ask Slack first (which tidies a stale status), then post."""
    job = dataclasses.replace(job, state=JobState.DONE)  # as the worker's journal has it once the job ran
    own = settings.model_copy(update={"data_dir": settings.data_dir / "worker"})  # its own studio, same Slack
    async with worker(own) as (adapter, _):
        if await adapter.hook.reconcile(job) is not None:
            return None
        return await adapter.hook.reply_for(job).post(job, ImageResult(png(64, 48), "image/png", 64, 48))


async def test_hand_off_after_a_worker_posted_leaves_one_result_and_no_status(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    verbose(caplog)
    provider = HeldProvider()
    async with running(tmp_path, provider=provider) as slack:
        job, reply = await live_status(slack)
        ref = await worker_delivers(slack.adapter.settings, job)
        await reply.handed_off(job)
        await reply.handed_off(job)  # told twice: still nothing more
        await reply.progress(Progress(job.id, JobState.RUNNING, message="part 2 of 3"))  # a late progress event
        [result] = with_metadata(slack.fake, job, "studiobot_result")
        assert ref == f"{CHANNEL}:{result['ts']}"
        assert not with_metadata(slack.fake, job, "studiobot_status")
        assert len(slack.fake.calls_to("chat.postMessage")) == 2  # the status, then the worker's result
        assert "could not remove" not in logged(caplog)  # already gone is not a failure
        provider.gate.set()
    assert BOT_TOKEN not in logged(caplog) and "/response/" not in logged(caplog)


async def test_hand_off_removes_a_status_the_worker_did_not_see(tmp_path: Path) -> None:
    """The status went up after the worker's reconcile read the channel: the front end takes it down."""
    provider = HeldProvider()
    async with running(tmp_path, provider=provider) as slack:
        job, reply = await live_status(slack)
        await reply.handed_off(job)
        assert not with_metadata(slack.fake, job, "studiobot_status")
        deletes = len(slack.fake.calls_to("chat.delete"))
        await reply.handed_off(job)
        await reply.progress(Progress(job.id, JobState.RUNNING, message="part 2 of 3"))
        assert len(slack.fake.calls_to("chat.delete")) == deletes and len(slack.fake.calls_to("chat.postMessage")) == 1
        provider.gate.set()


async def test_hand_off_on_a_slack_outage_logs_once_and_does_not_raise(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    verbose(caplog)
    provider = HeldProvider()
    async with running(tmp_path, provider=provider) as slack:
        job, reply = await live_status(slack)
        slack.fake.faults.arm("drop_before", "POST", r"/api/chat\.delete$", times=5)
        await reply.handed_off(job)
        lines = [r.getMessage() for r in caplog.records if "could not remove" in r.getMessage()]
        assert len(lines) == 1 and job.id in lines[0]
        provider.gate.set()
