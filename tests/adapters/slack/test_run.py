"""Slack under ``studiobot run``, and what survives a restart: dedupe of retried events."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from tests.adapters.slack.conftest import ALICE, CHANNEL, png, running
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, TEAM, FakeSlack, SlackSender
from tests.processes import STUDIOBOT, clean_env, free_port, read_until


async def test_studiobot_run_serves_slack_over_http(tmp_path: Path) -> None:
    fake = FakeSlack()
    await fake.start()
    port = free_port()
    env = clean_env(STUDIOBOT_DATA_DIR=str(tmp_path / "data"), SLACK_BOT_TOKEN=BOT_TOKEN,
                    SLACK_SIGNING_SECRET=SIGNING_SECRET, STUDIOBOT_SLACK_PORT=str(port),
                    STUDIOBOT_SLACK_API_URL=fake.api_url)
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, "run", cwd=tmp_path, env=env,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        await read_until(proc.stderr, f":{port}/slack/events", timeout=30)
        async with aiohttp.ClientSession() as http:
            sender = SlackSender(http, f"http://127.0.0.1:{port}/slack/events")
            status, _, body = await sender.form({
                "team_id": TEAM, "channel_id": CHANNEL, "user_id": ALICE, "command": "/imagine", "text": "a kite",
                "trigger_id": "trig.run", "response_url": fake.response_url(),
            })
            assert (status, body) == (200, "")
        upload = await fake.next_upload(timeout=30)
        assert upload.channel == CHANNEL and upload.filename.endswith(".png")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 60) == 0  # exits in a second; 60 for a loaded box
        await fake.stop()


async def test_an_event_retried_after_a_restart_is_not_generated_again(tmp_path: Path) -> None:
    async with running(tmp_path) as slack:
        photo = await slack.share_image(png())
        body = slack.event_body(slack.mention_event("make it night", thread_ts=photo["ts"]), event_id="Ev0RESTART")
        await slack.sender.event(body)
        await slack.fake.next_upload()
        await slack.delivered()
    async with running(tmp_path) as again:
        status, _, _ = await again.sender.event(body, retry=1)
        assert status == 200
        await asyncio.sleep(0.3)
        assert len(await again.jobs()) == 1
        assert again.fake.uploads == [] and again.fake.calls_to("download") == []
