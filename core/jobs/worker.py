"""``studiobot worker`` (and ``run --with-workers``): take jobs from the shared queue until stopped.

Beside procrastinate's own worker loop runs the sweep that makes a SIGKILLed worker harmless: every
heartbeat, jobs held by a worker whose heartbeat is older than the lease go back in line (procrastinate's
``get_stalled_jobs`` + ``retry_job``), and ``run_one`` continues them from what the journal recorded.
Every worker sweeps, so there is no single process whose death stops recovery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from core.jobs.runner import JobRunner
from core.jobs.shared_runner import SharedJobRunner

log = logging.getLogger(__name__)


async def serve_jobs(runner: SharedJobRunner, *, queues: Iterable[str], concurrency: int, grace_s: float,
                     name: str = "worker") -> None:
    """Run jobs until cancelled; on cancel, running jobs get ``grace_s`` to finish, then go back in line."""
    sweeper = asyncio.create_task(_sweep_forever(runner), name="stalled-jobs")
    try:
        await runner.shared_queue.work(runner.run_one, queues=queues, concurrency=concurrency,
                                       heartbeat_s=runner.lease.heartbeat_s, grace_s=grace_s, name=name)
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper


def work_here(runner: JobRunner, pools: dict[str, int], grace_s: float) -> None:
    """This process's own workers beside its front end (``run --with-workers``, one-shot commands, tests):
    one per kind, sized like the in-process pools, stopped with the runner."""
    assert isinstance(runner, SharedJobRunner)
    for pool, size in pools.items():
        runner.background(serve_jobs(runner, queues=[pool], concurrency=size, grace_s=grace_s, name=pool),
                          f"workers-{pool}")


async def _sweep_forever(runner: SharedJobRunner) -> None:
    while True:
        try:
            await runner.shared_queue.retry_stalled(runner.lease.lease_s)
        except Exception:
            log.warning("could not look for stalled jobs", exc_info=True)
        await asyncio.sleep(runner.lease.heartbeat_s)
