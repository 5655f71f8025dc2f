"""``studiobot usage``: requests, tokens and estimated cost from the journal, the numbers ``/usage`` shows."""

from __future__ import annotations

import enum
from typing import Annotated

import typer
from rich.table import Table

GROUPS = {"server": ("platform", "workspace"), "user": ("platform", "user_id"), "kind": ("kind",)}


class By(enum.StrEnum):
    server = "server"
    user = "user"
    kind = "kind"


def usage(
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="Today and the days before it.")] = 1,
    by: Annotated[By, typer.Option("--by", help="Group by server, user or kind.")] = By.kind,
) -> None:
    """Show usage and estimated spend per server, user or kind (days run from midnight UTC)."""
    from bots.cli import _fail, _run, _settings, out
    from core.community.reports import HEADER, table
    from core.community.service import Community
    from core.community.store import SqlCommunityStore
    from core.db import opened

    settings = _settings()
    if settings.database_url_value is None and not settings.journal_path.exists():
        raise _fail(f"No journal yet at {settings.journal_path}: nothing has been generated.")
    columns = GROUPS[by.value]

    async def read() -> list[tuple[str, ...]]:
        async with opened(settings.database_url_value, settings.journal_path) as db:
            store = SqlCommunityStore(db)
            await store.upgrade()
            lines = await Community(store, settings).usage(days=days, by=columns)
        return table(lines, columns)

    rows = _run(settings, read)
    span = "today (UTC)" if days == 1 else f"the last {days} days (UTC)"
    grid = Table(*columns, *HEADER, title=f"Usage {span}")
    for row in rows:
        grid.add_row(*row)
    out.print(grid)
