"""Slack in HTTP mode behind a load balancer: two ``studiobot run`` front ends with one signing secret and one
PostgreSQL, and a ``studiobot worker`` on its own data dir (another machine). Whichever front end Slack or the
balancer picks, a member sees one result per event and a limit is the limit, not twice the limit."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from emulator.app import Emulator
from tests.bots.stack import CHANNEL, Stack
from tests.fakes.media import png
from tests.fakes.slack import BOT_USER, TEAM, SlackSender
from tests.fakes.slack.oauth import CLIENT_ID, CLIENT_SECRET
from tests.processes import free_port, launch
from tests.waiting import until

OAUTH = {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET}


def slack_env(stack: Stack, name: str, database: str, *, oauth: bool, **extra: str) -> dict[str, str]:
    """Slack only (no Discord), every process on the same database, each with its own data directory."""
    env = stack.env(STUDIOBOT_DATA_DIR=str(stack.data / name), STUDIOBOT_DATABASE_URL=database, **extra)
    env.pop("DISCORD_TOKEN")
    if oauth:  # many workspaces: tokens only in the installation store, which is in the database
        env.pop("SLACK_BOT_TOKEN")
        env |= OAUTH
    return env


async def start(stack: Stack, command: str, env: dict[str, str], ready: str) -> None:
    stack.procs.append(await launch(command, env=env, ready=[ready]))


async def front_ends(stack: Stack, database: str, *, oauth: bool = False, worker: bool = False,
                     extra: dict[str, str] | None = None) -> list[SlackSender]:
    """Two front ends (and a worker) started side by side; a sender signing for each one's /slack/events."""
    ports = [free_port(), free_port()]
    envs = [slack_env(stack, f"front{n}", database, oauth=oauth, STUDIOBOT_SLACK_PORT=str(port), **(extra or {}))
            for n, port in enumerate(ports)]
    starting = [start(stack, "run", env, f":{port}/slack/events") for env, port in zip(envs, ports, strict=True)]
    if worker:
        starting.append(start(stack, "worker", slack_env(stack, "worker", database, oauth=oauth, **(extra or {})),
                               "delivers to"))
    failed = [e for e in await asyncio.gather(*starting, return_exceptions=True) if e is not None]
    if failed:  # the others are in stack.procs by now, so the stack stops them
        raise failed[0]
    assert stack.http is not None
    return [SlackSender(stack.http, f"http://127.0.0.1:{port}/slack/events") for port in ports]


async def install_across(stack: Stack, first: SlackSender, second: SlackSender) -> str:
    """A member opens the install link on one front end; Slack's redirect lands on the other."""
    assert stack.http is not None
    async with stack.http.get(first.url.replace("/slack/events", "/slack/install")) as res:
        assert res.status == 200
        page = await res.text()
        cookie = "; ".join(c.split(";", 1)[0] for c in res.headers.getall("Set-Cookie"))  # as a browser sends it
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert link is not None, page
    state = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)["state"][0]
    code = stack.slack.grant(TEAM, bot_user=BOT_USER)
    async with stack.http.get(second.url.replace("/slack/events", "/slack/oauth_redirect"),
                              params={"code": code, "state": state}, headers={"Cookie": cookie}) as res:
        assert res.status == 200 and "Thank you" in await res.text()
    token = stack.slack.token_of(TEAM)
    assert token is not None
    return str(token)


async def journal(database: str) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(database) as db:
        cursor = await db.execute("SELECT id, state, delivery, dedupe_key FROM jobs ORDER BY created_at")
        return await cursor.fetchall()


def edit_in_thread(stack: Stack, event_id: str) -> dict[str, Any]:
    """Alice mentions the bot under her photo: an edit, as an Events API callback."""
    photo = stack.slack.post_file(CHANNEL, png(320, 240), name="dock.png")
    mention = stack.slack.post_text(CHANNEL, f"<@{BOT_USER}> make it night", thread_ts=photo["ts"])
    event = {"type": "app_mention", "user": "UALICE", "text": mention["text"], "ts": mention["ts"],
             "channel": CHANNEL, "event_ts": mention["ts"], "thread_ts": photo["ts"], "files": photo["files"]}
    return {"token": "legacy", "team_id": TEAM, "api_app_id": "A0FAKE", "type": "event_callback",
            "event_id": event_id, "event_time": 1700000000, "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}


async def test_an_event_retried_to_the_other_front_end_is_generated_once_with_the_installed_token(
        tmp_path: Path, emulator: Emulator, postgres_url: str) -> None:
    async with Stack(tmp_path, emulator) as stack:
        a, b = await front_ends(stack, postgres_url, oauth=True, worker=True)
        token = await install_across(stack, a, b)

        body = edit_in_thread(stack, "Ev0BALANCED")
        assert (await a.event(body))[0] == 200  # Slack thought this ack came too late…
        assert (await b.event(body, retry=1))[0] == 200  # …and the balancer sent its retry to the other one

        async def settled() -> list[tuple[Any, ...]] | None:
            rows = await journal(postgres_url)
            done = bool(rows) and all(r[1:3] == ("done", "delivered") for r in rows)
            return rows if done and stack.slack_results(rows[0][0])[2] == 0 else None

        [(job_id, _, _, key)] = await until(settled, "the edit delivered and its status gone", timeout=90)
        assert key == "slack:event:Ev0BALANCED"
        assert stack.slack_results(job_id) == (0, 1, 0)  # one result message, no status left
        assert len(stack.slack.completed_uploads()) == 1
        assert {c.token for c in stack.slack.calls_to("files.completeUploadExternal")} == {token}
        assert not [e for e in stack.slack.ephemerals if "wouldn't" in e["text"] or "went wrong" in e["text"]]
        assert [await p.stop() for p in stack.procs] == [0, 0, 0]
    assert stack.scan() == []
    assert not [line for p in stack.procs for line in p.log if token in line]


def told_limits(stack: Stack) -> Sequence[str]:
    return [e["text"] for e in stack.slack.ephemerals if "made 3 requests" in e["text"] or "today's 3" in e["text"]]


@pytest.mark.parametrize(("limit", "users"), [("STUDIOBOT_USER_REQUESTS_PER_MINUTE", ["UALICE"]),
                                              ("STUDIOBOT_SERVER_REQUESTS_PER_DAY", ["UALICE", "UBOB", "UCY"])],
                         ids=["a member per minute", "a server per day"])
async def test_the_last_request_of_a_window_is_admitted_by_one_front_end_only(
        tmp_path: Path, emulator: Emulator, postgres_url: str, limit: str, users: list[str]) -> None:
    async with Stack(tmp_path, emulator) as stack:
        a, b = await front_ends(stack, postgres_url, extra={limit: "3"})
        commands = [(sender, n, users[n % len(users)]) for n in range(8) for sender in [(a, b)[n % 2]]]
        answers = await asyncio.gather(*(sender.form({
            "team_id": TEAM, "channel_id": CHANNEL, "user_id": user, "command": "/speak", "text": f"hello {n}",
            "trigger_id": f"trig.q{n}", "response_url": stack.slack.response_url(f"q{n}")})
            for sender, n, user in commands))
        assert all(status == 200 for status, _, _ in answers)

        async def all_answered() -> list[tuple[Any, ...]] | None:
            rows = await journal(postgres_url)
            return rows if len(rows) + len(told_limits(stack)) >= 8 else None

        rows = await until(all_answered, "every command accepted or refused", timeout=60)
        assert (len(rows), len(told_limits(stack))) == (3, 5), (rows, told_limits(stack))
        assert [await p.stop() for p in stack.procs] == [0, 0]
