"""Discord and Slack in one ``studiobot run`` process, sharing one studio and one journal."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import aiohttp

from tests.fakes.discord import FakeDiscord
from tests.fakes.media import image_size
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, TEAM, FakeSlack, SlackSender
from tests.processes import STUDIOBOT, clean_env, free_port, read_until


async def test_discord_and_slack_share_one_process_and_journal(tmp_path: Path) -> None:
    discord, slack = FakeDiscord(), FakeSlack()
    await discord.start()
    await slack.start()
    port = free_port()
    env = clean_env(
        STUDIOBOT_DATA_DIR=str(tmp_path), STUDIOBOT_MEDIA_HOSTS="127.0.0.1",
        DISCORD_TOKEN="test-token", STUDIOBOT_DISCORD_API_BASE=discord.api_base,
        STUDIOBOT_DISCORD_GATEWAY_URL=discord.gateway_url,
        SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
        STUDIOBOT_SLACK_PORT=str(port), STUDIOBOT_SLACK_API_URL=slack.api_url,
    )
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, "run", env=env, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        await read_until(proc.stderr, "logged in as Studiobot", f":{port}/slack/events")
        on_discord = await discord.result(await discord.slash("imagine", prompt="a harbour", aspect="16:9"))
        assert image_size(discord.file(on_discord["attachments"][0])) == (1344, 768)
        async with aiohttp.ClientSession() as http:
            sender = SlackSender(http, f"http://127.0.0.1:{port}/slack/events")
            status, _, _ = await sender.form({
                "team_id": TEAM, "channel_id": "C0GENERAL", "user_id": "UALICE", "command": "/imagine",
                "text": "a kite --aspect 9:16", "trigger_id": "trig.both", "response_url": slack.response_url(),
            })
            assert status == 200
        upload = await slack.next_upload(timeout=30)
        assert image_size(upload.content) == (768, 1344)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        await slack.stop()
        await discord.stop()
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        rows = db.execute("SELECT platform, state, delivery FROM jobs ORDER BY platform").fetchall()
    assert rows == [("discord", "done", "delivered"), ("slack", "done", "delivered")]
