"""One headless Chromium for the whole session, a fresh context per page; helpers for what a user does.

Needs Debian's ``chromium`` and the ``playwright`` package (no browser download). Without them the
tests skip with the reason; under CI=true they fail instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.adapters.conftest import Served, make_settings, serving

try:
    from playwright.async_api import Browser, Page, async_playwright, expect
except ImportError:  # pragma: no cover - depends on the machine
    async_playwright = None  # type: ignore[assignment]

CHROMIUM = Path(os.environ.get("STUDIOBOT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
TIMEOUT_MS = 20_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
if async_playwright is not None:
    expect.set_options(timeout=TIMEOUT_MS)  # a loaded CI machine renders an image in more than 5 s


def require_browser() -> None:
    reason = None
    if async_playwright is None:
        reason = "the playwright package is not installed (pip install -e '.[dev]')"
    elif not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set STUDIOBOT_CHROMIUM)"
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run under CI: {reason}")
    pytest.skip(f"browser tests need a browser: {reason}")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    require_browser()
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest_asyncio.fixture(loop_scope="session")
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with serving(make_settings(tmp_path)) as s:
        yield s


@asynccontextmanager
async def open_page(browser: Browser, url: str, viewport: dict[str, int] | None = None) -> AsyncIterator[Page]:
    """A fresh context on the playground; fails afterwards if the page logged any unexpected error."""
    problems: list[str] = []
    context = await browser.new_context(viewport=viewport or DESKTOP)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    try:
        await context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = await context.new_page()
        page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
        page.on("console", lambda msg: problems.append(f"console: {msg.text} {msg.location.get('url')}")
                if msg.type == "error" else None)
        await page.goto(url)
        await page.wait_for_selector("body[data-ready=true]")
        yield page
    finally:
        await context.close()
    # Expected 400s of bad commands, and a stopped server, are logged by Chromium as failed resources.
    expected = ("400 (Bad Request)", "ERR_CONNECTION_REFUSED", "WebSocket connection")
    assert [p for p in problems if not any(e in p for e in expected)] == []


async def send(page: Page, text: str) -> None:
    await page.fill("#input", text)
    await page.press("#input", "Enter")


def entry(page: Page, kind: str, state: str = "done") -> Any:
    return page.locator(f"article.entry[data-kind={kind}][data-state={state}]")


async def images_loaded(page: Page) -> None:
    await page.wait_for_function("[...document.images].filter(i => i.closest('article')).every("
                                 "i => i.complete && (i.naturalWidth > 0 || i.hidden))")


async def rendered_ratio(locator: Any) -> float:
    """Width over height of the image element as laid out (what the user sees), not of the file."""
    ratio: float = await locator.evaluate("i => i.getBoundingClientRect().width / i.getBoundingClientRect().height")
    return ratio
