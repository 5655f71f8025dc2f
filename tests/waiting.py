"""Waiting on a condition the way every test here does: poll it until true, within a bound meant for a loaded box.

The bound is never the expected time: a passing test returns as soon as the condition holds; the bound
only turns a real hang into a failure with a message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

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
