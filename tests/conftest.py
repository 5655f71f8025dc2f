"""Shared fixtures: the fake peers tests drive the real libraries against."""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest

from emulator.app import Emulator
from tests.postgres import Cluster, running_cluster

# Tests stop the processes they start with SIGINT, as Ctrl+C would. A shell without job control starts a
# background command (`ci.sh &`) with SIGINT ignored, and an ignored signal stays ignored across exec, so
# every `studiobot run` under such a suite would ignore Ctrl+C and the test would time out. Put it back.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
async def emulator(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Emulator]:
    """A Gemini emulator on a free local port; its ``base_url`` goes in HttpOptions."""
    if any(os.environ.get(v) for v in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")):
        # google-genai's aiohttp session trusts the environment: keep local traffic off the proxy.
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.setenv(name, ",".join(filter(None, [os.environ.get(name), "127.0.0.1", "localhost"])))
    emu = Emulator(api_key="test-key")
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """One throwaway PostgreSQL server for the session; absent binaries skip, except under CI."""
    try:
        with running_cluster() as cluster:
            yield cluster
    except FileNotFoundError as err:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL tests must run under CI: {err}")
        pytest.skip(f"PostgreSQL tests need the server: {err}")


@pytest.fixture
async def postgres_url(postgres_cluster: Cluster) -> str:
    """A fresh, empty database on the session's server, so tests never see each other's rows."""
    name = f"t_{secrets.token_hex(6)}"
    async with await psycopg.AsyncConnection.connect(postgres_cluster.url(), autocommit=True) as conn:
        await conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_cluster.url(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def each_store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once on the embedded SQLite journal and once on PostgreSQL (STUDIOBOT_DATABASE_URL)."""
    if request.param == "postgresql":
        monkeypatch.setenv("STUDIOBOT_DATABASE_URL", request.getfixturevalue("postgres_url"))
    else:
        monkeypatch.delenv("STUDIOBOT_DATABASE_URL", raising=False)
    return str(request.param)
