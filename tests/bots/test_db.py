"""``studiobot db``: an operator moves an embedded journal to PostgreSQL and nothing of its history is lost."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import psycopg
from slack_sdk.oauth.installation_store.models.installation import Installation

from adapters.slack.installs import SlackStores
from bots.db_cli import upgrade_schema
from core.requests import EditRequest, ImagineRequest, Origin, Requester, SpeakRequest
from core.studio import open_studio
from tests.fakes.media import png
from tests.fakes.slack.oauth import CLIENT_ID, CLIENT_SECRET
from tests.processes import STUDIOBOT, clean_env
from tests.settings import offline_settings

ADA = Requester("discord", "u1", "Ada")
HERE = Origin("discord", workspace="g1", channel="c1")


def studiobot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*STUDIOBOT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
                          check=False)


async def test_migrate_from_sqlite_moves_the_history_intact_and_can_be_repeated(
        tmp_path: Path, postgres_url: str) -> None:
    old = tmp_path / "old"
    async with open_studio(offline_settings(old)) as studio:
        spoken = await studio.submit(SpeakRequest("good morning"), ADA, HERE)
        drawn = await studio.submit(ImagineRequest("a lighthouse"), ADA, HERE)
        await studio.outcome(spoken.id)
        await studio.outcome(drawn.id)
        edited = await studio.submit(EditRequest(png(64, 64), "make it night"), ADA, HERE, parent_id=drawn.id)
        await studio.outcome(edited.id)
        before = await studio.recent("discord")
        results = {j.id: await studio.result_of(j) for j in before}
    env = clean_env(STUDIOBOT_DATA_DIR=str(old), STUDIOBOT_DATABASE_URL=postgres_url)

    moved = studiobot("db", "migrate-from-sqlite", str(old / "journal.sqlite3"), env=env, cwd=tmp_path)
    assert moved.returncode == 0, moved.stderr
    assert "Copied 3 jobs" in moved.stdout and "3 result files, 1 input files" in moved.stdout
    assert postgres_url not in moved.stdout + moved.stderr

    again = studiobot("db", "migrate-from-sqlite", str(old / "journal.sqlite3"), env=env, cwd=tmp_path)
    assert again.returncode == 0 and "Copied 0 jobs" in again.stdout and "0 result files" in again.stdout

    # another machine, with none of the old data directory: history, inputs and results all come from PostgreSQL
    async with open_studio(offline_settings(tmp_path / "elsewhere", database_url=postgres_url)) as studio:
        after = await studio.recent("discord")
        assert [(j.id, j.state, j.parent_id, j.request) for j in after] == \
               [(j.id, j.state, j.parent_id, j.request) for j in before]
        for job in after:
            assert await studio.result_of(job) == results[job.id]


def test_db_upgrade_says_where_the_schema_is(tmp_path: Path, postgres_url: str) -> None:
    env = clean_env(STUDIOBOT_DATA_DIR=str(tmp_path), STUDIOBOT_DATABASE_URL=postgres_url)
    done = studiobot("db", "upgrade", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Schema up to date in PostgreSQL" in done.stdout
    sqlite = studiobot("db", "upgrade", env=clean_env(STUDIOBOT_DATA_DIR=str(tmp_path)), cwd=tmp_path)
    assert str(tmp_path / "journal.sqlite3") in sqlite.stdout.replace("\n", "")


def test_migrate_needs_a_postgresql_url(tmp_path: Path) -> None:
    done = studiobot("db", "migrate-from-sqlite", str(tmp_path / "j.sqlite3"),
                     env=clean_env(STUDIOBOT_DATA_DIR=str(tmp_path)), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == "error: set STUDIOBOT_DATABASE_URL to the PostgreSQL database to copy into"


async def test_migrate_from_sqlite_keeps_the_slack_workspaces_installed(tmp_path: Path, postgres_url: str) -> None:
    old = tmp_path / "old"
    journal = old / "journal.sqlite3"
    before = SlackStores(None, journal, CLIENT_ID, CLIENT_SECRET)
    try:
        await before.installations.async_save(Installation(
            team_id="T0SECOND", user_id="UINSTALLER", bot_token="xoxb-T0SECOND-1", bot_id="B1",
            bot_user_id="UBOT2", bot_scopes="commands,chat:write"))
    finally:
        await before.close()
    env = clean_env(STUDIOBOT_DATA_DIR=str(old), STUDIOBOT_DATABASE_URL=postgres_url)

    moved = studiobot("db", "migrate-from-sqlite", str(journal), env=env, cwd=tmp_path)
    assert moved.returncode == 0, moved.stderr
    assert "1 slack_installations, 1 slack_bots" in moved.stdout
    assert "xoxb-T0SECOND-1" not in moved.stdout + moved.stderr

    after = SlackStores(postgres_url, journal, CLIENT_ID, CLIENT_SECRET)
    try:
        bot = await after.installations.async_find_bot(enterprise_id=None, team_id="T0SECOND")
        installation = await after.installations.async_find_installation(enterprise_id=None, team_id="T0SECOND")
    finally:
        await after.close()
    assert bot is not None and bot.bot_token == "xoxb-T0SECOND-1"
    assert installation is not None and installation.user_id == "UINSTALLER"


def test_db_upgrade_creates_the_slack_installation_tables(tmp_path: Path, postgres_url: str) -> None:
    env = clean_env(STUDIOBOT_DATA_DIR=str(tmp_path), STUDIOBOT_DATABASE_URL=postgres_url)
    assert studiobot("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    with psycopg.connect(postgres_url) as conn:
        found = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'slack_%'")}
    assert found == {"slack_installations", "slack_bots", "slack_oauth_states"}


async def test_processes_starting_at_once_on_a_new_database_each_find_the_schema(
        tmp_path: Path, postgres_url: str) -> None:
    """Front ends and workers started together (compose up) race to create the schema: all of them succeed."""
    dialects = await asyncio.gather(*(upgrade_schema(postgres_url, tmp_path / f"{n}.sqlite3") for n in range(4)))
    assert dialects == ["postgresql"] * 4
    with psycopg.connect(postgres_url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"jobs", "usage", "procrastinate_jobs", "slack_bots", "schema_versions"} <= tables
