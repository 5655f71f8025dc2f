"""Prometheus metrics for one studio (its own registry: no process-wide state).

Counts that must agree across restarts and processes (jobs by kind and state, deliveries, spend) are
read from the journal at scrape time; what only this process sees (queue, waits, latency, retries,
refusals) is counted as it happens.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from core.community.store import CommunityStore
from core.jobs.journal import Journal
from core.jobs.queue import JobQueue

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.jobs = Gauge("studiobot_jobs", "Jobs in the journal by kind and state", ["kind", "state"], registry=r)
        self.deliveries = Gauge("studiobot_deliveries", "Finished jobs by delivery outcome", ["outcome"], registry=r)
        self.queue_depth = Gauge("studiobot_queue_depth", "Jobs waiting for a worker", ["pool"], registry=r)
        self.queue_wait = Histogram("studiobot_queue_wait_seconds", "Time from accepted to started", ["pool"],
                                    buckets=LATENCY_BUCKETS, registry=r)
        self.provider_latency = Histogram("studiobot_provider_seconds", "Generation time per job (all attempts)",
                                          ["kind", "outcome"], buckets=LATENCY_BUCKETS, registry=r)
        self.provider_retries = Counter("studiobot_provider_retries", "Provider calls beyond the first per job",
                                        ["kind"], registry=r)
        self.refusals = Counter("studiobot_refusals", "Requests refused before a job existed", ["reason"], registry=r)
        self.spend = Gauge("studiobot_estimated_spend_usd", "Estimated provider spend recorded in the journal",
                           ["kind"], registry=r)
        self.loop_lag = Gauge("studiobot_event_loop_lag_seconds", "Latest measured event-loop lag", registry=r)

    def refused(self, reason: str) -> None:
        self.refusals.labels(reason).inc()

    def started(self, pool: str, created_at: float) -> None:
        if created_at:
            self.queue_wait.labels(pool).observe(max(0.0, time.time() - created_at))

    def generated(self, kind: str, seconds: float, outcome: str, attempts: int) -> None:
        self.provider_latency.labels(kind, outcome).observe(seconds)
        if attempts > 1:
            self.provider_retries.labels(kind).inc(attempts - 1)

    async def refresh(self, journal: Journal, store: CommunityStore, queue: JobQueue, pools: Sequence[str]) -> None:
        """Bring the journal-backed gauges up to date (called before each scrape)."""
        self.jobs.clear()
        self.deliveries.clear()
        delivered: dict[str, int] = {}
        for kind, state, delivery, n in await journal.counts():
            self.jobs.labels(kind, state).inc(n)
            if state in ("done", "failed"):
                delivered[delivery] = delivered.get(delivery, 0) + n
        for outcome, n in delivered.items():
            self.deliveries.labels(outcome).set(n)
        for pool in pools:
            self.queue_depth.labels(pool).set(len(queue.waiting(pool)))
        self.spend.clear()
        for line in await store.summary(0.0, ("kind",), {}):
            self.spend.labels(line.key["kind"]).set(line.cost_usd)
