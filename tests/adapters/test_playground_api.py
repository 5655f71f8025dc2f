"""The playground's HTTP API, driven with a real client against a real server and an offline studio."""

from __future__ import annotations

import asyncio
import base64
import json
from io import BytesIO
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from adapters.playground import AccessError, Playground
from core.studio import open_studio
from tests.adapters.conftest import GatedProvider, Served, make_settings, png, read_events, serving


def image(data: bytes) -> Image.Image:
    return Image.open(BytesIO(data))


async def test_info_names_the_voices_the_syntax_and_the_offline_provider(served: Served) -> None:
    async with served.http.get("/api/info") as res:
        info = await res.json()
    assert info["offline"] is True
    assert {"name": "Kore", "character": "Firm"} in info["voices"]
    assert info["help"]["speak"].startswith("/speak")
    assert "16:9" in info["aspects"]


async def test_the_page_and_its_assets_are_served(served: Served) -> None:
    for path, kind in (("/", "text/html"), ("/static/app.js", "javascript"), ("/static/app.css", "text/css")):
        res, body = await served.fetch(path)
        assert res.status == 200, path
        assert kind in res.headers["Content-Type"]
        assert body


async def test_speak_queues_a_job_and_serves_an_ogg_clip(served: Served) -> None:
    status, body = await served.post("/speak --voice Puck --style calm hello there")
    assert status == 202
    entry = body["entry"]
    assert (entry["kind"], entry["text"], entry["voice"], entry["style"]) == ("speak", "hello there", "Puck", "calm")
    done = await served.finished(entry["id"])
    assert done["state"] == "done"
    assert done["result"]["duration_s"] > 0.3
    res, data = await served.fetch(done["result"]["url"])
    assert res.headers["Content-Type"] == "audio/ogg"
    assert res.headers["Content-Disposition"].startswith("inline")
    assert data.startswith(b"OggS")
    res, _ = await served.fetch(done["result"]["download"])
    assert res.headers["Content-Disposition"].startswith('attachment; filename="studiobot-')


async def test_progress_and_the_outcome_are_pushed_over_the_websocket(served: Served) -> None:
    async with served.http.ws_connect("/api/events") as ws:
        _, body = await served.post("/imagine a lighthouse --aspect 16:9")
        job = body["entry"]["id"]
        events = await read_events(ws, lambda e: e["type"] == "entry" and e["entry"]["id"] == job
                                   and e["entry"]["state"] == "done")
    states = [e["state"] for e in events if e["type"] == "progress" and e["id"] == job]
    assert "running" in states
    final = events[-1]["entry"]
    assert (final["result"]["width"], final["result"]["height"]) == (1344, 768)
    _, data = await served.fetch(final["result"]["url"])
    assert image(data).size == (1344, 768)


async def test_replying_to_an_upload_edits_it_and_replies_chain(served: Served) -> None:
    upload = await served.upload(png(), "harbour.png")
    assert upload["kind"] == "upload"
    _, data = await served.fetch(upload["result"]["url"])
    assert image(data).size == (320, 240)

    status, body = await served.post("make it night", reply_to=upload["id"])
    assert status == 202, body
    first = await served.finished(body["entry"]["id"])
    assert (first["kind"], first["state"], first["parent"]) == ("edit", "done", upload["id"])

    status, body = await served.post("add a moon", reply_to=first["id"])
    second = await served.finished(body["entry"]["id"])
    assert second["parent"] == first["id"]
    job = await served.studio.job(second["job_id"])
    assert job is not None
    assert job.parent_id == first["job_id"]
    assert await served.studio.job_for_message("playground", first["job_id"]) is not None


async def test_a_painted_mask_limits_the_edit(served: Served) -> None:
    upload = await served.upload(png(200, 200, (10, 200, 10)))
    mask = Image.new("L", (200, 200), 0)
    mask.paste(255, (100, 0, 200, 200))  # right half may change
    out = BytesIO()
    mask.save(out, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    _, body = await served.post("make it red", reply_to=upload["id"], mask=data_url)
    done = await served.finished(body["entry"]["id"])
    assert done["masked"] is True
    _, data = await served.fetch(done["result"]["url"])
    edited = image(data).convert("RGB")
    assert edited.getpixel((5, 100)) == (10, 200, 10)  # outside the mask: the source, untouched
    assert edited.getpixel((195, 100)) != (10, 200, 10)


@pytest.mark.parametrize(
    ("message", "extra", "says"),
    [
        ("/speak --colour red hi", {}, "no option --colour"),
        ("/imagine --aspect 7:3 a cat", {}, "Unknown aspect ratio"),
        ("/speak --voice Nobody hi", {}, "Unknown voice"),
        ("hello", {}, "Start with /speak or /imagine"),
        ("make it night", {"reply_to": "upload:000000000000"}, "no longer available"),
        ("make it night", {"reply_to": "job:zz"}, "no longer available"),
    ],
)
async def test_bad_messages_are_refused_in_plain_words(served: Served, message: str, extra: dict[str, str],
                                                       says: str) -> None:
    status, body = await served.post(message, **extra)
    assert status == 400
    assert says in body["error"]
    assert await served.studio.journal.recent("playground") == []


async def test_help_is_answered_without_a_job(served: Served) -> None:
    status, body = await served.post("/imagine help")
    assert status == 200
    assert body["help"]["text"].startswith("/imagine")


async def test_replying_to_speech_is_refused(served: Served) -> None:
    _, body = await served.post("/speak hi")
    done = await served.finished(body["entry"]["id"])
    status, body = await served.post("make it night", reply_to=done["id"])
    assert status == 400
    assert "Only images" in body["error"]


async def test_uploads_must_be_images(served: Served) -> None:
    async with served.http.post("/api/uploads", data=b"%PDF-1.4 not an image") as res:
        assert res.status == 400
        assert "PNG" in (await res.json())["error"]


async def test_voice_preview_is_audio_and_stays_out_of_the_timeline(served: Served) -> None:
    res, data = await served.fetch("/api/voices/puck/preview")
    assert res.status == 200
    assert res.headers["Content-Type"] == "audio/ogg"
    assert data.startswith(b"OggS")
    async with served.http.get("/api/history") as history:
        assert (await history.json())["entries"] == []
    res, _ = await served.fetch("/api/voices/Nobody/preview")
    assert res.status == 404


async def test_queue_position_and_cancel(tmp_path: Path) -> None:
    provider = GatedProvider()
    async with serving(make_settings(tmp_path), provider=provider) as served, \
            served.http.ws_connect("/api/events") as ws:
        _, first = await served.post("/imagine one")
        _, second = await served.post("/imagine two")
        assert second["entry"]["state"] == "queued"
        assert second["entry"]["position"] == 1
        async with served.http.post(f"/api/jobs/{second['entry']['job_id']}/cancel") as res:
            assert (await res.json())["cancelled"] is True
        events = await read_events(ws, lambda e: e["type"] == "entry" and e["entry"]["id"] == second["entry"]["id"]
                                   and e["entry"]["state"] == "cancelled")
        assert events[-1]["entry"]["error"] == "The request was cancelled."
        provider.gate.set()
        assert (await served.finished(first["entry"]["id"]))["state"] == "done"


async def test_history_survives_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with serving(settings) as served:
        upload = await served.upload(png())
        _, body = await served.post("/speak remember me")
        spoken = await served.finished(body["entry"]["id"])
        _, body = await served.post("make it night", reply_to=upload["id"])
        edited = await served.finished(body["entry"]["id"])
    async with serving(settings) as served:
        async with served.http.get("/api/history") as res:
            entries = (await res.json())["entries"]
        assert [e["id"] for e in entries] == [upload["id"], spoken["id"], edited["id"]]
        assert entries[2]["parent"] == upload["id"]
        res, data = await served.fetch(spoken["result"]["url"])
        assert res.status == 200
        assert data.startswith(b"OggS")


async def test_a_job_cut_off_by_a_restart_is_finished_and_delivered_to_the_page(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    provider = GatedProvider()
    async with serving(settings, provider=provider) as served:
        _, body = await served.post("/imagine unfinished business")
        job_id = body["entry"]["job_id"]
        await asyncio.sleep(0.2)  # running, blocked on the gate, when the process stops
    async with serving(settings) as served:
        entry = await served.finished(job_id)
        assert entry["state"] == "done"
        async with asyncio.timeout(30):
            while (job := await served.studio.job(job_id)) is None or job.delivered_ref is None:
                await asyncio.sleep(0.02)  # the page may hear "done" a moment before the hook records it
        assert job.delivered_ref == job_id  # reached the playground's hook


# -- who may connect --------------------------------------------------------------------------------------------


def test_binding_beyond_localhost_needs_a_flag_and_a_token(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with pytest.raises(AccessError, match="allow-remote"):
        Playground(settings, host="0.0.0.0")
    with pytest.raises(AccessError, match="access token"):
        Playground(settings, host="0.0.0.0", allow_remote=True)
    Playground(settings, host="0.0.0.0", allow_remote=True, token="x" * 24)
    Playground(settings, host="::1")
    Playground(settings, host="localhost")


async def test_a_token_is_checked_on_every_request(tmp_path: Path) -> None:
    token = "s3cret-token-0123456789"
    async with serving(make_settings(tmp_path), token=token) as served:
        assert served.url.endswith(f"?token={token}")
        res, _ = await served.fetch("/api/info")
        assert res.status == 401
        async with served.http.get("/api/info", headers={"X-Studiobot-Token": token}) as res:
            assert res.status == 200
        async with served.http.get(f"/?token={token}", allow_redirects=False) as res:
            assert res.status == 302
            assert res.headers["Location"] == "/"
        res, _ = await served.fetch("/api/info")  # the cookie now carries it
        assert res.status == 200
        async with served.http.get("/api/info", headers={"X-Studiobot-Token": "wrong"}) as res:
            assert res.status == 401


async def test_cross_site_requests_and_foreign_hosts_are_refused(served: Served) -> None:
    async with served.http.post("/api/messages", json={"text": "/speak hi"},
                                headers={"Origin": "http://evil.example"}) as res:
        assert res.status == 403
    async with served.http.get("/api/info", headers={"Host": "evil.example"}) as res:
        assert res.status == 403
    async with served.http.post("/api/messages", json={"text": "/speak hi"},
                                headers={"Origin": served.url.split("?")[0].rstrip("/")}) as res:
        assert res.status == 202


async def test_start_returns_a_url_and_stop_frees_the_port(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with serving(settings) as served:
        url = served.url
        assert url.startswith("http://127.0.0.1:")
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(url)


async def test_serve_runs_until_cancelled_and_reports_its_url(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    playground = Playground(settings)
    urls: list[str] = []
    async with open_studio(settings, hooks=(playground.hook,)) as studio:
        task = asyncio.create_task(playground.serve(studio, on_ready=urls.append))
        async with asyncio.timeout(30):
            while not urls:
                await asyncio.sleep(0.01)
        async with aiohttp.ClientSession() as http, http.get(urls[0] + "api/info") as res:
            assert res.status == 200
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert playground.url == urls[0]


async def test_the_usage_panel_counts_what_was_made_here(served: Served) -> None:
    for text in ("/speak hello there", "/imagine a fox --count 2"):
        _, body = await served.post(text)
        await served.finished(body["entry"]["id"])
    _, data = await served.fetch("/api/usage")
    usage = json.loads(data)
    by_kind = {line["kind"]: (line["requests"], line["generations"], line["cost"]) for line in usage["today"]}
    assert by_kind == {"speak": (1, 1, "$0.00"), "imagine": (1, 2, "$0.00")}  # offline previews cost nothing
    assert usage["last_30_days"] == usage["today"] and usage["offline"] is True
    _, page = await served.fetch("/")
    assert b'id="show-usage"' in page
