"""Installations behind a load balancer: every front end shares one store (the journal's database), so an
install link issued by one completes on another, and a token rotated or revoked anywhere counts everywhere."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store.models.bot import Bot

from adapters.slack.installs import SlackStores
from core.db import opened
from tests.adapters.slack.test_workspaces import SECOND, install, many_workspaces
from tests.fakes.slack import FakeSlack
from tests.fakes.slack.oauth import CLIENT_ID, CLIENT_SECRET
from tests.waiting import until


@pytest.mark.usefixtures("each_store")
async def test_an_install_link_from_one_front_end_completes_on_another_and_both_use_its_token(
        tmp_path: Path) -> None:
    fake = FakeSlack()
    await fake.start()
    try:
        async with many_workspaces(tmp_path, fake=fake) as a, many_workspaces(tmp_path, fake=fake) as b:
            status, page = await install(a, back_to=b)  # state issued by a, consumed by b
            assert status == 200 and "Thank you" in page
            token = fake.token_of(SECOND)
            assert token is not None

            await b.slash("/imagine", "a harbour at dawn", team=SECOND)
            await a.slash("/imagine", "a harbour at dusk", team=SECOND)
            await fake.wait_for(lambda: len(fake.completed_uploads()) == 2)
            assert {c.token for c in fake.calls_to("files.completeUploadExternal")} == {token}

            status, _, _ = await b.sender.event(b.event_body(
                {"type": "app_uninstalled", "event_ts": "1700000100.000001"}, team=SECOND))
            assert status == 200
            stores = a.adapter.stores
            assert stores is not None

            async def forgotten() -> bool:  # events are acked before their listener runs
                return await stores.installations.async_find_bot(enterprise_id=None, team_id=SECOND) is None
            await until(forgotten, "the uninstall reached the other front end's store")
    finally:
        await fake.stop()


async def test_the_shared_database_holds_no_usable_token(tmp_path: Path, postgres_url: str) -> None:
    fake = FakeSlack()
    await fake.start()
    try:
        async with many_workspaces(tmp_path, fake=fake, database_url=postgres_url) as slack:
            await install(slack)
            token = fake.token_of(SECOND)
            assert token is not None
        async with opened(postgres_url, tmp_path / "unused.sqlite3") as db:
            rows = [r["data"] for t in ("slack_installations", "slack_bots")
                    for r in await db.fetch_all(f"SELECT data FROM {t}")]
        assert len(rows) == 2
        assert all(token.encode() not in bytes(data) for data in rows)
    finally:
        await fake.stop()


OLD_LAYOUT = """
CREATE TABLE slack_installations (
    client_id TEXT NOT NULL, enterprise_id TEXT NOT NULL, team_id TEXT NOT NULL, user_id TEXT NOT NULL,
    installed_at REAL NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (client_id, enterprise_id, team_id, user_id));
CREATE TABLE slack_bots (
    client_id TEXT NOT NULL, enterprise_id TEXT NOT NULL, team_id TEXT NOT NULL,
    installed_at REAL NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (client_id, enterprise_id, team_id));
CREATE TABLE slack_oauth_states (state TEXT PRIMARY KEY, expires_at REAL NOT NULL);
"""


async def test_installations_saved_before_the_move_to_the_database_layer_still_work(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    sealer = SlackStores(None, path, CLIENT_ID, CLIENT_SECRET)
    bot = Bot(team_id=SECOND, bot_token="xoxb-old", bot_id="B1", bot_user_id="UBOT2", installed_at=1.0)
    with sqlite3.connect(path) as db:  # as the release before wrote it: its own tables, INSERT OR REPLACE
        db.executescript(OLD_LAYOUT)
        db.execute("INSERT OR REPLACE INTO slack_bots VALUES (?, ?, ?, ?, ?)",
                   (CLIENT_ID, "", SECOND, 1.0, sealer.seal(bot.__dict__)))
    db.close()

    stores = SlackStores(None, path, CLIENT_ID, CLIENT_SECRET)
    try:
        found = await stores.installations.async_find_bot(enterprise_id=None, team_id=SECOND)
        assert found is not None and found.bot_token == "xoxb-old"
        await stores.installations.async_save_bot(Bot(team_id=SECOND, bot_token="xoxb-new", bot_id="B1",
                                                       bot_user_id="UBOT2", installed_at=2.0))
        found = await stores.installations.async_find_bot(enterprise_id=None, team_id=SECOND)
        assert found is not None and found.bot_token == "xoxb-new"
        state = await stores.states.async_issue()
        assert await stores.states.async_consume(state) and not await stores.states.async_consume(state)
    finally:
        await stores.close()
