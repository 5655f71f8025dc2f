"""Retention: finished jobs, their result files and input blobs older than the setting are pruned.

Runs in the background (hourly, and once shortly after start). Only jobs that are finished and whose
delivery is final are forgotten; an input blob goes once no remaining job refers to it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from core.jobs.files import BlobStore, ResultStore
from core.jobs.journal import Journal
from core.jobs.model import ResultRef

log = logging.getLogger(__name__)

INTERVAL_S = 3600.0
FIRST_AFTER_S = 1.0


def _remove(results: ResultStore, refs: list[ResultRef], blobs: BlobStore, keep: set[str], before: float) -> int:
    removed = 0
    for ref in refs:
        path = results.path(ref)
        if path.exists():
            path.unlink()
            removed += 1
    if blobs.root.is_dir():
        for path in blobs.root.glob("*/*"):
            if path.name not in keep and _older(path, before):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _older(path: Path, before: float) -> bool:
    try:
        return path.stat().st_mtime < before
    except FileNotFoundError:
        return False


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
