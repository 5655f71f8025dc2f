"""Job news between processes when scaled out: PostgreSQL LISTEN/NOTIFY on one channel.

A worker runs the job, but the front end that took the command holds the live reply (an interaction
token, a Slack status message) and the playground's watchers. The worker's runner sends each state change
here (in order, from one sender task, never on the job's path); every front end listens and hands the news
to its own live jobs, which coalesce it into platform edits as usual. A notice is small (NOTIFY payloads are
capped at 8000 bytes) and carries no secret: job id, state, position, a user-facing message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

import psycopg

from core.db import Database
from core.jobs.model import JobState, Progress

log = logging.getLogger(__name__)

CHANNEL = "studiobot_jobs"
MAX_MESSAGE = 1000
RECONNECT_MAX_S = 30.0


@dataclass(frozen=True, slots=True)
class Notice:
    job_id: str
    state: JobState
    by: str  # the sending process's lease owner, so a process ignores its own news
    message: str = ""
    delivers: bool = False  # on a terminal notice: the sender delivers the outcome itself
    settled: bool = False  # the outcome's delivery is over (posted, or refused for good)

    @property
    def progress(self) -> Progress:
        return Progress(self.job_id, self.state, message=self.message)

    def dump(self) -> str:
        return json.dumps(asdict(self) | {"message": self.message[:MAX_MESSAGE]}, separators=(",", ":"))

    @classmethod
    def load(cls, payload: str) -> Notice | None:
        try:
            data = json.loads(payload)
            return cls(str(data["job_id"]), JobState(data["state"]), str(data["by"]), str(data.get("message", "")),
                       bool(data.get("delivers")), bool(data.get("settled")))
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed job notice")
            return None


class NoticeBus:
    def __init__(self, url: str, db: Database) -> None:
        self._url = url
        self._db = db
        self._outbox: asyncio.Queue[Notice] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None

    def offer(self, notice: Notice) -> None:
        """Queue a notice for sending; never waits."""
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_forever(), name="notices-out")
        self._outbox.put_nowait(notice)

    async def _send_forever(self) -> None:
        while True:
            notice = await self._outbox.get()
            try:
                await self._db.execute("SELECT pg_notify(?, ?)", (CHANNEL, notice.dump()))
            except Exception:
                log.warning("could not send news of job %s", notice.job_id, exc_info=True)
            finally:
                self._outbox.task_done()

    async def listen(self, on_notice: Callable[[Notice], None], on_connect: Callable[[], Awaitable[None]]) -> None:
        """Deliver every notice to ``on_notice`` until cancelled; after each (re)connect, ``on_connect``
        catches up on what was missed while no connection was listening."""
        delay = 1.0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    delay = 1.0
                    await on_connect()
                    async for message in conn.notifies():
                        if (notice := Notice.load(message.payload)) is not None:
                            on_notice(notice)
            except (OSError, psycopg.Error) as exc:
                log.warning("job news: connection lost (%s); retrying in %.0f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)

    async def close(self, timeout_s: float = 5.0) -> None:
        """Send what is queued (briefly), then stop."""
        if self._sender is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outbox.join(), timeout_s)
        self._sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._sender
