"""Fault injection for the fake platforms: any call can fail the way a real platform or network does.

A test arms a ``Fault`` for a method and a path pattern; the next matching request(s) get it:

* ``status`` — an HTTP error (500, or 429 with ``retry_after``), the body the platform would send;
* ``drop_before`` — the connection is closed after the request is read, before anything is stored;
* ``drop_after`` — the request is handled (the platform stored it), then the connection is closed
  before the answer leaves;
* ``stall_before`` — no answer for ``stall_s``; if the client gave up meanwhile, nothing is stored;
* ``stall_after`` — stored at once, answered after ``stall_s``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ErrorBody = Callable[[int, float], web.Response]  # status, retry_after -> the platform's error response
KINDS = ("status", "drop_before", "drop_after", "stall_before", "stall_after")


@dataclass
class Fault:
    kind: str
    method: str
    path: str  # a regular expression searched in the request path
    status: int = 500
    retry_after: float = 0.0
    stall_s: float = 60.0
    times: int = 1
    content: str = ""  # only requests whose content type contains this (``multipart``: uploads, not edits)
    hits: int = 0
    hit_paths: list[str] = field(default_factory=list)  # which requests it hit, to tell whose calls they were

    def matches(self, request: web.Request) -> bool:
        return (self.times > 0 and self.method in (request.method, "*") and self.content in request.content_type
                and re.search(self.path, request.path) is not None)


@dataclass
class Faults:
    """The armed faults of one fake, applied by its middleware."""

    error_body: ErrorBody
    armed: list[Fault] = field(default_factory=list)
    hit: asyncio.Event = field(default_factory=asyncio.Event)

    def arm(self, kind: str, method: str, path: str, **options: float | int | str) -> Fault:
        if kind not in KINDS:
            raise ValueError(kind)
        fault = Fault(kind, method, path, **options)  # type: ignore[arg-type]
        self.armed.append(fault)
        return fault

    def clear(self) -> None:
        self.armed.clear()

    async def wait_hit(self, fault: Fault, count: int = 1, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while fault.hits < count:
                self.hit.clear()
                await self.hit.wait()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        fault = next((f for f in self.armed if f.matches(request)), None)
        if fault is None:
            return await handler(request)
        fault.times -= 1
        fault.hits += 1
        fault.hit_paths.append(request.path)
        self.hit.set()
        if fault.kind == "status":
            await request.read()
            return self.error_body(fault.status, fault.retry_after)
        if fault.kind == "drop_before":
            await request.read()
            return _drop(request)
        if fault.kind == "stall_before":
            await request.read()
            await _wait_or_gone(request, fault.stall_s)
            if _gone(request):
                return web.Response(status=499)  # the client left: nothing stored, nobody to answer
            return await handler(request)
        response = await handler(request)
        if fault.kind == "drop_after":
            return _drop(request)
        await _wait_or_gone(request, fault.stall_s)  # stall_after
        return response


def _gone(request: web.Request) -> bool:
    return request.transport is None or request.transport.is_closing()


async def _wait_or_gone(request: web.Request, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end and not _gone(request):
        await asyncio.sleep(0.02)


def _drop(request: web.Request) -> web.Response:
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=204)  # never reaches the client
