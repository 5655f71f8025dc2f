"""Hostile input through the playground's HTTP API: a plain refusal, nothing queued, nothing stored."""

from __future__ import annotations

import base64
import json

import pytest

from tests.adapters.conftest import Served
from tests.hostile import samples
from tests.hostile.lines import IMAGINE, LIVE, SPEAK

LINES = [(f"speak-{i}", f"/speak {t}", w) for i, t, w in SPEAK] + [(f"imagine-{i}", f"/imagine {t}", w)
                                                                   for i, t, w in IMAGINE]


async def refused(served: Served, status: int, body: dict[str, object], words: str) -> str:
    assert status == 400, body
    message = str(body["error"])
    assert words.lower() in message.lower(), message
    assert not LIVE.search(message), message
    assert "\n" not in message and "Traceback" not in message
    assert await served.studio.journal.recent("playground") == []
    return message


@pytest.mark.parametrize(("text", "words"), [(t, w) for _, t, w in LINES], ids=[i for i, _, _ in LINES])
async def test_a_hostile_line_is_refused_plainly(served: Served, text: str, words: str) -> None:
    status, body = await served.post(text)
    await refused(served, status, body, words)


async def test_a_lone_surrogate_in_json_is_refused(served: Served) -> None:
    raw = json.dumps({"text": "/speak caf\udce9"})  # \udce9 escaped: valid JSON, not valid text
    async with served.http.post("/api/messages", data=raw, headers={"Content-Type": "application/json"}) as res:
        await refused(served, res.status, await res.json(), "valid UTF-8")


async def test_bytes_that_are_not_utf8_are_refused(served: Served) -> None:
    async with served.http.post("/api/messages", data=b'{"text": "/speak caf\xe9"}',
                                headers={"Content-Type": "application/json"}) as res:
        await refused(served, res.status, await res.json(), "JSON")


@pytest.mark.parametrize("name", ["html", "svg", "png-bomb", "zlib-bomb", "truncated-png", "empty"])
async def test_a_hostile_upload_is_refused_and_not_kept(served: Served, name: str) -> None:
    async with served.http.post("/api/uploads", params={"name": "x.png"}, data=samples.NOT_IMAGES[name](),
                                headers={"Content-Type": "image/png"}) as res:
        assert res.status in (400, 413), await res.text()
        body = await res.json()
    assert "\n" not in body["error"]
    uploads = served.playground.uploads.root
    assert not uploads.exists() or list(uploads.iterdir()) == []


async def test_an_upload_name_is_echoed_inertly(served: Served) -> None:
    async with served.http.post("/api/uploads", params={"name": "\x1b[2J<@123> [x](https://e).png"},
                                data=samples.png(), headers={"Content-Type": "image/png"}) as res:
        entry = (await res.json())["entry"]
    assert not LIVE.search(json.dumps(entry, ensure_ascii=False))


async def test_an_all_black_mask_says_it_selects_nothing(served: Served) -> None:
    upload = await served.upload(samples.png((64, 48)), "photo.png")
    mask = "data:image/png;base64," + base64.b64encode(samples.mask(0)).decode()
    status, body = await served.post("make it night", reply_to=upload["id"], mask=mask)
    await refused(served, status, body, "selects nothing")
