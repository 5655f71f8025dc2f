"""One-shot generation from the command line: the CLI is just another platform with a file as its channel."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.status import Status

from core.errors import InputError, StudioError
from core.jobs.delivery import Reply
from core.jobs.files import write_atomic
from core.jobs.model import Job, JobState, Progress
from core.requests import Origin, Request, Requester
from core.results import AudioClip, Result
from core.settings import Settings
from core.studio import open_studio

PLATFORM = "cli"


def output_path(path: Path) -> Path:
    """Refuse an unwritable destination before spending a generation on it."""
    path = path.expanduser()
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{path} is a directory; give a file name such as {path / 'out.png'}.")
    if not parent.is_dir():
        raise InputError(f"Cannot write {path}: the folder {parent} does not exist.")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"Cannot write {path}: permission denied.")
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
            self.status.update("generating…")

    async def post(self, job: Job, result: Result) -> str | None:
        write_atomic(self.path, result.data)
        return str(self.path)

    async def fail(self, job: Job, error: StudioError) -> str | None:
        return None


class FileHook:
    """Finishes CLI jobs a killed process left behind, into the file they named."""

    platform = PLATFORM

    def reply_for(self, job: Job) -> Reply:
        return FileReply(Path(job.origin.meta.get("output", f"studiobot-{job.id}.bin")))


async def generate_to_file(settings: Settings, request: Request, path: Path, console: Console) -> Result:
    requester = Requester(PLATFORM, os.environ.get("USER", "local"))
    origin = Origin(PLATFORM, channel=str(path.parent), meta={"output": str(path)})
    async with open_studio(settings, resume=False) as studio:
        if studio.offline:
            console.print("[bold yellow]OFFLINE PREVIEW:[/] no GEMINI_API_KEY set, so speech comes from espeak "
                          "and images are preview cards.", highlight=False)
        status = console.status("validating…") if console.is_terminal else None
        reply = FileReply(path, status)
        if status is not None:
            status.start()
        try:
            result = await studio.run(request, requester, origin, reply=reply)
        finally:
            if status is not None:
                status.stop()
    console.print(f"wrote {path} ({_describe(result)})", highlight=False)
    return result


def _describe(result: Result) -> str:
    size = f"{len(result.data) / 1024:.0f} KiB"
    if isinstance(result, AudioClip):
        return f"{result.duration_s:.2f} s {result.codec} {result.container}, {size}"
    return f"{result.width}x{result.height} {result.mime_type}, {size}"
