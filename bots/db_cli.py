"""``studiobot db``: create or upgrade the schema, and move an embedded SQLite journal to PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

db_app = typer.Typer(name="db", help="The database: upgrade its schema, move a SQLite journal to PostgreSQL.",
                     no_args_is_help=True)

# What a journal database holds, each with the column that puts parents before children (Slack's
# installations and OAuth states are added from adapters.slack.installs when copying).
TABLES = {"jobs": "created_at", "lineage": "job_id", "delivery_attempts": "at",
          "server_settings": "updated_at", "usage": "created_at"}


async def upgrade_schema(url: str | None, sqlite_path: Path) -> str:
    """Create or upgrade every table Studiobot keeps; returns which database it was."""
    from adapters.slack import installs
    from core.community.store import SqlCommunityStore
    from core.db import opened
    from core.jobs.files import directory_stores
    from core.jobs.journal import SqlJournal

    async with opened(url, sqlite_path) as db:
        await SqlJournal(db, directory_stores(sqlite_path.parent).blobs).upgrade()  # the schema needs no files
        await SqlCommunityStore(db).upgrade()
        await installs.upgrade(db)  # Slack workspaces installed through OAuth, shared by every front end
        if db.dialect == "postgresql" and url:
            from core.jobs.shared import SharedQueue

            await SharedQueue(url).upgrade(db)  # procrastinate's tables: the job queue of scaled-out workers
        return db.dialect


@db_app.command()
def upgrade() -> None:
    """Create or upgrade the schema (``studiobot run`` also does this at start)."""
    from bots.cli import _run, _settings, out

    settings = _settings()
    dialect = _run(settings, lambda: upgrade_schema(settings.database_url_value, settings.journal_path))
    where = "PostgreSQL (STUDIOBOT_DATABASE_URL)" if dialect == "postgresql" else str(settings.journal_path)
    out.print(f"Schema up to date in {where}", highlight=False)


@db_app.command("migrate-from-sqlite")
def migrate_from_sqlite(
    path: Annotated[Path, typer.Argument(help="The journal.sqlite3 to copy from (e.g. ~/.studiobot/journal.sqlite3).")],
) -> None:
    """Copy jobs, lineage, delivery history, server settings, usage, Slack installations, results and inputs
    into PostgreSQL; safe to repeat."""
    from adapters.slack import installs
    from bots.cli import _fail, _run, _settings, out
    from core.db import opened
    from core.db.copy import copy_files, copy_tables

    settings = _settings()
    url = settings.database_url_value
    if url is None:
        raise _fail("set STUDIOBOT_DATABASE_URL to the PostgreSQL database to copy into")
    if not path.is_file():
        raise _fail(f"no SQLite journal at {path}")

    async def move() -> dict[str, int]:
        await upgrade_schema(url, settings.journal_path)
        await upgrade_schema(None, path)  # an old file is brought to the current schema first
        async with opened(None, path) as source, opened(url, settings.journal_path) as target:
            copied = await copy_tables(source, target, TABLES | installs.TABLES)
        return copied | await copy_files(path.parent, url)

    copied = _run(settings, move)
    out.print("Copied " + ", ".join(f"{n} {table}" for table, n in copied.items()), highlight=False)
