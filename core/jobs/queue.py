"""The job queue interface and its in-process default: one FIFO per worker pool."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Protocol

from core.errors import RateLimited


class JobQueue(Protocol):
    shared: bool  # True: every process shares it (core/jobs/shared.py), and workers run elsewhere

    async def put(self, job_id: str, pool: str, *, force: bool = False) -> None: ...
    async def get(self, pool: str) -> str: ...
    def position(self, job_id: str) -> int | None: ...
    def waiting(self, pool: str) -> list[str]: ...
    async def remove(self, job_id: str) -> bool: ...


class InProcessQueue:
    """FIFO per pool with known positions, so users can be told where they are in line."""

    shared = False

    def __init__(self, max_size: int = 200) -> None:
        self.max_size = max_size
        self._lines: dict[str, deque[str]] = {}
        self._ready: dict[str, asyncio.Condition] = {}

    def _line(self, pool: str) -> tuple[deque[str], asyncio.Condition]:
        if pool not in self._lines:
            self._lines[pool] = deque()
            self._ready[pool] = asyncio.Condition()
        return self._lines[pool], self._ready[pool]

    async def put(self, job_id: str, pool: str, *, force: bool = False) -> None:
        """``force`` for jobs already accepted earlier (resumed): the limit is for new requests only."""
        line, ready = self._line(pool)
        if len(line) >= self.max_size and not force:
            raise RateLimited(30, "The studio is very busy right now. Try again in a minute.")
        async with ready:
            line.append(job_id)
            ready.notify()

    async def get(self, pool: str) -> str:
        line, ready = self._line(pool)
        async with ready:
            await ready.wait_for(lambda: bool(line))
            return line.popleft()

    def position(self, job_id: str) -> int | None:
        for line in self._lines.values():
            if job_id in line:
                return line.index(job_id) + 1
        return None

    def waiting(self, pool: str) -> list[str]:
        return list(self._lines.get(pool, ()))

    async def remove(self, job_id: str) -> bool:
        for line in self._lines.values():
            if job_id in line:
                line.remove(job_id)
                return True
        return False
