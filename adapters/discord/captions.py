"""The words under each result and in each progress line: short, plain, never a ping."""

from __future__ import annotations

from core.creative import describe
from core.jobs.model import Job, JobState, Progress
from core.requests import EditRequest, ImagineRequest, SpeakRequest
from core.results import ImageResult, Result
from core.text import excerpt

MAX_ECHO = 300
WORKING = {"speak": "🗣️ Recording…", "imagine": "🎨 Drawing…", "edit": "🖌️ Editing…", "pick": "🔎 Taking it…",
           "vary": "🔀 Varying…", "upscale": "⬆️ Upscaling…", "blend": "🧪 Blending…"}
EMOJI = {"pick": "🔎", "vary": "🔀", "upscale": "⬆️", "blend": "🧪"}


def _short(text: str, limit: int = MAX_ECHO) -> str:
    """User words on one line, inert (no pings, links or control codes), cut with an ellipsis."""
    return excerpt(text, limit)


def progress_text(kind: str, progress: Progress) -> str | None:
    if progress.state is JobState.QUEUED:
        where = f" (position {progress.position})" if progress.position else ""
        return f"⏳ Waiting in the queue{where}…"
    if progress.state is JobState.RUNNING:
        working = WORKING.get(kind, "Working…")
        return f"{working} {progress.message}" if progress.message.startswith("part ") else working
    return None


def caption(job: Job, result: Result, note: str | None = None) -> str:
    """What was made, how, and for whom (a mention that cannot ping: allowed_mentions is none)."""
    req = job.request
    who = f"<@{job.requester.user_id}>"
    if isinstance(req, SpeakRequest):
        voices = " & ".join(dict.fromkeys(s.voice for s in req.speakers)) if req.speakers else req.voice
        line = f"🗣️ **{voices}**" + (f" · *{_short(req.style, 80)}*" if req.style else "")
        line += f" · {getattr(result, 'duration_s', 0.0):.1f} s · for {who}"
    elif isinstance(req, ImagineRequest):
        guided = " · image-guided" if req.references else ""
        made = describe(req, result).removeprefix(req.prompt)  # " · 4 images" or " · 1024×1024"
        line = f"🎨 {_short(req.prompt)} · {req.aspect or '1:1'}{guided}{made} · for {who}"
        if isinstance(result, ImageResult) and result.is_grid:
            line += "\n-# U takes one image alone · V varies it · Re-roll draws new ones"
    elif isinstance(req, EditRequest):
        masked = " · masked" if req.mask is not None else ""
        line = f"🖌️ {_short(describe(req, result))}{masked} · for {who}"
    else:
        line = f"{EMOJI.get(req.kind, '🎨')} {_short(describe(req, result))} · for {who}"
    if getattr(result, "offline", False):
        line += "\n-# offline preview: no Gemini key is set"
    if note:
        line += f"\n-# {note}"
    return line


def filename(job: Job, result: Result) -> str:
    return f"{job.kind}-{job.id}.{result.extension}"
