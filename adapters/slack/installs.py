"""Slack installations and OAuth states in the journal's database, through Bolt's async store interfaces.

They live wherever the journal does (``core.db``): the embedded SQLite file, or with
``STUDIOBOT_DATABASE_URL`` the shared PostgreSQL, so every front end behind a load balancer accepts
an install link another one issued, and every worker finds the bot token of the workspace it posts to.
Bolt's own SQLite3 stores would run blocking ``sqlite3`` calls on the event loop; these do not.
Tokens are encrypted at rest (Fernet, keyed from ``SLACK_CLIENT_SECRET``): neither the data directory
nor the database holds a usable token. One row per (team, user) and one bot row per team; a rotation
overwrites them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import secrets
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from core.db import Database, open_database

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
POOL = 2  # one short lookup per Slack request or API call: the studio's own pool carries the real load
# The layout the embedded file has always had (old rows read as they are); only the bytes type differs.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS slack_installations (
    client_id TEXT NOT NULL, enterprise_id TEXT NOT NULL, team_id TEXT NOT NULL, user_id TEXT NOT NULL,
    installed_at DOUBLE PRECISION NOT NULL, data {bytes} NOT NULL,
    PRIMARY KEY (client_id, enterprise_id, team_id, user_id));
CREATE TABLE IF NOT EXISTS slack_bots (
    client_id TEXT NOT NULL, enterprise_id TEXT NOT NULL, team_id TEXT NOT NULL,
    installed_at DOUBLE PRECISION NOT NULL, data {bytes} NOT NULL,
    PRIMARY KEY (client_id, enterprise_id, team_id));
CREATE TABLE IF NOT EXISTS slack_oauth_states (state TEXT PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL);
"""
# What ``studiobot db migrate-from-sqlite`` copies, each with the column it copies in order of.
TABLES = {"slack_installations": "installed_at", "slack_bots": "installed_at", "slack_oauth_states": "expires_at"}


async def upgrade(db: Database) -> None:
    """Create the tables (``studiobot db upgrade`` and the first use); a file made before keeps its rows."""
    if await db.schema_version("slack") >= SCHEMA_VERSION:
        return
    await db.script(_SCHEMA.format(bytes="BYTEA" if db.dialect == "postgresql" else "BLOB"))
    await db.set_schema_version("slack", SCHEMA_VERSION)


def _key(secret: str) -> Fernet:
    digest = hashlib.sha256(b"studiobot-slack-installations:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class SlackStores:
    """Both stores over one database handle of their own, opened on first use and closed by the adapter.

    Their own handle, not the studio's: the adapter (and its delivery hook) exists before the studio opens
    the journal, and a delivery resumed at start-up may need a token before the adapter starts.
    """

    def __init__(self, url: str | None, sqlite_path: Path, client_id: str, client_secret: str, *,
                 state_ttl_s: int = 600) -> None:
        self.client_id = client_id
        self._fernet = _key(client_secret)
        self._where = (url, sqlite_path)
        self._db: Database | None = None
        self._opening = asyncio.Lock()
        self.installations = InstallationStore(self)
        self.states = OAuthStateStore(self, state_ttl_s)

    async def db(self) -> Database:
        async with self._opening:
            if self._db is None:
                db = open_database(*self._where, max_connections=POOL)
                await db.open()
                try:
                    await upgrade(db)
                except BaseException:
                    await db.close()
                    raise
                self._db = db
            return self._db

    async def close(self) -> None:
        async with self._opening:
            db, self._db = self._db, None
            if db is not None:
                await db.close()

    def seal(self, data: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(data).encode())

    def unseal(self, blob: bytes | memoryview) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self._fernet.decrypt(bytes(blob)))
        except InvalidToken:
            log.warning("a stored Slack installation can't be read (was SLACK_CLIENT_SECRET changed?)")
            return None
        return data

    def key(self, enterprise_id: str | None, team_id: str | None, user_id: str | None = None) -> tuple[str, list[str]]:
        """The WHERE clause and its values for one workspace (and member): absent ids are stored as ''."""
        where = "client_id = ? AND enterprise_id = ? AND team_id = ?"
        args = [self.client_id, enterprise_id or "", team_id or ""]
        if user_id is not None:
            where += " AND user_id = ?"
            args.append(user_id)
        return where, args


class InstallationStore(AsyncInstallationStore):
    def __init__(self, stores: SlackStores) -> None:
        self._s = stores

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        s = self._s
        await (await s.db()).execute(
            "INSERT INTO slack_installations (client_id, enterprise_id, team_id, user_id, installed_at, data)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (client_id, enterprise_id, team_id, user_id)"
            " DO UPDATE SET installed_at = excluded.installed_at, data = excluded.data",
            (s.client_id, installation.enterprise_id or "", installation.team_id or "", installation.user_id,
             time.time(), s.seal(installation.__dict__)))
        if installation.bot_token is not None:
            await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        s = self._s
        await (await s.db()).execute(
            "INSERT INTO slack_bots (client_id, enterprise_id, team_id, installed_at, data) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (client_id, enterprise_id, team_id)"
            " DO UPDATE SET installed_at = excluded.installed_at, data = excluded.data",
            (s.client_id, bot.enterprise_id or "", bot.team_id or "", time.time(), s.seal(bot.__dict__)))

    async def _latest(self, table: str, enterprise_id: str | None, team_id: str | None,
                      user_id: str | None = None) -> dict[str, Any] | None:
        where, args = self._s.key(enterprise_id, team_id, user_id)
        query = f"SELECT data FROM {table} WHERE {where} ORDER BY installed_at DESC LIMIT 1"  # noqa: S608
        row = await (await self._s.db()).fetch_one(query, args)
        return None if row is None else self._s.unseal(row["data"])

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        team_id = None if is_enterprise_install else team_id
        data = await self._latest("slack_bots", enterprise_id, team_id)
        return None if data is None else Bot(**data)

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None,
                                      is_enterprise_install: bool | None = False) -> Installation | None:
        team_id = None if is_enterprise_install else team_id
        data = await self._latest("slack_installations", enterprise_id, team_id, user_id)
        if data is None:
            return None
        installation = Installation(**data)
        bot = await self.async_find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is not None:  # the team's newest bot token wins over an older user's row
            installation.bot_token, installation.bot_id, installation.bot_user_id = bot.bot_token, bot.bot_id, \
                bot.bot_user_id
            installation.bot_scopes, installation.bot_refresh_token = bot.bot_scopes, bot.bot_refresh_token
            installation.bot_token_expires_at = bot.bot_token_expires_at
        return installation

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._delete("slack_bots", enterprise_id, team_id)

    async def async_delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                        user_id: str | None = None) -> None:
        await self._delete("slack_installations", enterprise_id, team_id, user_id)

    async def _delete(self, table: str, enterprise_id: str | None, team_id: str | None,
                      user_id: str | None = None) -> None:
        where, args = self._s.key(enterprise_id, team_id, user_id)
        await (await self._s.db()).execute(f"DELETE FROM {table} WHERE {where}", args)  # noqa: S608
        log.info("removed the Slack installation of team %s (%s)", team_id, table)


class OAuthStateStore(AsyncOAuthStateStore):
    """The ``state`` of an install link: one use, expires after ``ttl_s``."""

    def __init__(self, stores: SlackStores, ttl_s: int) -> None:
        self._s = stores
        self.ttl_s = ttl_s

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        now = time.time()
        db = await self._s.db()
        await db.execute("DELETE FROM slack_oauth_states WHERE expires_at < ?", (now,))
        await db.execute("INSERT INTO slack_oauth_states (state, expires_at) VALUES (?, ?)", (state, now + self.ttl_s))
        return state

    async def async_consume(self, state: str) -> bool:
        """True once: whichever front end the browser comes back to, a second use of the link is refused."""
        removed = await (await self._s.db()).execute(
            "DELETE FROM slack_oauth_states WHERE state = ? AND expires_at >= ?", (state, time.time()))
        return removed == 1
