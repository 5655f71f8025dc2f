"""Jobs, their states and the progress events callers watch."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field

from core.requests import Origin, Request, Requester


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


class Delivery(enum.StrEnum):
    """At least once with idempotent posts: ``delivering`` is written before the first attempt, and a job
    found ``delivering`` after a crash is reconciled with the platform before it is posted again."""

    PENDING = "pending"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    UNDELIVERABLE = "undeliverable"  # the platform refused for good (no access, unknown channel, too large)

    @property
    def final(self) -> bool:
        return self in (Delivery.DELIVERED, Delivery.UNDELIVERABLE)


def new_job_id() -> str:
    return secrets.token_hex(6)


@dataclass(frozen=True, slots=True)
class ResultRef:
    """Where a result lives on disk and what it is, without loading the bytes."""

    path: str
    kind: str  # audio | image
    mime_type: str
    meta: dict[str, float | int | str | bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    request: Request
    requester: Requester
    origin: Origin
    parent_id: str | None = None
    state: JobState = JobState.QUEUED
    attempts: int = 0
    error_code: str | None = None
    error: str | None = None
    result: ResultRef | None = None
    delivery: Delivery = Delivery.PENDING
    delivered_ref: str | None = None
    dedupe_key: str | None = None  # a platform's event id: a redelivered event never makes a second job
    owner: str | None = None  # the process holding the lease (see core/jobs/leases.py)
    lease_until: float | None = None  # epoch seconds; after it, any process may take the job over
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def kind(self) -> str:
        return self.request.kind

    @property
    def pool(self) -> str:
        """Which worker pool runs it: speech and images never starve each other."""
        return "speech" if self.request.kind == "speak" else "image"


@dataclass(frozen=True, slots=True)
class Progress:
    job_id: str
    state: JobState
    position: int | None = None  # 1-based place in the queue while queued
    message: str = ""
