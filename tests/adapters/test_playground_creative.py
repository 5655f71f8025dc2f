"""Grids, U/V, Upscale and blends through the playground's HTTP API, including after a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.requests import Parent
from tests.adapters.conftest import Served, make_settings, png, serving
from tests.fakes.media import image_size


async def act(served: Served, entry: dict[str, Any], action: str, n: int | None = None) -> tuple[int, Any]:
    async with served.http.post(f"/api/jobs/{entry['job_id']}/actions", json={"action": action, "n": n}) as res:
        return res.status, await res.json()


async def test_a_grid_survives_a_restart_and_u2_is_candidate_2_byte_for_byte(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with serving(settings) as served:
        _, body = await served.post("/imagine a red fox --count 4")
        grid = await served.finished(body["entry"]["id"])
        assert grid["buttons"] == {"cells": 4, "reroll": True, "vary": False, "upscale_to": None}
        _, data = await served.fetch(grid["result"]["url"])
        assert image_size(data) == (2048, 2048)
    async with serving(settings) as served:
        async with served.http.get("/api/history") as res:
            (again,) = [e for e in (await res.json())["entries"] if e["id"] == grid["id"]]
        assert again["buttons"]["cells"] == 4
        status, body = await act(served, again, "u", 2)
        assert status == 202, body
        picked = await served.finished(body["entry"]["id"])
        assert (picked["kind"], picked["parent"], picked["parents"]) == ("pick", grid["id"], [grid["job_id"]])
        _, data = await served.fetch(picked["result"]["url"])
        job = await served.studio.job(grid["job_id"])
        assert job is not None
        cell, _ = await served.studio.candidate(job, 2)
        assert data == cell
        assert await served.studio.parents(picked["job_id"]) == [Parent(grid["job_id"], 2)]
        assert picked["buttons"] == {"cells": 0, "reroll": False, "vary": True, "upscale_to": "2K"}

        status, body = await act(served, picked, "upscale")
        big = await served.finished(body["entry"]["id"])
        assert (big["result"]["width"], big["result"]["height"]) == (2048, 2048)
        assert big["text"] == "Upscaled to 2K"
        status, body = await act(served, again, "v", 3)
        assert (await served.finished(body["entry"]["id"]))["kind"] == "vary"


async def test_a_bad_action_is_refused_plainly(served: Served) -> None:
    _, body = await served.post("/imagine one boat")
    single = await served.finished(body["entry"]["id"])
    status, body = await act(served, single, "u", 3)
    assert (status, body["error"]) == (400, "That grid has no image 3.")
    status, body = await act(served, single, "explode")
    assert status == 400 and "Unknown action" in body["error"]


async def test_blending_uploads_in_order(served: Served) -> None:
    first = await served.upload(png(64, 64, (250, 0, 0)), "cat.png")
    second = await served.upload(png(64, 64, (0, 0, 250)), "style.png")
    async with served.http.post("/api/blend", json={"sources": [first["id"], second["id"]],
                                                    "text": "the cat in this style"}) as res:
        assert res.status == 202
        body = await res.json()
    done = await served.finished(body["entry"]["id"])
    assert (done["kind"], done["text"]) == ("blend", "Blend of cat.png, style.png: the cat in this style")
    assert (done["result"]["width"], done["result"]["height"]) == (1024, 1024)
    async with served.http.post("/api/blend", json={"sources": [first["id"]]}) as res:
        assert res.status == 400 and "at least 2" in (await res.json())["error"]
