"""A member's own records: paged history, deleting one result, and forgetting everything about them.

Deleting removes the journal row, the result file, the ledger row and every input file no other job
still uses (inputs are stored by content hash and may be shared).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from dataclasses import dataclass

from core.community.store import CommunityStore
from core.jobs.files import BlobStore, ResultStore
from core.jobs.journal import Journal
from core.jobs.model import Job
from core.requests import Request

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    jobs: tuple[Job, ...]
    page: int  # 0-based
    pages: int
    total: int


def input_bytes(request: Request) -> list[bytes]:
    """Every input file of a request (images, masks, references), as the journal stored them."""
    found: list[bytes] = []
    for f in dataclasses.fields(request):
        value = getattr(request, f.name)
        if isinstance(value, bytes):
            found.append(value)
        elif isinstance(value, tuple):
            found.extend(v for v in value if isinstance(v, bytes))
    return found


class Members:
    def __init__(self, journal: Journal, store: CommunityStore, results: ResultStore, blobs: BlobStore) -> None:
        self.journal = journal
        self.store = store
        self.results = results
        self.blobs = blobs

    async def history(self, platform: str, user_id: str, *, page: int = 0, per_page: int = 5,
                      workspace: str | None = None) -> HistoryPage:
        """Newest first; a page past the end shows the last one."""
        total = await self.store.count_jobs(platform, user_id, workspace=workspace)
        pages = max(1, math.ceil(total / per_page))
        page = min(max(0, page), pages - 1)
        ids = await self.store.job_ids(platform, user_id, limit=per_page, offset=page * per_page,
                                       workspace=workspace)
        jobs = [job for job_id in ids if (job := await self.journal.get(job_id)) is not None]
        return HistoryPage(tuple(jobs), page, pages, total)

    async def delete(self, job: Job) -> None:
        await self.journal.delete(job.id)
        await self.store.delete([job.id])
        if job.result is not None:
            await asyncio.to_thread(self.results.delete, job.result)
        for data in input_bytes(job.request):
            key = BlobStore.key_of(data)
            if not await self.journal.uses_blob(key):
                await asyncio.to_thread(self.blobs.delete, key)
        log.info("deleted job %s and its files", job.id)

    async def forget(self, platform: str, user_id: str) -> int:
        """Everything stored about one member; returns how many jobs went."""
        ids = await self.store.job_ids(platform, user_id)
        ids += [i for i in await self.journal.ids_of(platform, user_id) if i not in ids]
        count = 0
        for job_id in ids:
            job = await self.journal.get(job_id)
            if job is not None:
                await self.delete(job)
                count += 1
        await self.store.delete(ids)
        log.info("forgot a %s member: %d jobs", platform, count)
        return count
