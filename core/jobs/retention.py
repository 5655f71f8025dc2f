"""Retention: finished jobs, their result files and input blobs older than the setting are pruned.

Runs in the background (hourly, and once shortly after start). Only jobs that are finished and whose
delivery is final are forgotten; an input blob goes once no remaining job refers to it and no new job
has reused it since ``before`` (a reuse counts as writing it again), so a job accepted during the pass
keeps its inputs.
"""

from __future__ import annotations

import asyncio
import logging
import time

from core.jobs.files import BlobStore, ResultStore
from core.jobs.journal import Journal
from core.jobs.model import ResultRef

log = logging.getLogger(__name__)

INTERVAL_S = 3600.0
FIRST_AFTER_S = 1.0


def _remove(results: ResultStore, refs: list[ResultRef], blobs: BlobStore, keep: set[str], before: float) -> int:
    removed = sum(results.delete(ref) for ref in refs) + blobs.prune(keep, before)
    results.tidy()  # local copies of results deleted anywhere go too
    return removed


async def prune(journal: Journal, results: ResultStore, blobs: BlobStore, older_than_s: float) -> int:
    """One pass; returns how many files were removed."""
    before = time.time() - older_than_s
    refs = await journal.prune(before)
    keep = await journal.blob_keys()
    removed = await asyncio.to_thread(_remove, results, refs, blobs, keep, before)
    if refs or removed:
        log.info("retention: forgot %d jobs, removed %d files", len(refs), removed)
    return removed


async def prune_forever(journal: Journal, results: ResultStore, blobs: BlobStore, days: float) -> None:
    await asyncio.sleep(FIRST_AFTER_S)
    while True:
        try:
            await prune(journal, results, blobs, days * 86400)
        except Exception:
            log.exception("retention pass failed")
        await asyncio.sleep(INTERVAL_S)
