"""The playground as a studio: result cards and their actions, edits compared, speech drawn, a gallery."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from PIL import Image
from playwright.async_api import Browser, Page, expect

from tests.adapters.browser import ARTIFACTS, DESKTOP, PHONE, browser, entry, images_loaded, open_page, send, served
from tests.adapters.conftest import Served, make_settings, png, serving
from tests.processes import free_port

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]
__all__ = ["browser", "served"]  # fixtures


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, served: Served) -> AsyncIterator[Page]:
    async with open_page(browser, served.url) as page:
        yield page


def mask_data_url(size: tuple[int, int]) -> str:
    mask = Image.new("L", size, 0)
    mask.paste(255, (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


async def test_edits_compare_before_and_after_show_their_lineage_and_mask(page: Page, served: Served) -> None:
    upload = await served.upload(png(400, 300), "harbour.png")
    await expect(entry(page, "upload")).to_have_count(1)
    _, first = await served.post("make it night", reply_to=upload["id"])
    first_done = await served.finished(first["entry"]["id"])
    _, second = await served.post("add a moon", reply_to=first["entry"]["id"])
    await served.finished(second["entry"]["id"])
    _, masked = await served.post("paint it red", reply_to=upload["id"], mask=mask_data_url((400, 300)))
    await served.finished(masked["entry"]["id"])
    await expect(entry(page, "edit")).to_have_count(3)

    chained = page.locator(f"article[data-id='{second['entry']['id']}']")
    slider = chained.locator("input.compare").first
    await expect(slider).to_have_count(1)
    before = chained.locator(".frame img.before").first
    await expect(before).to_have_attribute("src", first_done["result"]["url"])
    await slider.fill("100")
    assert await before.evaluate("i => getComputedStyle(i).clipPath") == "inset(0px 0% 0px 0px)"
    await slider.fill("0")
    assert await before.evaluate("i => getComputedStyle(i).clipPath") == "inset(0px 100% 0px 0px)"
    steps = chained.locator("> .body ol.lineage button.step")
    await expect(steps).to_have_count(3)  # upload → night → moon
    await expect(steps.last).to_have_attribute("aria-current", "step")

    card = page.locator(f"article[data-id='{masked['entry']['id']}']")
    overlay = card.locator("img.mask-overlay")
    await expect(overlay).to_be_hidden()
    await card.locator("button.mask-show").click()
    await expect(overlay).to_be_visible()
    await page.wait_for_function("i => i.complete && i.naturalWidth === 400", arg=await overlay.element_handle())
    await card.locator("button.mask-show").click()
    await expect(overlay).to_be_hidden()


async def test_speech_has_a_waveform_from_the_clip_a_playhead_and_speed(page: Page) -> None:
    await send(page, "/speak --style whispered hello there, this is a test")
    card = entry(page, "speak")
    wave = card.locator("canvas.wave")
    await expect(wave).to_have_attribute("data-drawn", "true")
    columns = await wave.evaluate(
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  const heights = [];
                  for (let x = 0; x < c.width; x += 3) { let n = 0;
                    for (let y = 0; y < c.height; y++) if (d[(y * c.width + x) * 4 + 3] > 0) n++;
                    heights.push(n); }
                  return heights; }""")
    assert max(columns) > 20 and min(columns) < max(columns) / 2  # loud and quiet parts: drawn from the samples
    audio = card.locator("audio")
    await audio.evaluate("a => a.readyState >= 1 || new Promise(ok => a.addEventListener('loadedmetadata', ok))")
    await audio.evaluate("a => { a.currentTime = a.duration / 2; }")
    await page.wait_for_function("c => Math.abs(Number(c.dataset.progress) - 0.5) < 0.05",
                                 arg=await wave.element_handle())
    await card.locator("select.speed").select_option("1.5")
    assert await audio.evaluate("a => a.playbackRate") == 1.5
    await card.locator(".offline-note").filter(has_text="styles are not applied offline").wait_for()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
async def test_new_results_scroll_into_view_unless_the_user_scrolled_up(browser: Browser, served: Served,
                                                                        viewport: dict[str, int]) -> None:
    for i in range(5):
        await served.upload(png(600, 600, (i * 40, 90, 160)), f"p{i}.png")
    async with open_page(browser, served.url, viewport) as page:
        await expect(entry(page, "upload")).to_have_count(5)
        await images_loaded(page)
        await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        await served.upload(png(500, 500), "arrives-at-bottom.png")
        await expect(entry(page, "upload")).to_have_count(6)
        await page.wait_for_function("() => { const e = document.scrollingElement;"
                                     " return e.scrollHeight - e.scrollTop - innerHeight < 160; }")
        await expect(page.locator("#new-result")).to_be_hidden()

        await page.evaluate("window.scrollTo(0, 0)")
        await served.upload(png(500, 500), "while-reading.png")
        await expect(entry(page, "upload")).to_have_count(7)
        await expect(page.locator("#new-result")).to_be_visible()
        assert await page.evaluate("document.scrollingElement.scrollTop") == 0  # the reader keeps their place
        await page.click("#new-result")
        await page.wait_for_function("() => { const e = document.scrollingElement;"
                                     " return e.scrollHeight - e.scrollTop - innerHeight < 160; }")
        await expect(page.locator("#new-result")).to_be_hidden()


async def test_gallery_shows_every_image_and_filters_by_kind(page: Page, served: Served) -> None:
    await served.upload(png(300, 200), "a.png")
    await served.upload(png(200, 300), "b.png")
    await send(page, "/imagine a red fox")
    await send(page, "/speak not a picture")
    await expect(entry(page, "imagine")).to_have_count(1)
    await expect(entry(page, "speak")).to_have_count(1)
    await page.click("#view-gallery")
    await expect(page.locator("#timeline")).to_be_hidden()
    tiles = page.locator("#gallery-grid li.tile")
    await expect(tiles).to_have_count(3)
    await page.select_option("#gallery-filter", "upload")
    await expect(tiles).to_have_count(2)
    await page.select_option("#gallery-filter", "imagine")
    await expect(tiles).to_have_count(1)
    await tiles.first.locator("button").click()
    await expect(page.locator("#timeline")).to_be_visible()
    await expect(page.locator("#view-timeline")).to_have_attribute("aria-pressed", "true")


async def test_clear_history_asks_first_and_then_clears_for_good(page: Page, served: Served) -> None:
    await served.upload(png(300, 200), "a.png")
    await send(page, "/speak hello")
    await expect(entry(page, "speak")).to_have_count(1)
    await page.click("#clear-history")
    dialog = page.locator("#confirm-clear")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="Keep it").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("article.entry")).to_have_count(2)
    await page.click("#clear-history")
    await dialog.get_by_role("button", name="Clear history").click()
    await expect(page.locator("article.entry")).to_have_count(0)
    await expect(page.locator("#welcome")).to_be_visible()
    await page.reload()
    await page.wait_for_selector("body[data-ready=true]")
    await expect(page.locator("article.entry")).to_have_count(0)


async def test_card_actions_retry_delete_copy_and_a_collapsed_prompt(page: Page) -> None:
    long_prompt = "a lighthouse " + " ".join(f"line{i}" for i in range(200))
    await send(page, f"/imagine {long_prompt}")
    card = entry(page, "imagine")
    await expect(card).to_have_count(1)
    prompt = card.locator(".prompt")
    line = await prompt.evaluate("p => parseFloat(getComputedStyle(p).lineHeight)")
    assert (await prompt.bounding_box() or {"height": 1e9})["height"] <= 3 * line + 2
    await card.locator("button.more").click()
    assert (await prompt.bounding_box() or {"height": 0})["height"] > 3 * line + 2
    await expect(card.locator(".chip")).to_have_text(["aspect 1:1"])
    shown = (await card.text_content() or "").replace(await card.locator(".head span").last.text_content() or "", "")
    assert shown.count("1:1") == 1  # the parameters once, not twice (the clock aside: at 11:1x it says "1:1")

    await card.locator("button.copy").click()
    await expect(card.locator("button.copy")).to_have_text("Copied ✓")
    assert await page.evaluate("navigator.clipboard.readText()") == long_prompt

    await card.locator("button.retry").click()
    await expect(entry(page, "imagine")).to_have_count(2)
    await entry(page, "imagine").first.locator("button.delete").click()
    await expect(entry(page, "imagine")).to_have_count(1)
    await page.reload()
    await page.wait_for_selector("body[data-ready=true]")
    await expect(entry(page, "imagine")).to_have_count(1)


async def test_keyboard_hint_and_visible_focus(page: Page, served: Served) -> None:
    hint = page.locator("#hint")
    await expect(hint).to_contain_text("Enter sends")
    await send(page, "/speak hi")
    await expect(page.locator("#input")).to_have_value("")
    await expect(hint).to_contain_text("Enter sends")  # not the old /speak usage
    assert "`" not in (await hint.text_content() or "")
    await page.press("#input", "ArrowUp")
    await expect(page.locator("#input")).to_have_value("/speak hi")
    await page.fill("#input", "")
    await page.type("#input", "Ana: hi")
    await page.keyboard.press("Shift+Enter")
    await page.type("#input", "Ben: yo")
    await expect(page.locator("#input")).to_have_value("Ana: hi\nBen: yo")
    await page.fill("#input", "")

    await served.upload(png(300, 200), "a.png")
    await entry(page, "upload").locator("button.reply").click()
    await expect(hint).to_contain_text("Editing the image")
    await page.press("#input", "Escape")
    await expect(page.locator("#reply-bar")).to_be_hidden()
    await expect(hint).to_contain_text("Enter sends")
    await expect(hint).not_to_contain_text("Reply to an image")

    await page.focus("#help-toggle")
    await page.keyboard.press("Tab")
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")


async def test_an_error_echoes_only_a_short_excerpt(page: Page) -> None:
    await send(page, "/speak --colour " + "x" * 4000)
    note = page.locator(".note.error")
    await expect(note).to_contain_text("has no option")
    said = await note.locator(".said").text_content() or ""
    assert len(said) <= 100 and said.endswith("…")
    assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")


async def test_a_stopped_studio_is_named_and_the_page_reconnects(browser: Browser, tmp_path: Path) -> None:
    port = free_port()
    async with serving(make_settings(tmp_path), port=port) as served, open_page(browser, served.url) as page:
        await expect(page.locator("#conn")).to_have_text("live")
        await served.playground.stop()
        await expect(page.locator("#conn")).to_contain_text("not reachable")
        await send(page, "/speak anyone there?")
        await expect(page.locator(".note.error")).to_contain_text("The studio isn't reachable")
        await expect(page.locator(".note.error")).not_to_contain_text("Failed to fetch")
        await served.playground.start(served.studio)
        await expect(page.locator("#conn")).to_have_text("live")
        await send(page, "/speak back again")
        await expect(entry(page, "speak")).to_have_count(1)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
async def test_axe_finds_no_serious_accessibility_violations(browser: Browser, served: Served,
                                                             viewport: dict[str, int]) -> None:
    from axe_playwright_python.async_playwright import Axe

    upload = await served.upload(png(400, 300), "harbour.png")
    _, edit = await served.post("make it night", reply_to=upload["id"], mask=mask_data_url((400, 300)))
    await served.finished(edit["entry"]["id"])
    async with open_page(browser, served.url, viewport) as page:
        await send(page, "/speak hello")
        await send(page, "/imagine a fox --aspect 16:9")
        await send(page, "/speak --nope x")
        await expect(entry(page, "speak")).to_have_count(1)
        await expect(entry(page, "imagine")).to_have_count(1)
        await images_loaded(page)
        for theme in ("light", "dark"):
            await page.emulate_media(color_scheme=theme)  # type: ignore[arg-type]
            results = await Axe().run(page)
            serious = [(v["id"], v["help"], [(n["target"], n.get("failureSummary")) for n in v["nodes"]][:3])
                       for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
            assert serious == [], f"{theme}: {serious}"
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"playground-studio-{viewport['width']}.png"), full_page=True)
