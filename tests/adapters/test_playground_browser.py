"""The playground in real headless Chromium: what a newcomer sees and does first."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.adapters.browser import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    browser,
    entry,
    images_loaded,
    open_page,
    rendered_ratio,
    send,
    served,
)
from tests.adapters.conftest import GatedProvider, HeldSpeech, Served, make_settings, png, serving

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]
__all__ = ["browser", "served"]  # fixtures


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, served: Served) -> AsyncIterator[Page]:
    async with open_page(browser, served.url) as page:
        yield page


async def test_speak_hello_shows_a_clip_that_decodes_to_audio(page: Page) -> None:
    await expect(page.locator("#offline-badge")).to_be_visible()
    await send(page, "/speak hello")
    clip = entry(page, "speak").locator("audio")
    await expect(clip).to_have_count(1)
    src = await clip.get_attribute("src")
    seconds = await page.evaluate(
        """async (src) => {
            const bytes = await (await fetch(src)).arrayBuffer();
            const decoded = await new OfflineAudioContext(1, 48000, 48000).decodeAudioData(bytes);
            return decoded.duration;
        }""",
        src,
    )
    assert seconds > 0.2
    played = await clip.evaluate(
        """el => el.readyState >= 1 ? el.duration : new Promise((ok, fail) => {
            el.addEventListener('loadedmetadata', () => ok(el.duration), { once: true });
            el.addEventListener('error', () => fail(new Error('the player could not load the clip')), { once: true });
            el.load();
        })"""
    )
    assert played == pytest.approx(seconds, abs=0.1)
    card = entry(page, "speak")
    await expect(card.locator(".chip")).to_have_text("voice Kore · Firm")  # the voice's character beside its name
    await expect(card).not_to_contain_text("Kore & ")
    await expect(card.locator("a.download")).to_have_attribute("download", re.compile(r"\.ogg$"))


async def test_speech_plays_while_the_job_is_still_running(tmp_path: Path, browser: Browser) -> None:
    provider = HeldSpeech()  # the job cannot finish until the test lets it
    async with serving(make_settings(tmp_path), provider=provider) as running, open_page(browser, running.url) as page:
        await send(page, "/speak The first sentence plays at once. The second one waits for the test.")
        await page.wait_for_function("""() => {
            const a = document.querySelector('article.entry[data-kind=speak]:not([data-state=done]) audio.live');
            return a !== null && a.currentTime > 0;
        }""")
        job = (await running.studio.recent("playground", limit=1))[0]
        assert not (await running.studio.job(job.id)).state.terminal  # type: ignore[union-attr]
        provider.midway.set()
        await expect(entry(page, "speak").locator("audio")).to_have_count(1)  # the file's player took over
        assert await entry(page, "speak").locator("audio.live").count() == 0


async def test_voice_picker_and_preview(page: Page) -> None:
    await expect(page.locator("#voice option")).to_have_count(30)
    await page.select_option("#voice", "Puck")
    await page.click("#preview-voice")
    await page.wait_for_function("document.querySelector('#preview-audio').src.startsWith('blob:')")
    await send(page, "/speak picked for me")
    await expect(entry(page, "speak").locator(".chip")).to_have_text("voice Puck · Upbeat")
    await page.reload()  # the picker remembers the last choice
    await page.wait_for_selector("body[data-ready=true]")
    await expect(page.locator("#voice")).to_have_value("Puck")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
async def test_images_are_drawn_at_their_own_aspect_ratio(browser: Browser, served: Served,
                                                          viewport: dict[str, int]) -> None:
    """An 800x600 upload was drawn 794x420 at 1280 px and 324x420 at 390 px: squashed. Now every shape holds."""
    await served.upload(png(800, 600), "photo.png")
    await served.upload(png(600, 1000), "tall.png")
    async with open_page(browser, served.url, viewport) as page:
        for aspect in ("16:9", "9:16"):
            await send(page, f"/imagine a lighthouse --aspect {aspect}")
        await expect(entry(page, "imagine")).to_have_count(2)
        await expect(entry(page, "imagine").first.locator(".prompt")).to_have_text("a lighthouse")
        await images_loaded(page)
        images = page.locator("article img.result")
        assert await images.count() == 4
        for i in range(4):
            img = images.nth(i)
            natural = await img.evaluate("i => i.naturalWidth / i.naturalHeight")
            assert await rendered_ratio(img) == pytest.approx(natural, rel=0.02)
            box = await img.bounding_box()
            assert box is not None and box["width"] <= viewport["width"] and box["height"] <= 421
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"playground-images-{viewport['width']}.png"), full_page=True)


async def test_upload_reply_chain_and_masked_edit(page: Page, tmp_path: Path) -> None:
    picture = tmp_path / "harbour.png"
    picture.write_bytes(png(400, 300))
    await page.set_input_files("#file", str(picture))
    upload = entry(page, "upload")
    await expect(upload).to_have_count(1)

    await upload.locator("button.reply").click()
    await expect(page.locator("#reply-bar")).to_be_visible()
    await send(page, "make it night")
    first = upload.locator(".thread article.entry[data-kind=edit][data-state=done]")
    await expect(first).to_have_count(1)
    await expect(first.locator("img.result")).to_have_count(1)

    await first.locator("button.reply").click()  # replying to an edit chains
    await send(page, "add a full moon")
    chained = first.locator(".thread article.entry[data-kind=edit][data-state=done]")
    await expect(chained).to_have_count(1)

    await upload.locator("button.reply").first.click()
    await page.click("#mask-toggle")
    canvas = page.locator("#mask-canvas")
    await expect(canvas).to_be_visible()
    box = await canvas.bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.3)
    await page.mouse.down()
    await page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.7, steps=8)
    await page.mouse.up()
    await send(page, "paint it red")
    masked = upload.locator(".thread article.entry[data-kind=edit][data-state=done]", has_text="masked")
    await expect(masked).to_have_count(1)
    await expect(page.locator("#reply-bar")).to_be_hidden()


async def test_live_progress_and_cancel(browser: Browser, tmp_path: Path) -> None:
    provider = GatedProvider()
    async with serving(make_settings(tmp_path), provider=provider) as served, \
            open_page(browser, served.url) as page:
        await send(page, "/imagine first in line")
        await expect(entry(page, "imagine", "running").locator(".state-text")).to_have_text("Generating…")
        await send(page, "/imagine second in line")
        waiting = entry(page, "imagine", "queued")
        await expect(waiting.locator(".state-text")).to_have_text("Queued, #1 in line")
        await waiting.locator("button.cancel").click()
        await expect(entry(page, "imagine", "cancelled").locator(".status")).to_have_text("The request was cancelled.")
        provider.gate.set()
        await expect(entry(page, "imagine", "done")).to_have_count(1)


async def test_paste_and_drop_upload_images(page: Page) -> None:
    data = list(png(64, 64))
    for event in ("paste", "drop"):
        await page.evaluate(
            """([bytes, kind]) => {
                const dt = new DataTransfer();
                dt.items.add(new File([new Uint8Array(bytes)], kind + '.png', { type: 'image/png' }));
                const ev = kind === 'paste' ? new ClipboardEvent('paste', { clipboardData: dt, bubbles: true })
                                            : new DragEvent('drop', { dataTransfer: dt, bubbles: true });
                (kind === 'paste' ? document : window).dispatchEvent(ev);
            }""",
            [data, event],
        )
    await expect(entry(page, "upload")).to_have_count(2)


async def test_a_bad_command_shows_its_error_and_help_shows_the_syntax(page: Page) -> None:
    await send(page, "/speak --colour red hi")
    error = page.locator(".note.error")
    await expect(error).to_contain_text("/speak has no option --colour")
    await send(page, "/imagine help")
    await expect(page.locator(".note:not(.error)")).to_contain_text("--aspect W:H")
    await page.fill("#input", "/ima")
    await expect(page.locator("#hint")).to_contain_text("/imagine [--aspect W:H] [--count N] [--size S] PROMPT")


async def test_reload_shows_the_history(page: Page, served: Served) -> None:
    upload = await served.upload(png(300, 200), "dock.png")
    await send(page, "/speak --style cheerful good morning")
    await send(page, "/imagine a lighthouse at dusk --aspect 16:9")
    await expect(entry(page, "speak")).to_have_count(1)
    await expect(entry(page, "imagine")).to_have_count(1)
    _, body = await served.post("make it night", reply_to=upload["id"])
    await served.finished(body["entry"]["id"])
    await expect(entry(page, "edit")).to_have_count(1)
    await send(page, "/speak --voice Nobody hi")
    await expect(page.locator(".note.error")).to_contain_text("Unknown voice")

    await page.reload()
    await page.wait_for_selector("body[data-ready=true]")
    await expect(entry(page, "speak")).to_have_count(1)
    await expect(entry(page, "imagine")).to_have_count(1)
    await expect(page.locator(f"article[data-id='{upload['id']}'] .thread article[data-kind=edit]")).to_have_count(1)
    await expect(page.locator("article audio")).to_have_count(1)
    await page.wait_for_function("[...document.images].every(i => i.complete)"
                                 " && [...document.querySelectorAll('article audio')].every(a => a.readyState >= 1)")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.emulate_media(color_scheme="dark")
    height = await page.evaluate("document.documentElement.scrollHeight")
    await page.set_viewport_size({"width": 1100, "height": min(int(height), 4000)})  # the whole timeline, one frame
    await page.screenshot(path=str(ARTIFACTS / "playground.png"))


async def test_a_grid_of_four_with_u_and_v_buttons_after_a_reload_and_a_blend(page: Page, served: Served) -> None:
    await send(page, "/imagine a red fox --count 4")
    grid = entry(page, "imagine")
    await expect(grid.locator("img.result")).to_have_count(1)
    size = await grid.locator("img.result").evaluate(
        "i => i.complete && i.naturalWidth ? [i.naturalWidth, i.naturalHeight]"
        " : new Promise(ok => i.addEventListener('load', () => ok([i.naturalWidth, i.naturalHeight])))")
    assert size == [2048, 2048]
    await page.reload()
    await page.wait_for_selector("body[data-ready=true]")
    buttons = entry(page, "imagine").locator(".actions button")
    await expect(buttons).to_have_text(["U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4", "🎲 Re-roll"])
    await buttons.filter(has_text="U2").click()
    picked = page.locator("article[data-kind=imagine] .thread article.entry[data-kind=pick][data-state=done]")
    await expect(picked).to_have_count(1)
    await expect(picked.locator(".actions button")).to_have_text(["🔀 Vary", "⬆ Upscale to 2K"])

    for name in ("a.png", "b.png"):
        await served.upload(png(64, 64), name)
    await page.reload()
    await page.wait_for_selector("body[data-ready=true]")
    for n in range(2):
        await entry(page, "upload").nth(n).locator("button.pick").click()
    await expect(page.locator("#blend-count")).to_have_text("2 images picked, blended in that order.")
    await send(page, "the first in the style of the second")
    await expect(entry(page, "blend")).to_have_count(1)
    await expect(entry(page, "blend").locator(".prompt")).to_have_text(
        "Blend of a.png, b.png: the first in the style of the second")
