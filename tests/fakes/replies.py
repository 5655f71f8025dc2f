"""A stand-in platform: records what would have been posted, for core tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import StudioError
from core.jobs.model import Job, Progress
from core.results import Result


@dataclass
class RecordingReply:
    progress_events: list[Progress] = field(default_factory=list)
    posted: list[tuple[str, Result]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    handed: list[str] = field(default_factory=list)  # jobs another process delivered (``handed_off``)

    async def progress(self, progress: Progress) -> None:
        self.progress_events.append(progress)

    async def post(self, job: Job, result: Result) -> str | None:
        self.posted.append((job.id, result))
        return f"msg-{job.id}"

    async def fail(self, job: Job, error: StudioError) -> str | None:
        self.failed.append((job.id, error.user_message))
        return None

    async def handed_off(self, job: Job) -> None:
        self.handed.append(job.id)


@dataclass
class RecordingHook:
    """Delivery for jobs that outlived their live request (e.g. after a restart)."""

    platform: str = "test"
    reply: RecordingReply = field(default_factory=RecordingReply)

    def reply_for(self, job: Job) -> RecordingReply:
        return self.reply

    async def reconcile(self, job: Job) -> str | None:
        """Already posted? The recording is the platform's memory."""
        posted = [jid for jid, _ in self.reply.posted] + [jid for jid, _ in self.reply.failed]
        return f"msg-{job.id}" if job.id in posted else None
