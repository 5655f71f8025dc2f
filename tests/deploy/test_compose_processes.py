"""compose.yaml's services run as real processes, with the environment compose would give them, against the
test PostgreSQL and the fake platforms: the one-shot upgrade succeeds, each health check passes while its
service serves and fails once it is gone, and a command taken by the Discord front end is posted once by a
worker."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.deploy.compose import environment, load
from tests.deploy.test_compose import COMPOSE
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.processes import STUDIOBOT, Proc, clean_env, free_port, launch, read_until
from tests.waiting import until

DOTENV = {"POSTGRES_PASSWORD": "pw", "DISCORD_TOKEN": "test-token", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
          "SLACK_BOT_TOKEN": BOT_TOKEN}  # a .env as .env.example asks for: optional lines left out
READY_S = 60.0  # the services' start_period
BANNERS = {"discord": "logged in as", "slack": "/slack/events", "worker": "Worker:"}


@pytest.fixture
def services() -> dict[str, Any]:
    model: dict[str, Any] = load(COMPOSE, DOTENV)
    return model["services"]


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeDiscord, FakeSlack]]:
    discord, slack = FakeDiscord(), FakeSlack()
    await discord.start()
    await slack.start()
    yield discord, slack
    await slack.stop()
    await discord.stop()


@pytest.fixture
async def database(services: dict[str, Any], postgres_url: str, tmp_path: Path) -> str:
    """The test database after compose's one-shot `migrate` ran in it."""
    migrate = services["migrate"]
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, *migrate["command"], cwd=tmp_path,
                                                env=container_env(migrate, postgres_url, tmp_path / "migrate"),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    assert "Schema up to date in PostgreSQL" in out.decode()
    return postgres_url


def container_env(service: dict[str, Any], database: str, data: Path, **local: str) -> dict[str, str]:
    """The service's environment as compose resolves it; only what names a host is pointed at this machine."""
    env = environment(service, DOTENV) | {"STUDIOBOT_DATABASE_URL": database}
    return clean_env(**(env | {"STUDIOBOT_DATA_DIR": str(data)} | local))


def on_this_machine(fakes: tuple[FakeDiscord, FakeSlack]) -> dict[str, str]:
    discord, slack = fakes
    return {"STUDIOBOT_DISCORD_API_BASE": discord.api_base, "STUDIOBOT_DISCORD_GATEWAY_URL": discord.gateway_url,
            "STUDIOBOT_SLACK_API_URL": slack.api_url, "STUDIOBOT_SLACK_PORT": str(free_port()),
            "STUDIOBOT_METRICS_PORT": str(free_port())}


async def health(service: dict[str, Any], env: dict[str, str]) -> int:
    """Run the service's health check as Docker would, inside the container's environment."""
    test = service["healthcheck"]["test"]
    assert test[:2] == ["CMD", "python"]
    proc = await asyncio.create_subprocess_exec(sys.executable, *test[2:], env=env,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    return await asyncio.wait_for(proc.wait(), 30)


async def healthy_within(service: dict[str, Any], env: dict[str, str], timeout: float = READY_S) -> None:
    async with asyncio.timeout(timeout):
        while await health(service, env) != 0:
            await asyncio.sleep(0.2)  # Docker polls too: interval, then retries


@pytest.mark.parametrize("name", ["discord", "slack", "worker"])
async def test_each_service_is_healthy_while_it_serves_and_not_once_gone(
        name: str, services: dict[str, Any], database: str, fakes: tuple[FakeDiscord, FakeSlack],
        tmp_path: Path) -> None:
    service = services[name]
    env = container_env(service, database, tmp_path / name, **on_this_machine(fakes))
    assert await health(service, env) != 0  # nothing serves yet
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, *service["command"], cwd=tmp_path, env=env,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        await read_until(proc.stderr, BANNERS[name], timeout=READY_S)
        await healthy_within(service, env)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 60) == 0
    assert await health(service, env) != 0  # gone: the check says so


async def test_the_discord_front_end_takes_a_command_and_a_worker_posts_it_once(
        services: dict[str, Any], database: str, fakes: tuple[FakeDiscord, FakeSlack], tmp_path: Path) -> None:
    discord, _ = fakes
    local = on_this_machine(fakes)
    procs: list[Proc] = []
    try:
        for name in ("discord", "worker"):
            env = container_env(services[name], database, tmp_path / name, **local)
            procs.append(await launch(*services[name]["command"], env=env, ready=[BANNERS[name]],
                                      timeout=READY_S))
        asked = await discord.slash("imagine", prompt="a lighthouse at dusk")
        assert await discord.responded(asked) == 5  # the front end deferred: "thinking…"

        async def delivered() -> bool:
            async with await psycopg.AsyncConnection.connect(database) as db:
                rows = await (await db.execute("SELECT state, delivery FROM jobs")).fetchall()
            return rows == [("done", "delivered")]

        await until(delivered, "the job done and delivered", timeout=90)
        posted = [m for m in discord.state.messages.values() if m["attachments"]
                  and m["author"]["id"] == discord.state.bot["id"] and m["id"] not in discord.state.deleted]
        [image] = posted
        assert discord.file(image["attachments"][0]).startswith(b"\x89PNG")
        assert not [c for c in discord.state.calls if c.method == "PATCH" and "@original" in c.path and c.files]
        # the worker posted it, as a channel message: the interaction token never left the front end
    finally:
        for proc in procs:
            assert await proc.stop() == 0
