"""compose.yaml's services run as real processes, with the environment compose would give them, against the
test PostgreSQL: the one-shot upgrade succeeds, and each health check passes while the service serves and
fails once it is gone."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.compose import environment, load
from tests.deploy.test_compose import COMPOSE
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.processes import STUDIOBOT, clean_env, free_port, read_until

DOTENV = {"POSTGRES_PASSWORD": "pw", "DISCORD_TOKEN": "unused", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
          "SLACK_BOT_TOKEN": BOT_TOKEN}
READY_S = 60.0  # the services' start_period


def container_env(service: dict[str, Any], postgres_url: str, tmp_path: Path, **local: str) -> dict[str, str]:
    """The service's environment, with the database on this machine instead of the `postgres` host."""
    env = environment(service, DOTENV) | {"STUDIOBOT_DATABASE_URL": postgres_url}
    return clean_env(**(env | {"STUDIOBOT_DATA_DIR": str(tmp_path / "data")} | local))


async def health(service: dict[str, Any], env: dict[str, str]) -> int:
    """Run the service's health check as Docker would, inside the container's environment."""
    test = service["healthcheck"]["test"]
    assert test[:2] == ["CMD", "python"]
    proc = await asyncio.create_subprocess_exec(sys.executable, *test[2:], env=env,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    return await asyncio.wait_for(proc.wait(), 30)


async def healthy_within(service: dict[str, Any], env: dict[str, str], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while await health(service, env) != 0:
            await asyncio.sleep(0.2)  # Docker polls too: interval, then retries


@pytest.fixture
def services() -> dict[str, Any]:
    model: dict[str, Any] = load(COMPOSE, DOTENV)
    return model["services"]


async def test_migrate_then_the_slack_front_end_is_healthy(services: dict[str, Any], postgres_url: str,
                                                           tmp_path: Path) -> None:
    migrate = services["migrate"]
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, *migrate["command"], cwd=tmp_path,
                                                env=container_env(migrate, postgres_url, tmp_path),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    assert "PostgreSQL" in out.decode()

    slack = services["slack"]
    fake = FakeSlack()
    await fake.start()
    try:
        port = free_port()
        env = container_env(slack, postgres_url, tmp_path, STUDIOBOT_SLACK_API_URL=fake.api_url,
                            STUDIOBOT_SLACK_PORT=str(port), STUDIOBOT_METRICS_PORT=str(free_port()))
        assert await health(slack, env) != 0  # nothing serves yet
        await serve_until_healthy(slack, env, tmp_path, f":{port}/slack/events")
    finally:
        await fake.stop()


async def serve_until_healthy(service: dict[str, Any], env: dict[str, str], cwd: Path, banner: str) -> None:
    """Start the service's command; its health check must pass once it serves, and fail after it stopped."""
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, *service["command"], cwd=cwd, env=env,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        await read_until(proc.stderr, banner, timeout=READY_S)
        await healthy_within(service, env, READY_S)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 60) == 0
    assert await health(service, env) != 0  # gone: the check says so


async def test_a_worker_is_healthy_while_it_takes_jobs(services: dict[str, Any], postgres_url: str,
                                                       tmp_path: Path) -> None:
    migrate = services["migrate"]
    done = await asyncio.create_subprocess_exec(*STUDIOBOT, *migrate["command"], cwd=tmp_path,
                                                env=container_env(migrate, postgres_url, tmp_path))
    assert await asyncio.wait_for(done.wait(), 60) == 0
    worker = services["worker"]
    fake = FakeSlack()
    await fake.start()
    try:
        env = container_env(worker, postgres_url, tmp_path, STUDIOBOT_SLACK_API_URL=fake.api_url,
                            STUDIOBOT_METRICS_PORT=str(free_port()))
        env.pop("DISCORD_TOKEN")  # it would log in to the real Discord; Slack's delivery goes to the fake
        assert await health(worker, env) != 0
        await serve_until_healthy(worker, env, tmp_path, "Worker:")
    finally:
        await fake.stop()
