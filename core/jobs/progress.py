"""Progress without flooding: one background publisher per platform, never on a worker's path.

Chat platforms rate-limit edits per message and per token, and a busy queue changes every waiting job's
position whenever one job starts. So the runner only *offers* events here and returns at once; the
publisher keeps the latest event per job (older ones are dropped), sends at most one per job every
``interval_s``, reports queue positions only when they change meaningfully (every position up to 5, then
every 5th), and spends at most ``budget`` platform calls per job on progress, whatever the queue depth.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from core.jobs.delivery import Reply
from core.jobs.model import JobState, Progress
from core.tasks import TaskOwner

log = logging.getLogger(__name__)

BUDGET = 2  # progress calls per job: its queue position, then "working" (with the defer and the result: ≤4 calls)
SEND_TIMEOUT_S = 10.0  # a stalled platform answer must not hold up every other job's progress
EXACT_UNTIL = 5  # positions 1..5 are each worth telling; beyond that, only every 5th
PART_BUDGET = 10  # "part 3 of 7" of a long text: bounded by its length (coalesced like the rest), not the queue


def position_bucket(position: int | None) -> int | None:
    if position is None or position <= EXACT_UNTIL:
        return position
    return -(-position // EXACT_UNTIL) * EXACT_UNTIL


@dataclass
class _Slot:
    """What was last sent for one job, and the newest event still waiting to go."""

    reply: Reply
    pending: Progress | None = None
    sent_state: JobState | None = None
    sent_bucket: int | None = None
    sent_at: float = float("-inf")
    calls: int = 0
    sent_message: str = ""
    part_calls: int = 0


class ProgressPublisher:
    def __init__(self, platform: str, interval_s: float, budget: int = BUDGET) -> None:
        self.platform = platform
        self.interval_s = interval_s
        self.budget = budget
        self.calls = 0  # progress calls made, for measurements
        self._slots: dict[str, _Slot] = {}
        self._wake = asyncio.Event()
        self._sends = TaskOwner(f"progress-{platform}")
        self._loop: asyncio.Task[None] | None = None

    def offer(self, reply: Reply, event: Progress) -> None:
        """Keep ``event`` as the job's latest, if it is worth a platform call; never blocks."""
        if event.state.terminal:
            self.forget(event.job_id)
            return
        slot = self._slots.setdefault(event.job_id, _Slot(reply))
        if not self._worth_sending(slot, event):
            return
        slot.pending = event
        if self._loop is None or self._loop.done():
            self._loop = asyncio.create_task(self._run(), name=f"progress-{self.platform}")
        self._wake.set()

    def forget(self, job_id: str) -> None:
        """The job's outcome is being delivered: no more progress for it."""
        self._slots.pop(job_id, None)

    def _worth_sending(self, slot: _Slot, event: Progress) -> bool:
        left = self.budget - slot.calls
        if event.state is JobState.RUNNING:
            if slot.sent_state is JobState.RUNNING:  # only a long text's next part is news
                return (event.message.startswith("part ") and event.message != slot.sent_message
                        and slot.part_calls < PART_BUDGET)
            return left > 0
        # queued: keep one call for "working", and tell a position only when its bucket changes
        if left <= 1 or slot.sent_state is JobState.RUNNING:
            return False
        return slot.sent_state is None or position_bucket(event.position) != slot.sent_bucket

    async def _run(self) -> None:
        while self._slots:
            now = time.monotonic()
            next_due: float | None = None
            for job_id, slot in list(self._slots.items()):
                if slot.pending is None:
                    continue
                due = slot.sent_at + self.interval_s
                if due > now:
                    next_due = due if next_due is None else min(next_due, due)
                    continue
                event, slot.pending = slot.pending, None
                if slot.sent_state is JobState.RUNNING and event.message.startswith("part "):
                    slot.part_calls += 1  # a long text's next part: its own small budget
                else:
                    slot.calls += 1
                slot.sent_state, slot.sent_bucket = event.state, position_bucket(event.position)
                slot.sent_at, slot.sent_message = now, event.message
                self.calls += 1
                self._sends.spawn(self._send(slot.reply, event), name=f"progress-{job_id}")
            self._wake.clear()
            timeout = None if next_due is None else max(0.0, next_due - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _send(self, reply: Reply, event: Progress) -> None:
        try:
            await asyncio.wait_for(reply.progress(event), SEND_TIMEOUT_S)
        except Exception:
            log.info("progress update for job %s failed", event.job_id, exc_info=True)

    async def close(self) -> None:
        self._slots.clear()
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        await self._sends.close()
