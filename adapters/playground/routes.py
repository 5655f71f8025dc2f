"""The playground's HTTP API: post a command, upload an image, read history, fetch results, watch live."""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import hdrs, web

from adapters.delivery import submit_and_track
from adapters.playground import usage
from adapters.playground.creative import CreativeRoutes
from adapters.playground.entries import Entry, job_entry, upload_entry
from adapters.playground.hidden import Hidden
from adapters.playground.hub import CHANNEL, PLATFORM, Hub, QuietReply, RequestReply
from adapters.playground.uploads import UploadStore
from core.commands import HELP, Help, parse, parse_edit
from core.errors import InputError, StudioError
from core.jobs.model import Job, JobState
from core.media.live import encode_stream
from core.requests import ASPECT_SIZES, EditRequest, Origin, Request, Requester, SpeakRequest
from core.results import AudioClip, ImageResult
from core.studio import Studio
from core.text import size_text
from core.voices import DEFAULT_VOICE, canonical_voice

STATIC = Path(__file__).parent / "static"
LIVE_MIME = 'audio/webm; codecs="opus"'
REQUESTER = Requester(PLATFORM, "local", "you")
HISTORY_LIMIT = 200
_JOB_ID = re.compile(r"^[0-9a-f]{12}$")
_DATA_URL = re.compile(r"^data:image/[a-z+.-]+;base64,(?P<data>.+)$", re.DOTALL)


def _error(err: StudioError | str, status: int = 400) -> web.Response:
    message = err if isinstance(err, str) else err.user_message
    return web.json_response({"error": message}, status=status)


def _disposition(kind: str, filename: str) -> str:
    safe = re.sub(r"[^\w.-]", "_", filename)[:120] or "download"
    return f"{kind}; filename=\"{safe}\"; filename*=UTF-8''{quote(filename[:120])}"


def _decode_mask(value: Any) -> bytes:
    """The painted mask arrives as a canvas data URL (white = change)."""
    m = _DATA_URL.match(value) if isinstance(value, str) else None
    try:
        if m is None:
            raise ValueError("not a data URL")
        return base64.b64decode(m["data"], validate=True)
    except (ValueError, binascii.Error) as err:
        raise InputError("The painted mask could not be read. Clear it and paint again.") from err


class Routes:
    """Handlers bound to one studio, the page hub and the upload store."""

    def __init__(self, studio: Studio, hub: Hub, uploads: UploadStore) -> None:
        self.studio = studio
        self.hub = hub
        self.uploads = uploads
        self.hidden = Hidden(uploads.root.parent / "hidden.json")
        self._previews: dict[str, tuple[bytes, str]] = {}
        self._preview_lock = asyncio.Lock()

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/", self.index)
        app.router.add_get("/api/info", self.info)
        app.router.add_get("/api/history", self.history)
        app.router.add_get("/api/events", self.events)
        app.router.add_post("/api/messages", self.message)
        app.router.add_post("/api/uploads", self.upload)
        app.router.add_get("/api/uploads/{id}", self.upload_file)
        app.router.add_get("/api/jobs/{id}", self.job)
        app.router.add_get("/api/jobs/{id}/result", self.result)
        app.router.add_get("/api/jobs/{id}/live", self.live)
        app.router.add_post("/api/jobs/{id}/cancel", self.cancel)
        app.router.add_post("/api/jobs/{id}/retry", self.retry)
        app.router.add_get("/api/jobs/{id}/mask", self.mask)
        app.router.add_delete("/api/entries/{id}", self.delete)
        app.router.add_post("/api/history/clear", self.clear)
        app.router.add_get("/api/voices/{name}/preview", self.preview)
        app.router.add_static("/static", STATIC, append_version=True)
        CreativeRoutes(self).add_to(app)
        usage.add_to(app, self.studio)

    # -- pages and facts ------------------------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={hdrs.CACHE_CONTROL: "no-store"})

    async def info(self, request: web.Request) -> web.Response:
        return web.json_response({
            "platform": PLATFORM, "offline": self.studio.offline, "default_voice": DEFAULT_VOICE,
            "voices": [{"name": v.name, "character": v.character} for v in self.studio.voices()],
            "aspects": list(ASPECT_SIZES), "help": HELP,
        })

    def _entry(self, job: Job) -> Entry:
        queued = job.state is JobState.QUEUED
        return job_entry(job, position=self.studio.position(job.id) if queued else None,
                         limits=self.studio.provider.limits)

    async def history(self, request: web.Request) -> web.Response:
        """The timeline after a reload or a restart: the journal's jobs and the stored uploads."""
        jobs = await self.studio.recent(PLATFORM, limit=HISTORY_LIMIT, channel=CHANNEL)
        uploads = await asyncio.to_thread(self.uploads.recent, HISTORY_LIMIT)
        entries = [self._entry(j) for j in jobs] + [upload_entry(u) for u in uploads]
        entries = [e for e in entries if self.hidden.shows(e)]
        entries.sort(key=lambda e: e["created_at"])
        return web.json_response({"entries": entries[-HISTORY_LIMIT:]})

    async def events(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        self.hub.add(ws)
        try:
            async for _ in ws:
                pass  # pages only listen
        finally:
            self.hub.discard(ws)
        return ws

    # -- asking for work ------------------------------------------------------------------------------------

    async def message(self, request: web.Request) -> web.Response:
        """One line from the message box: a command, or (with ``reply_to``) an edit instruction."""
        try:
            body = await request.json()
        except ValueError:
            return _error("Send the message as JSON.")
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str):
            return _error("The message has no text.")
        reply_to = body.get("reply_to")
        parent_id: str | None = None
        meta: dict[str, str] = {}
        try:
            if isinstance(reply_to, str) and reply_to and not text.lstrip().startswith("/"):
                image, parent_id = await self.source(reply_to)
                mask = _decode_mask(body["mask"]) if body.get("mask") else None
                meta["reply_to"] = reply_to

                def build() -> Request | Help:
                    return parse_edit(text, image, mask)
            else:
                def build() -> Request | Help:
                    return parse(text)
        except StudioError as err:
            return _error(err)
        return await self.submit(build, meta, parent_id)

    async def submit(self, build: Callable[[], Request | Help], meta: dict[str, str],
                     parent_id: str | None = None) -> web.Response:
        """Queue what ``build`` makes; 202 with the new entry, or 400 with the reason in plain words."""
        reply = RequestReply(self.hub)
        origin = Origin(PLATFORM, channel=CHANNEL, meta=meta)
        job = await submit_and_track(self.studio, reply, build, REQUESTER, origin, parent_id=parent_id)
        if reply.helped is not None:
            return web.json_response({"help": {"command": reply.helped.command, "text": reply.helped.text}})
        if job is None:
            return _error(reply.rejected or "That could not be done.")
        entry = self._entry(await self.studio.job(job.id) or job)
        await self.hub.broadcast({"type": "entry", "entry": entry})
        return web.json_response({"entry": entry}, status=202)

    async def source(self, reply_to: str) -> tuple[bytes, str | None]:
        """The image being replied to, and its job (the parent) when it was generated here."""
        kind, _, ident = reply_to.partition(":")
        gone = InputError("That image is no longer available to edit.")
        if kind == "upload":
            upload = self.uploads.get(ident)
            if upload is None:
                raise gone
            try:
                return await asyncio.to_thread(self.uploads.data, upload), None
            except OSError as err:
                raise gone from err
        job = await self.playground_job(ident) if kind == "job" else None
        result = await self.studio.result_of(job) if job is not None else None
        if not isinstance(result, ImageResult):
            raise InputError("Only images can be edited; reply to an image.") if result else gone
        assert job is not None
        return result.data, job.id

    async def upload(self, request: web.Request) -> web.Response:
        """The raw image bytes as the body (file picker, drop or paste); ``?name=`` keeps the file name."""
        cap = self.uploads.max_bytes
        if request.content_length is not None and request.content_length > cap:
            return _error(f"That image is over {size_text(cap)}.", 413)
        data = await request.read()
        try:
            upload = await asyncio.to_thread(self.uploads.add, data, request.query.get("name", "image"))
        except StudioError as err:
            return _error(err)
        entry = upload_entry(upload)
        await self.hub.broadcast({"type": "entry", "entry": entry})
        return web.json_response({"entry": entry}, status=201)

    async def retry(self, request: web.Request) -> web.Response:
        """The same request again, as a new entry beside the old one (same source image for an edit)."""
        old = await self.playground_job(request.match_info["id"])
        if old is None:
            return _error("No such job.", 404)
        reply = RequestReply(self.hub)
        origin = Origin(PLATFORM, channel=CHANNEL, meta=dict(old.origin.meta))
        job = await submit_and_track(self.studio, reply, old.request, REQUESTER, origin, parent_id=old.parent_id)
        if job is None:
            return _error(reply.rejected or "That could not be done.")
        entry = self._entry(await self.studio.job(job.id) or job)
        await self.hub.broadcast({"type": "entry", "entry": entry})
        return web.json_response({"entry": entry}, status=202)

    async def mask(self, request: web.Request) -> web.Response:
        """The painted mask of an edit, for the overlay on its result."""
        job = await self.playground_job(request.match_info["id"])
        mask = job.request.mask if job is not None and isinstance(job.request, EditRequest) else None
        if mask is None:
            return _error("That edit has no mask.", 404)
        return web.Response(body=mask, content_type="image/png",
                            headers={hdrs.CACHE_CONTROL: "private, max-age=86400"})

    async def delete(self, request: web.Request) -> web.Response:
        """Take one entry off the timeline (the journal keeps the job; every open page drops it)."""
        entry_id = request.match_info["id"]
        kind, _, ident = entry_id.partition(":")
        known = (await self.playground_job(ident) is not None if kind == "job" else
                 self.uploads.get(ident) is not None if kind == "upload" else False)
        if not known:
            return _error("No such entry.", 404)
        await asyncio.to_thread(self.hidden.hide, entry_id)
        await self.hub.broadcast({"type": "removed", "id": entry_id})
        return web.json_response({"removed": entry_id})

    async def clear(self, request: web.Request) -> web.Response:
        """Empty the timeline and the gallery for every open page; results stay on disk and in the journal."""
        cleared_at = await asyncio.to_thread(self.hidden.clear)
        await self.hub.broadcast({"type": "cleared", "at": cleared_at})
        return web.json_response({"cleared_at": cleared_at})

    async def cancel(self, request: web.Request) -> web.Response:
        job = await self.playground_job(request.match_info["id"])
        if job is None:
            return _error("No such job.", 404)
        return web.json_response({"cancelled": await self.studio.cancel(job.id)})

    # -- reading results ------------------------------------------------------------------------------------

    async def playground_job(self, job_id: str) -> Job | None:
        if not _JOB_ID.match(job_id):
            return None
        job = await self.studio.job(job_id)
        return job if job is not None and job.origin.platform == PLATFORM else None

    async def job(self, request: web.Request) -> web.Response:
        job = await self.playground_job(request.match_info["id"])
        if job is None:
            return _error("No such job.", 404)
        return web.json_response({"entry": self._entry(job)})

    async def result(self, request: web.Request) -> web.StreamResponse:
        """A finished job's file: inline for players and images, an attachment with ``?download=1``."""
        job = await self.playground_job(request.match_info["id"])
        path = None if job is None else await self.studio.result_path(job)
        if job is None or job.result is None or path is None:
            return _error("No result for that job.", 404)
        entry = job_entry(job)
        disposition = "attachment" if request.query.get("download") else "inline"
        return web.FileResponse(path, headers={
            hdrs.CONTENT_TYPE: job.result.mime_type,
            hdrs.CONTENT_DISPOSITION: _disposition(disposition, entry["result"]["filename"]),
            hdrs.CACHE_CONTROL: "private, max-age=86400",
        })

    async def live(self, request: web.Request) -> web.StreamResponse:
        """Speech still being generated, as WebM/Opus for Media Source Extensions; 204 once it is over."""
        job = await self.playground_job(request.match_info["id"])
        feed = None if job is None else await self.studio.audio_feed(job.id)
        if feed is None:
            return web.Response(status=204)
        response = web.StreamResponse(headers={hdrs.CONTENT_TYPE: LIVE_MIME, hdrs.CACHE_CONTROL: "no-store"})
        await response.prepare(request)
        try:
            async for data in encode_stream(feed.listen(min_bytes=2400), "webm"):
                await response.write(data)
            await response.write_eof()
        except (ConnectionError, StudioError):  # the page went away, or the encoder failed: the file follows
            pass
        return response

    async def upload_file(self, request: web.Request) -> web.StreamResponse:
        upload = self.uploads.get(request.match_info["id"])
        if upload is None:
            return _error("No such upload.", 404)
        disposition = "attachment" if request.query.get("download") else "inline"
        return web.FileResponse(self.uploads.path(upload), headers={
            hdrs.CONTENT_TYPE: upload.mime_type,
            hdrs.CONTENT_DISPOSITION: _disposition(disposition, upload_entry(upload)["result"]["filename"]),
            hdrs.CACHE_CONTROL: "private, max-age=86400",
        })

    async def preview(self, request: web.Request) -> web.Response:
        """A short sample of one voice, generated once and kept in memory (not in the timeline)."""
        try:
            voice = canonical_voice(request.match_info["name"])
        except InputError as err:
            return _error(err, 404)
        async with self._preview_lock:
            if voice not in self._previews:
                character = next((v.character for v in self.studio.voices() if v.name == voice), "")
                text = f"Hello, I'm {voice}. My voice is {character.lower() or 'my own'}. How does this sound?"
                origin = Origin(PLATFORM, channel="preview")
                try:
                    clip = await self.studio.run(SpeakRequest(text=text, voice=voice), REQUESTER, origin,
                                                 reply=QuietReply())
                except StudioError as err:
                    return _error(err, 503)
                assert isinstance(clip, AudioClip)
                self._previews[voice] = (clip.data, clip.mime_type)
        data, mime = self._previews[voice]
        return web.Response(body=data, content_type=mime, headers={hdrs.CACHE_CONTROL: "private, max-age=3600"})
