"""The playground's studio actions over HTTP: retry, delete, clear, and an edit's mask."""

from __future__ import annotations

import base64
import io

from PIL import Image

from tests.adapters.conftest import Served, png


def _mask() -> str:
    mask = Image.new("L", (320, 240), 0)
    mask.paste(255, (0, 0, 160, 120))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


async def _history_ids(served: Served) -> list[str]:
    async with served.http.get("/api/history") as res:
        return [e["id"] for e in (await res.json())["entries"]]


async def test_retry_makes_a_new_job_with_the_same_request(served: Served) -> None:
    _, body = await served.post("/speak --voice Puck hello")
    first = await served.finished(body["entry"]["id"])
    async with served.http.post(f"/api/jobs/{first['job_id']}/retry") as res:
        assert res.status == 202
        again = (await res.json())["entry"]
    assert again["id"] != first["id"]
    done = await served.finished(again["id"])
    assert (done["state"], done["text"], done["voice"]) == ("done", "hello", "Puck")


async def test_delete_and_clear_hide_entries_for_good(served: Served) -> None:
    upload = await served.upload(png(), "a.png")
    _, body = await served.post("/imagine a fox")
    job = await served.finished(body["entry"]["id"])
    async with served.http.delete(f"/api/entries/{upload['id']}") as res:
        assert res.status == 200
    assert await _history_ids(served) == [job["id"]]
    async with served.http.delete("/api/entries/job:000000000000") as res:
        assert res.status == 404
    async with served.http.post("/api/history/clear") as res:
        assert res.status == 200
    assert await _history_ids(served) == []
    _, later = await served.post("/speak after the clear")
    assert await _history_ids(served) == [later["entry"]["id"]]


async def test_an_edit_serves_its_mask(served: Served) -> None:
    upload = await served.upload(png(), "a.png")
    _, body = await served.post("make it night", reply_to=upload["id"], mask=_mask())
    edit = await served.finished(body["entry"]["id"])
    res, data = await served.fetch(f"/api/jobs/{edit['job_id']}/mask")
    assert res.status == 200 and res.content_type == "image/png"
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (320, 240)
    _, plain = await served.post("/imagine no mask here")
    job = await served.finished(plain["entry"]["id"])
    res, _ = await served.fetch(f"/api/jobs/{job['job_id']}/mask")
    assert res.status == 404
