"""Grids with U/V buttons, Re-roll, Upscale, sizes and /blend as a member sees them on Discord."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image
from pydantic import SecretStr

from core.requests import Parent, PickRequest
from core.settings import Settings
from emulator.app import Emulator
from emulator.faults import Fault
from tests.adapters.discord.conftest import image_size, make_settings, png, running
from tests.fakes.discord import FakeDiscord

GRID_BUTTONS = {"U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4", "Re-roll", "Delete"}


def job_of(fake: FakeDiscord, message_id: str) -> str:
    return fake.buttons(message_id)["Delete"].split(":")[2]


def gemini(tmp_path: Path, fake: FakeDiscord, emulator: Emulator, **overrides: object) -> Settings:
    return make_settings(tmp_path, fake, gemini_api_key=SecretStr("test-key"), gemini_base_url=emulator.base_url,
                         gemini_retry_base_s=0.01, **overrides)


def pixels(data: bytes) -> bytes:
    return Image.open(io.BytesIO(data)).convert("RGB").tobytes()


async def test_a_grid_of_four_and_its_buttons_survive_a_restart(fake: FakeDiscord, settings: Settings) -> None:
    async with running(settings):
        grid = await fake.result(await fake.slash("imagine", prompt="a red fox", count=4))
        (att,) = grid["attachments"]
        assert image_size(fake.file(att)) == (2048, 2048)  # four 1024x1024 cells
        assert set(fake.buttons(grid["id"])) == GRID_BUTTONS
        assert "4 images" in grid["content"]
    assert not fake.gateway.sessions  # the first process is gone
    async with running(settings) as second:
        picked = await fake.result(await fake.click(grid["id"], "U2"))
        done = await second.studio.job(job_of(fake, grid["id"]))
        assert done is not None
        cell, _ = await second.studio.candidate(done, 2)
        assert fake.file(picked["attachments"][0]) == cell  # byte for byte
        assert set(fake.buttons(picked["id"])) == {"Retry", "Edit", "Vary", "Upscale to 2K", "Delete"}
        child = job_of(fake, picked["id"])
        assert await second.studio.parents(child) == [Parent(done.id, 2)]
        job = await second.studio.job(child)
        assert job is not None and isinstance(job.request, PickRequest) and job.parent_id == done.id
        assert "Image 2 of the grid · 1024×1024" in picked["content"]
        varied = await fake.result(await fake.click(grid["id"], "V4"))
        assert "Variation" in varied["content"]
        rerolled = await fake.result(await fake.click(grid["id"], "Re-roll"))
        assert set(fake.buttons(rerolled["id"])) == GRID_BUTTONS


async def test_v3_sends_candidate_3_with_the_variation_instruction(tmp_path: Path, fake: FakeDiscord,
                                                                   emulator: Emulator) -> None:
    async with running(gemini(tmp_path, fake, emulator)) as bot:
        grid = await fake.result(await fake.slash("imagine", prompt="a lighthouse at dusk", count=4))
        assert len(emulator.calls) == 4
        varied = await fake.result(await fake.click(grid["id"], "V3"))
        done = await bot.studio.job(job_of(fake, grid["id"]))
        assert done is not None
        cell, _ = await bot.studio.candidate(done, 3)
    parts = emulator.calls[-1].body["contents"][0]["parts"]
    assert pixels(base64.urlsafe_b64decode(parts[0]["inlineData"]["data"])) == pixels(cell)
    assert "variation of this image" in parts[1]["text"] and "a lighthouse at dusk" in parts[1]["text"]
    assert image_size(fake.file(varied["attachments"][0])) == (1024, 1024)


async def test_upscale_asks_for_2k_and_posts_a_2k_image(tmp_path: Path, fake: FakeDiscord,
                                                        emulator: Emulator) -> None:
    async with running(gemini(tmp_path, fake, emulator)):
        first = await fake.result(await fake.slash("imagine", prompt="a tidy desk"))
        big = await fake.result(await fake.click(first["id"], "Upscale to 2K"))
    assert emulator.calls[-1].body["generationConfig"]["imageConfig"]["imageSize"] == "2K"
    assert image_size(fake.file(big["attachments"][0])) == (2048, 2048)
    assert "Upscaled to 2K · 2048×2048" in big["content"]
    assert "Upscale to 4K" in fake.buttons(big["id"])


async def test_upscale_is_not_offered_at_the_models_largest_size(tmp_path: Path, fake: FakeDiscord,
                                                                 emulator: Emulator) -> None:
    lite = gemini(tmp_path, fake, emulator, image_model="gemini-3.1-flash-lite-image")  # 512 and 1K only
    async with running(lite):
        message = await fake.result(await fake.slash("imagine", prompt="a small boat"))
    assert set(fake.buttons(message["id"])) == {"Retry", "Edit", "Vary", "Delete"}


async def test_a_size_the_model_lacks_is_refused_plainly(tmp_path: Path, fake: FakeDiscord,
                                                         emulator: Emulator) -> None:
    async with running(gemini(tmp_path, fake, emulator, image_model="gemini-3-pro-image")):
        text = await fake.ephemeral(await fake.slash("imagine", prompt="a fox", size="512"))
    assert text == "gemini-3-pro-image can't make 512 images; it offers 1K, 2K, 4K."
    assert emulator.calls == []


async def test_a_partly_failed_grid_shows_the_rest_and_says_how_many_failed(tmp_path: Path, fake: FakeDiscord,
                                                                             emulator: Emulator) -> None:
    emulator.script(Fault.blocked())
    async with running(gemini(tmp_path, fake, emulator)):
        grid = await fake.result(await fake.slash("imagine", prompt="three owls", count=4))
    assert "3 images (1 of 4 failed)" in grid["content"]
    assert {"U1", "U2", "U3", "V3"} <= set(fake.buttons(grid["id"])) and "U4" not in fake.buttons(grid["id"])
    assert image_size(fake.file(grid["attachments"][0])) == (2048, 2048)


async def test_blend_sends_every_attachment_in_order_before_the_instruction(tmp_path: Path, fake: FakeDiscord,
                                                                            emulator: Emulator) -> None:
    colours = [(250, 0, 0), (0, 250, 0), (0, 0, 250)]
    files = [fake.upload(f"{n}.png", png(64, 64, c), "image/png") for n, c in zip("abc", colours, strict=True)]
    async with running(gemini(tmp_path, fake, emulator)) as bot:
        message = await fake.result(await fake.slash("blend", image1=files[0], image2=files[1], image3=files[2],
                                                     instruction="the cat from the first in the second's style"))
        parents = await bot.studio.job(job_of(fake, message["id"]))
    parts = emulator.calls[-1].body["contents"][0]["parts"]
    sent = [Image.open(io.BytesIO(base64.urlsafe_b64decode(p["inlineData"]["data"]))).getpixel((1, 1))
            for p in parts[:3]]
    assert sent == colours and parts[3]["text"] == "the cat from the first in the second's style"
    assert "Blend of a.png, b.png, c.png" in message["content"]
    assert parents is not None and parents.kind == "blend"
