"""Waiting on a condition the way every test here does: poll it until true, within a bound meant for a loaded box.

The bound is never the expected time: a passing test returns as soon as the condition holds; the bound
only turns a real hang into a failure with a message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from core.jobs.model import Job
    from core.studio import Studio

T = TypeVar("T")
BOUND_S = 60.0


async def until(check: Callable[[], Awaitable[T | None]], what: str, *, timeout: float = BOUND_S,
                interval: float = 0.01) -> T:
    """The first truthy value ``check`` returns; AssertionError naming ``what`` after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if value := await check():
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what} (waited {timeout:.0f} s)")
        await asyncio.sleep(interval)


async def until_true(check: Callable[[], object], what: str, *, timeout: float = BOUND_S) -> None:
    """``until`` for a plain (not awaitable) condition on what the test's own fakes recorded."""

    async def holds() -> bool:
        return bool(check())

    await until(holds, what, timeout=timeout)


async def delivered(studio: Studio, job_id: str) -> Job:
    """The job once it ended and its delivery is over (posted, or refused for good)."""

    async def final() -> Job | None:
        now = await studio.job(job_id)
        return now if now is not None and now.state.terminal and now.delivery.final else None

    return await until(final, f"job {job_id} delivered")
