"""One-shot generation from the command line: the CLI is just another platform with a file as its channel."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from bots.files import shown
from core.errors import InputError, StudioError
from core.jobs.delivery import Reply
from core.jobs.files import write_atomic
from core.jobs.model import Job, JobState, Progress
from core.media import images
from core.media.live import encode_stream
from core.requests import Origin, Request, Requester, SpeakRequest
from core.results import AudioClip, ImageResult, Result
from core.settings import Settings
from core.studio import open_studio

PLATFORM = "cli"
STDOUT = "-"
IMAGE_SUFFIXES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def _file_mode() -> int:
    """What ``open()`` would give a new file: 0666 less the umask (read once, at import, on the main thread)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


FILE_MODE = _file_mode()


def image_output_path(path: Path) -> Path:
    """An image destination whose name says PNG, JPEG or WebP; the result is converted to match."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise InputError(f"Cannot write an image to {shown(path.name)}: name it .png, .jpg, .jpeg or .webp.")
    return output_path(path)


def output_path(path: Path) -> Path:
    """Refuse an unwritable destination before spending a generation on it."""
    path = path.expanduser()
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{shown(path)} is a directory; give a file name such as {shown(path / 'out.png')}.")
    if not parent.is_dir():
        raise InputError(f"Cannot write {shown(path)}: the folder {shown(parent)} does not exist.")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"Cannot write {shown(path)}: permission denied.")
    if path.exists() and not path.is_file():
        raise InputError(f"Cannot write {shown(path)}: it is not a regular file.")
    return path.resolve()


@dataclass
class FileReply:
    """Writes the result where the user asked; shows progress on a spinner when there is one."""

    path: Path
    status: Status | None = None

    async def progress(self, progress: Progress) -> None:
        if self.status is None:
            return
        if progress.state is JobState.QUEUED and progress.position:
            self.status.update(f"queued (#{progress.position})")
        elif progress.state is JobState.RUNNING:
            part = progress.message if progress.message.startswith("part ") else ""
            self.status.update(f"generating… {part}".strip())

    async def post(self, job: Job, result: Result) -> str | None:
        if str(self.path) == STDOUT:
            return STDOUT  # already streamed as it was made; a resumed job has no pipe left to write to
        data = result.data
        wanted = IMAGE_SUFFIXES.get(self.path.suffix.lower())
        if isinstance(result, ImageResult) and wanted is not None and wanted != result.mime_type:
            data = await asyncio.to_thread(images.convert, data, wanted)
        await asyncio.to_thread(write_atomic, self.path, data, mode=FILE_MODE)
        for n, cell in enumerate(getattr(result, "candidates", ()), start=1):  # a grid: NAME-1 … NAME-4 beside it
            if wanted is not None and images.sniff(cell) != wanted:
                cell = await asyncio.to_thread(images.convert, cell, wanted)
            await asyncio.to_thread(write_atomic, cell_path(self.path, n), cell, mode=FILE_MODE)
        return str(self.path)

    async def fail(self, job: Job, error: StudioError) -> str | None:
        return None

    async def handed_off(self, job: Job) -> None:
        """Nothing to tidy: a file has no placeholder and this process holds no token."""
        return None


def cell_path(path: Path, n: int) -> Path:
    return path.with_name(f"{path.stem}-{n}{path.suffix}")


class FileHook:
    """Finishes CLI jobs a killed process left behind, into the file they named."""

    platform = PLATFORM

    def reply_for(self, job: Job) -> Reply:
        return FileReply(Path(job.origin.meta.get("output", f"studiobot-{job.id}.bin")))

    async def reconcile(self, job: Job) -> str | None:
        """Writing the file is atomic and idempotent, so it is simply written again."""
        return None


async def generate_to_file(settings: Settings, request: Request, path: Path, console: Console) -> Result:
    requester = Requester(PLATFORM, os.environ.get("USER", "local"))
    origin = Origin(PLATFORM, channel=str(path.parent), meta={"output": str(path)})
    async with open_studio(settings, resume=False) as studio:
        status = console.status("validating…") if console.is_terminal else None
        reply = FileReply(path, status)
        if status is not None:
            status.start()
        try:
            job = await studio.submit(request, requester, origin, reply=reply)
            if studio.offline:  # only once accepted, so a refusal stays one line
                console.print("[bold yellow]OFFLINE PREVIEW:[/] no GEMINI_API_KEY set, so speech comes from "
                              "espeak and images are preview cards.", highlight=False)
            result = await studio.outcome(job.id)
        finally:
            if status is not None:
                status.stop()
    console.print(f"wrote {escape(shown(path, 1000))} ({_describe(result)})", highlight=False)
    cells = getattr(result, "candidates", ())
    if cells:
        failed = getattr(result, "failed", 0)
        note = f"; {failed} of {len(cells) + failed} could not be drawn" if failed else ""
        first, last = escape(cell_path(path, 1).name), escape(cell_path(path, len(cells)).name)
        console.print(f"wrote {first} … {last} beside it{note}", highlight=False)
    return result


async def speak_to_stdout(settings: Settings, request: SpeakRequest, console: Console) -> Result:
    """``-o -``: the encoded clip goes to stdout while it is generated, so a player can start at once."""
    requester = Requester(PLATFORM, os.environ.get("USER", "local"))
    origin = Origin(PLATFORM, meta={"output": STDOUT})
    out = sys.stdout.buffer
    async with open_studio(settings, resume=False) as studio:
        job = await studio.submit(request, requester, origin, reply=FileReply(Path(STDOUT)))
        if studio.offline:
            console.print("[bold yellow]OFFLINE PREVIEW:[/] no GEMINI_API_KEY set, so speech comes from "
                          "espeak.", highlight=False)
        feed = await studio.audio_feed(job.id)
        if feed is not None:
            async for data in encode_stream(feed.listen(min_bytes=4800), request.audio_format):
                await asyncio.to_thread(_write, out, data)
        result = await studio.outcome(job.id)
        if feed is None:  # finished before we could listen (very short): the file is the same audio
            await asyncio.to_thread(_write, out, result.data)
    console.print(f"streamed to stdout ({_describe(result)})", highlight=False)
    return result


def _write(out: BinaryIO, data: bytes) -> None:
    out.write(data)
    out.flush()


def _describe(result: Result) -> str:
    size = f"{len(result.data) / 1024:.0f} KiB"
    if isinstance(result, AudioClip):
        return f"{result.duration_s:.2f} s {result.codec} {result.container}, {size}"
    return f"{result.width}x{result.height} {result.mime_type}, {size}"
