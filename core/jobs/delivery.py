"""The delivery hook adapters implement: the one way a result reaches a platform."""

from __future__ import annotations

from typing import Protocol

from core.errors import StudioError
from core.jobs.model import Job, Progress
from core.results import Result


class Reply(Protocol):
    """Where one job's progress and outcome go; returns the platform's id for what it posted."""

    async def progress(self, progress: Progress) -> None: ...

    async def post(self, job: Job, result: Result) -> str | None: ...

    async def fail(self, job: Job, error: StudioError) -> str | None: ...


class DeliveryHook(Protocol):
    """Per platform: rebuilds a Reply from what the journal kept, for jobs outliving their live request."""

    platform: str

    def reply_for(self, job: Job) -> Reply: ...
