"""Timeline entries as the page sees them: one JSON shape for jobs and uploads, built from what is stored."""

from __future__ import annotations

from typing import Any

from adapters.playground.uploads import Upload
from core.creative import describe, stored_buttons
from core.jobs.model import Job, JobState, ResultRef
from core.providers.base import ProviderLimits
from core.requests import BlendRequest, EditRequest, ImagineRequest, SpeakRequest

Entry = dict[str, Any]
_EXT = {"audio/ogg": "ogg", "audio/mpeg": "mp3", "audio/wav": "wav",
        "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def _extension(ref: ResultRef) -> str:
    return _EXT.get(ref.mime_type, "bin")


def _media(url: str, filename: str, mime_type: str, kind: str, meta: dict[str, Any]) -> dict[str, Any]:
    return {"url": url, "download": f"{url}?download=1", "filename": filename, "mime_type": mime_type,
            "kind": kind, **meta}


def job_entry(job: Job, *, position: int | None = None, limits: ProviderLimits | None = None) -> Entry:
    """What the timeline shows for a job: its request, state, and result once there is one."""
    req = job.request
    entry: Entry = {
        "id": f"job:{job.id}", "job_id": job.id, "kind": job.kind, "state": job.state.value,
        "position": position, "created_at": job.created_at, "updated_at": job.updated_at,
        "parent": job.origin.meta.get("reply_to"), "error": None, "result": None,
    }
    if isinstance(req, SpeakRequest):
        entry |= {"text": req.text, "voice": req.voice, "style": req.style, "language": req.language,
                  "speakers": [{"name": s.name, "voice": s.voice} for s in req.speakers]}
    elif isinstance(req, ImagineRequest):
        entry |= {"text": req.prompt, "aspect": req.aspect, "count": req.count or 1, "size": req.size}
    elif isinstance(req, EditRequest):
        entry |= {"text": req.instruction, "aspect": req.aspect, "masked": req.mask is not None}
    else:  # U, V, Upscale, Blend: say what it is and where it came from
        entry |= {"text": describe(req), "parents": [p.job_id for p in getattr(req, "parents", ())]}
        if isinstance(req, BlendRequest):
            entry["aspect"] = req.aspect
    if job.kind != "speak":
        offer = stored_buttons(job, limits or ProviderLimits())
        entry["buttons"] = {"cells": offer.cells, "reroll": offer.reroll, "vary": offer.vary,
                            "upscale_to": offer.upscale_to}
    if job.state in (JobState.FAILED, JobState.CANCELLED):
        entry["error"] = job.error or "Something went wrong."
    if job.result is not None:
        url = f"/api/jobs/{job.id}/result"
        entry["result"] = _media(url, f"studiobot-{job.id}.{_extension(job.result)}", job.result.mime_type,
                                 job.result.kind, dict(job.result.meta))
    return entry


def upload_entry(upload: Upload) -> Entry:
    url = f"/api/uploads/{upload.id}"
    return {
        "id": f"upload:{upload.id}", "upload_id": upload.id, "kind": "upload", "state": "done", "position": None,
        "created_at": upload.created_at, "updated_at": upload.created_at, "parent": None, "error": None,
        "text": upload.name,
        "result": _media(url, upload.name if "." in upload.name else f"{upload.name}.{upload.extension}",
                         upload.mime_type, "image", {"width": upload.width, "height": upload.height}),
    }
