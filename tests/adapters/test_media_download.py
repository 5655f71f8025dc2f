"""Attachment downloads against a hostile file host: caps, lies, redirects, and a server that drips."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from adapters.media import download
from core.errors import InputError
from tests.fakes.media import png

PNG = png(32, 32)


async def _drip(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "image/png"})
    await resp.prepare(request)
    await resp.write(PNG[:8])
    while True:  # a byte at a time, never finishing: only a total deadline ends this
        await resp.write(b"\x00")
        await asyncio.sleep(0.05)


async def _endless(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "image/png"})  # no Content-Length to check up front
    await resp.prepare(request)
    chunk = b"\x00" * 65536
    while True:
        await resp.write(chunk)


def _answer(make: Callable[[], web.StreamResponse]) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        return make()
    return handler


def _routes() -> web.Application:
    app = web.Application()
    add = app.router.add_get
    add("/ok.png", _answer(lambda: web.Response(body=PNG, content_type="image/png")))
    add("/page.png", _answer(lambda: web.Response(text="<html>sign in</html>", content_type="image/png")))
    add("/typed-html", _answer(lambda: web.Response(body=PNG, content_type="text/html")))
    add("/big", _answer(lambda: web.Response(body=b"\x00" * 4096, content_type="image/png")))
    add("/endless", _endless)
    add("/drip", _drip)
    add("/away", _answer(lambda: web.Response(status=302, headers={"Location": "http://evil.example/x.png"})))
    add("/relative", _answer(lambda: web.Response(status=302, headers={"Location": "/ok.png"})))
    add("/loop", _answer(lambda: web.Response(status=302, headers={"Location": "/loop"})))
    add("/gone", _answer(lambda: web.Response(status=404)))
    return app


@pytest.fixture
async def host() -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    runner = web.AppRunner(_routes())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:
        yield session, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def fetch(host: tuple[aiohttp.ClientSession, str], path: str, **options: object) -> bytes:
    session, base = host
    return await download(session, base + path, allowed_hosts=["127.0.0.1"], **options)  # type: ignore[arg-type]


async def test_a_real_image_arrives(host: tuple[aiohttp.ClientSession, str]) -> None:
    assert await fetch(host, "/ok.png") == PNG
    assert await fetch(host, "/relative") == PNG  # a redirect on the same host is followed


@pytest.mark.parametrize(("path", "options", "words"), [
    ("/page.png", {}, "web page"),
    ("/typed-html", {}, "web page"),
    ("/big", {"max_bytes": 1024}, "larger than"),
    ("/endless", {"max_bytes": 1024 * 1024}, "larger than"),
    ("/drip", {"timeout_s": 0.5}, "took longer than 0.5 s"),
    ("/away", {}, "not allowed"),
    ("/loop", {}, "redirects too many times"),
    ("/gone", {}, "HTTP 404"),
])
async def test_a_hostile_host_gets_a_plain_refusal(host: tuple[aiohttp.ClientSession, str], path: str,
                                                  options: dict[str, object], words: str) -> None:
    with pytest.raises(InputError, match=words):
        await fetch(host, path, **options)


async def test_only_the_platform_hosts_are_fetched_from(host: tuple[aiohttp.ClientSession, str]) -> None:
    session, base = host
    for url in (base.replace("127.0.0.1", "localhost") + "/ok.png", "file:///etc/passwd", "ftp://127.0.0.1/x"):
        with pytest.raises(InputError, match="own file hosts"):
            await download(session, url, allowed_hosts=["127.0.0.1"])
