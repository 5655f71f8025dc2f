"""Real ``studiobot run`` processes against fake Discord, fake Slack and the Gemini emulator, plus what users see.

Used by the delivery tests: crash a process at a chosen stage, start another on the same data directory,
and check that every command ends with exactly one visible result and no leftover placeholder.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from adapters.slack.ledger import RESULT_EVENT, STATUS_EVENT
from emulator.app import Emulator
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.state import Interaction
from tests.fakes.media import png
from tests.fakes.slack import BOT_TOKEN, BOT_USER, SIGNING_SECRET, TEAM, FakeSlack, SlackSender
from tests.processes import Proc, clean_env, free_port, launch

CHANNEL = "C0GENERAL"
PROGRESS = ("⏳", "🎨 Drawing", "🗣️ Recording", "🖌️ Editing")


@dataclass
class Stack:
    data: Path
    emulator: Emulator
    discord: FakeDiscord = field(default_factory=FakeDiscord)
    slack: FakeSlack = field(default_factory=FakeSlack)
    port: int = field(default_factory=free_port)
    procs: list[Proc] = field(default_factory=list)
    http: aiohttp.ClientSession | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def __aenter__(self) -> Stack:
        await self.discord.start()
        await self.slack.start()
        self.http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for p in self.procs:
            if p.proc.returncode is None:
                p.kill()
                await p.proc.wait()
        assert self.http is not None
        await self.http.close()
        await self.slack.stop()
        await self.discord.stop()

    def env(self, **extra: str) -> dict[str, str]:
        return clean_env(
            STUDIOBOT_DATA_DIR=str(self.data), STUDIOBOT_MEDIA_HOSTS="127.0.0.1",
            GEMINI_API_KEY="test-key", STUDIOBOT_GEMINI_BASE_URL=self.emulator.base_url,
            STUDIOBOT_GEMINI_RETRY_BASE_S="0.01", STUDIOBOT_GEMINI_TIMEOUT_S="120",
            STUDIOBOT_USER_REQUESTS_PER_MINUTE="0", STUDIOBOT_PROGRESS_INTERVAL_S="0.2",
            STUDIOBOT_SPEECH_WORKERS="2", STUDIOBOT_IMAGE_WORKERS="4", STUDIOBOT_SHUTDOWN_GRACE_S="5",
            DISCORD_TOKEN="test-token", STUDIOBOT_DISCORD_API_BASE=self.discord.api_base,
            STUDIOBOT_DISCORD_GATEWAY_URL=self.discord.gateway_url,
            SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
            STUDIOBOT_SLACK_PORT=str(self.port), STUDIOBOT_SLACK_API_URL=self.slack.api_url,
        ) | extra

    async def start(self, *args: str, slack: bool = True, **extra: str) -> Proc:
        env = self.env(**extra)
        if not slack:
            env.pop("SLACK_BOT_TOKEN")
        needles = ["logged in as Studiobot"] + ([f":{self.port}/slack/events"] if slack else [])
        return await self._launch("run", *args, env=env, ready=needles)

    async def start_worker(self, data: Path, database: str, *, slack: bool = False) -> Proc:
        """A ``studiobot worker`` with its own data dir (as on another machine), delivering to the fakes."""
        env = self.env(STUDIOBOT_DATA_DIR=str(data), STUDIOBOT_DATABASE_URL=database)
        if not slack:
            env.pop("SLACK_BOT_TOKEN")
        return await self._launch("worker", env=env, ready=["delivers to"])

    async def _launch(self, *args: str, env: dict[str, str], ready: list[str]) -> Proc:
        started = await launch(*args, env=env, ready=ready)
        self.procs.append(started)
        return started

    # -- commands, as users send them -----------------------------------------------------------------------

    async def discord_commands(self) -> list[Interaction]:
        d = self.discord
        photo = d.upload("dock.png", png(320, 240), "image/png")
        return [await d.slash("speak", text="good morning"), await d.slash("imagine", prompt="a harbour"),
                await d.slash("edit", image=photo, instruction="make it night")]

    @property
    def sender(self) -> SlackSender:
        assert self.http is not None
        return SlackSender(self.http, f"http://127.0.0.1:{self.port}/slack/events")

    async def slack_slash(self, command: str, text: str, user: str = "UALICE") -> None:
        n = next(self._ids)
        status, _, _ = await self.sender.form({
            "team_id": TEAM, "channel_id": CHANNEL, "user_id": user, "command": command, "text": text,
            "trigger_id": f"trig.{n}", "response_url": self.slack.response_url(f"r{n}")})
        assert status == 200

    async def slack_commands(self) -> None:
        await self.slack_slash("/speak", "good morning")
        await self.slack_slash("/imagine", "a harbour")
        photo = self.slack.post_file(CHANNEL, png(320, 240), name="dock.png")
        mention = self.slack.post_text(CHANNEL, f"<@{BOT_USER}> make it night", thread_ts=photo["ts"])
        event = {"type": "app_mention", "user": "UALICE", "text": mention["text"], "ts": mention["ts"],
                 "channel": CHANNEL, "event_ts": mention["ts"], "thread_ts": photo["ts"], "files": photo["files"]}
        body = {"token": "legacy", "team_id": TEAM, "api_app_id": "A0FAKE", "type": "event_callback",
                "event_id": f"Ev{next(self._ids)}", "event_time": 1700000000, "event": event,
                "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}
        status, _, _ = await self.sender.event(body)
        assert status == 200

    # -- the journal and what users see -----------------------------------------------------------------------

    def rows(self, sql: str = "SELECT id, platform, state, delivery, dedupe_key, kind FROM jobs") -> list[Any]:
        path = self.data / "journal.sqlite3"
        if not path.exists():
            return []
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
            return db.execute(sql).fetchall()

    async def until(self, check: Any, timeout: float = 60, every: float = 0.02) -> Any:
        async with asyncio.timeout(timeout):
            while not (found := check()):
                await asyncio.sleep(every)
            return found

    async def all_settled(self, count: int, timeout: float = 90) -> list[Any]:
        def settled() -> list[Any] | None:
            rows = self.rows()
            done = [r for r in rows if r[2] not in ("queued", "running") and r[3] in ("delivered", "undeliverable")]
            return rows if len(rows) >= count and len(done) == len(rows) else None
        rows: list[Any] = await self.until(settled, timeout, every=0.1)
        return rows

    def discord_results(self, job_id: str) -> list[dict[str, Any]]:
        state = self.discord.state
        return [m for m in state.messages.values() if m["author"]["id"] == state.bot["id"]
                and m["id"] not in state.deleted and any(job_id in a["filename"] for a in m["attachments"])]

    def discord_leftovers(self) -> list[str]:
        """Visible bot messages still showing progress: a placeholder nobody replaced."""
        state = self.discord.state
        return [str(m["content"]) for m in state.messages.values()
                if m["author"]["id"] == state.bot["id"] and m["id"] not in state.deleted and not m["attachments"]
                and (not m["content"] or str(m["content"]).startswith(PROGRESS))]

    def slack_results(self, job_id: str) -> tuple[int, int, int]:
        """(file shares, result messages, status messages) of this job, across the channel and its threads.
        Speech is a shared file plus its result message; an image is one result message showing it."""
        messages = self.slack.channels.get(CHANNEL, [])
        files = sum(1 for m in messages if any(job_id in f["name"] for f in m.get("files", [])))

        def tagged(event: str) -> int:
            return sum(1 for m in messages if (m.get("metadata") or {}).get("event_type") == event
                       and m["metadata"]["event_payload"].get("job_id") == job_id)
        return files, tagged(RESULT_EVENT), tagged(STATUS_EVENT)

    def assert_exactly_once(self, rows: Sequence[Any]) -> None:
        for job_id, platform, state, delivery, _, kind in rows:
            assert (state, delivery) == ("done", "delivered"), (job_id, platform, state, delivery)
            if platform == "discord":
                assert len(self.discord_results(job_id)) == 1, (job_id, self.discord_results(job_id))
            else:
                expected = (1 if kind == "speak" else 0, 1, 0)
                assert self.slack_results(job_id) == expected, (job_id, kind, self.slack_results(job_id))
        assert self.discord_leftovers() == []
        errors = [e["text"] for e in self.slack.ephemerals if "wouldn't" in e["text"] or "went wrong" in e["text"]]
        assert errors == []

    def secrets(self) -> list[str]:
        """Every capability and key the run handled: none may appear in a log line or the data dir."""
        found = ["test-token", BOT_TOKEN, SIGNING_SECRET, "test-key"]
        found += [it.token for it in self.discord.state.interactions.values()]
        found += [self.slack.response_url(f"r{n}") for n in range(1, next(self._ids))]
        return found

    def scan(self) -> list[str]:
        """Where any secret shows up: log lines of every process, every file under the data dir."""
        leaks = []
        secrets = [s for s in self.secrets() if s]
        for p in self.procs:
            for line in p.log:
                leaks += [f"log: {s}" for s in secrets if s in line]
        for path in self.data.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                leaks += [f"{path.name}: {s}" for s in secrets if s.encode() in data]
        return leaks
