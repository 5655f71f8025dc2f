"""Socket Mode: the same app over the fake's websocket, with acks as envelope replies."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import SecretStr

from tests.adapters.slack.conftest import ALICE, CHANNEL, png, running
from tests.fakes.slack import APP_TOKEN, TEAM


async def test_slash_command_over_socket_mode_acks_in_the_envelope_then_uploads(tmp_path: Path) -> None:
    async with running(tmp_path, slack_app_token=SecretStr(APP_TOKEN)) as slack:
        assert slack.adapter.socket_mode
        assert slack.fake.calls_to("apps.connections.open")[0].token == APP_TOKEN
        ack = await slack.fake.socket.send("slash_commands", {
            "team_id": TEAM, "channel_id": CHANNEL, "user_id": ALICE, "user_name": "alice", "command": "/imagine",
            "text": "a paper boat --aspect 3:2", "trigger_id": "trig.socket", "response_url": slack.fake.response_url(),
        })
        reply = await asyncio.wait_for(ack, 5)
        assert not reply.get("payload")  # an empty ack: the visible status follows
        upload = await slack.fake.next_upload()
        assert upload.channel == CHANNEL and upload.filename.endswith(".png")


async def test_a_redelivered_event_envelope_makes_one_edit(tmp_path: Path) -> None:
    async with running(tmp_path, slack_app_token=SecretStr(APP_TOKEN)) as slack:
        photo = slack.fake.post_file(CHANNEL, png())
        body = slack.event_body(slack.mention_event("make it night", thread_ts=photo["ts"]), event_id="Ev0SOCKET")
        first = await slack.fake.socket.send("events_api", body)
        second = await slack.fake.socket.send("events_api", body, retry_attempt=1)
        assert {"envelope_id"} == set((await asyncio.wait_for(first, 5)).keys())
        await asyncio.wait_for(second, 5)
        upload = await slack.fake.next_upload()
        assert upload.thread_ts == photo["ts"]
        await asyncio.sleep(0.3)
        assert len(await slack.jobs()) == 1 and len(slack.fake.completed_uploads()) == 1



async def test_after_the_socket_drops_it_reconnects_and_no_event_is_lost_or_doubled(tmp_path: Path) -> None:
    async with running(tmp_path, slack_app_token=SecretStr(APP_TOKEN)) as slack:
        fake = slack.fake
        photos = [fake.post_file(CHANNEL, png()) for _ in range(3)]
        bodies = [slack.event_body(slack.mention_event("make it night", thread_ts=p["ts"])) for p in photos]
        first = await fake.socket.send("events_api", bodies[0])
        await asyncio.wait_for(first, 5)
        # the second is handled and acked, but the ack is lost in the drop; the third is sent into the drop
        second = await fake.socket.send("events_api", bodies[1])
        second_id = (await asyncio.wait_for(second, 5))["envelope_id"]
        await fake.socket.send("events_api", bodies[2])
        await fake.socket.drop(lost=(second_id,))

        await fake.wait_for(lambda: len(fake.calls_to("apps.connections.open")) == 2)
        await fake.socket.connected()
        assert fake.socket.connections == 2
        assert len(fake.socket.redelivered) >= 1  # Slack's retries of what it did not see acked
        for ack in fake.socket.redelivered:
            await asyncio.wait_for(ack, 5)
        fourth = fake.post_file(CHANNEL, png())
        after = await fake.socket.send("events_api", slack.event_body(slack.mention_event("make it night",
                                                                                          thread_ts=fourth["ts"])))
        await asyncio.wait_for(after, 5)

        await fake.next_upload(4)
        jobs = await slack.delivered()
        assert len(jobs) == 4 and len(fake.completed_uploads()) == 4
        assert sorted(u.thread_ts or "" for u in fake.completed_uploads()) == sorted(
            p["ts"] for p in [*photos, fourth])
