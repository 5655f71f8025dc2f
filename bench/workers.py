"""Throughput with 1, 2 and 4 ``studiobot worker`` processes on PostgreSQL, beside the single process on SQLite.

A throwaway PostgreSQL cluster (``tests/postgres.py``: initdb + pg_ctl on a free 127.0.0.1 port), one front
end (``studiobot run`` with ``STUDIOBOT_DATABASE_URL``, no ``--with-workers``: it only takes the slash
commands, journals and enqueues them) and workers added to it 1 → 2 → 4. Each worker runs
``--concurrency`` jobs at a time (the single process's two pools together) against the emulator at a set
latency, and posts its results over Discord's REST API, as a worker on another machine would. Each step
first runs one warm-up round (first use loads codecs and opens connections), then ``jobs`` commands.

Baseline, same run, same world: the single ``studiobot run`` on SQLite with its in-process pools (the same
concurrency as one worker), the same commands at the same latency. Throughput is delivered results
divided by the time from the first command sent to the last result received at the fake Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.load import DRAWN, SPOKEN
from bench.world import BotProcess, World, until
from tests.postgres import Cluster, running_cluster

KINDS = ("speak", "imagine")  # speech and pictures alternating, as the two pools take them
WORKER_COUNTS = (1, 2, 4)
CONCURRENCY = 4  # per worker: STUDIOBOT_SPEECH_WORKERS + STUDIOBOT_IMAGE_WORKERS, their defaults
SPEECH_POOL = IMAGE_POOL = CONCURRENCY // 2  # the baseline's in-process pools, the same concurrency


@dataclass
class Step:
    """One measured burst: how many results came back, and over how long."""

    jobs: int
    delivered: int
    seconds: float
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds each part of the system spent on it
    load: float = 0.0  # the box's 1-minute load average at the end: other work on it shows up here

    @property
    def cores_busy(self) -> float:
        """CPU seconds of every part together per second of the burst: 2.0 is this whole 2-core box."""
        return sum(self.cpu_s.values()) / self.seconds if self.seconds > 0 else 0.0

    @property
    def jobs_s(self) -> float | None:
        return self.delivered / self.seconds if self.delivered and self.seconds > 0 else None


@dataclass
class WorkersRun:
    jobs: int
    latency_s: float
    baseline: Step | None = None
    by_workers: dict[int, Step] = field(default_factory=dict)


Meters = dict[str, Callable[[], float]]  # part of the system -> its CPU seconds so far


def process_cpu_s(pid: int) -> float:
    """CPU seconds of a process and its reaped children (a bot's ffmpeg encodes; PostgreSQL's ended backends)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


def bot_cpu_s(*bots: BotProcess) -> float:
    return sum(process_cpu_s(b.proc.pid) for b in bots if b.proc is not None)


def bench_cpu_s() -> float:
    """This process: the fake Discord, the fake Slack and the emulator, which in production run elsewhere."""
    times = os.times()
    return times.user + times.system


def postgresql_cpu_s(port: int) -> float:
    """The cluster listening on ``port``: its postmaster (with ended backends) and every live child."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stats[int(entry.name)] = ((entry / "cmdline").read_bytes().split(b"\0"),
                                          (entry / "stat").read_text().rpartition(")")[2].split())
    master = next((pid for pid, (argv, _) in stats.items()
                   if argv[0].endswith(b"/postgres") and str(port).encode() in argv), None)
    if master is None:
        return 0.0
    pids = [master, *(pid for pid, (_, stat) in stats.items() if int(stat[1]) == master)]
    return sum(sum(int(x) for x in stats[pid][1][11:15]) for pid in pids) / os.sysconf("SC_CLK_TCK")


def _results(world: World, since: int) -> dict[str, float]:
    """Each result delivered after call ``since`` (one per job, repeats folded) -> when the fake Discord got it.

    The single process edits the interaction's original response with the file; a worker has no
    interaction token and posts a channel message with the job's nonce.
    """
    found: dict[str, float] = {}
    for call in world.discord.state.calls[since:]:
        if call.files and call.method in ("POST", "PATCH"):
            key = str((call.body or {}).get("nonce") or call.path)
            found.setdefault(key, call.at)
    return found


async def _burst(world: World, n: int, meters: Meters, *, wait_s: float) -> Step:
    """``n`` slash commands back to back, cycling through KINDS; wait for ``n`` results.

    The fakes keep what earlier bursts left (a front end still tidies their "thinking…"): calls are
    counted from this burst's first.
    """
    before = {name: meter() for name, meter in meters.items()}
    since, start = len(world.discord.state.calls), time.monotonic()
    for i in range(n):
        if KINDS[i % len(KINDS)] == "speak":  # the same words each time: the emulator renders each answer once
            await world.discord.slash("speak", text=SPOKEN)
        else:
            await world.discord.slash("imagine", prompt=DRAWN)
    await until(lambda: len(_results(world, since)) >= n, wait_s)
    ends = sorted(_results(world, since).values())
    cpu = {name: round(meter() - before[name], 3) for name, meter in meters.items()}
    step = Step(n, len(ends), (ends[-1] - start) if ends else 0.0, cpu, round(os.getloadavg()[0], 2))
    world.missing(f"Discord results, {n} for throughput with workers", step.delivered, n, wait_s)
    return step


@contextlib.asynccontextmanager
async def _cluster() -> AsyncIterator[Cluster]:
    """The throwaway cluster, started and stopped off the loop (initdb and pg_ctl block for seconds)."""
    manager: contextlib.AbstractContextManager[Cluster] = running_cluster()
    cluster = await asyncio.to_thread(manager.__enter__)
    try:
        yield cluster
    finally:
        await asyncio.to_thread(manager.__exit__, None, None, None)


async def _database(cluster: Cluster) -> str:
    name = f"bench_{secrets.token_hex(4)}"
    async with await psycopg.AsyncConnection.connect(cluster.url(), autocommit=True) as conn:
        await conn.execute(f'CREATE DATABASE "{name}"')
    return str(cluster.url(name))


def _worker(world: World, url: str) -> BotProcess:
    return BotProcess(world, [sys.executable, "-m", "bots", "worker", "--concurrency", str(CONCURRENCY)],
                      ready=("Worker:",), database_url=url)


@contextlib.contextmanager
def _noted(world: World, what: str) -> Iterator[None]:
    """A step that fails becomes one line in ``problems``; the figures measured before it stay."""
    try:
        yield
    except Exception as exc:
        world.problems.append(f"{what} not measured: {type(exc).__name__}: {exc}"[:300])


async def throughput_by_workers(world: World, jobs: int, latency_s: float, *, wait_s: float) -> WorkersRun:
    """The baseline (single process, SQLite), then 1, 2 and 4 workers behind one front end on PostgreSQL."""
    run = WorkersRun(jobs, latency_s)
    world.latency_s = latency_s
    world.forget()
    try:
        with _noted(world, "throughput of the single process (the workers' baseline)"):
            async with BotProcess.studiobot(world, speech_workers=str(SPEECH_POOL), image_workers=str(IMAGE_POOL),
                                            max_queue=str(jobs + 10)) as bot:
                meters: Meters = {"single process": lambda: bot_cpu_s(bot), "bench": bench_cpu_s}
                await _burst(world, CONCURRENCY, meters, wait_s=wait_s)  # warm-up round
                run.baseline = await _burst(world, jobs, meters, wait_s=wait_s)
        await worker_processes(world, run, wait_s=wait_s)
    finally:
        world.latency_s = 0.0
        world.forget()
    return run


async def worker_processes(world: World, run: WorkersRun, *, wait_s: float) -> None:
    """One front end, then workers added 1 -> 2 -> 4; without PostgreSQL's server, a line in ``problems``."""
    with _noted(world, "throughput with 1, 2 and 4 worker processes"):
        async with _cluster() as cluster, contextlib.AsyncExitStack() as stack:
            url = await _database(cluster)
            front = await stack.enter_async_context(BotProcess.studiobot(world, database_url=url,
                                                                         max_queue=str(run.jobs + 10)))
            workers: list[BotProcess] = []
            meters: Meters = {"front end": lambda: bot_cpu_s(front), "workers": lambda: bot_cpu_s(*workers),
                              "postgresql": lambda: postgresql_cpu_s(cluster.port), "bench": bench_cpu_s}
            for count in WORKER_COUNTS:
                workers += await asyncio.gather(*(stack.enter_async_context(_worker(world, url))
                                                  for _ in range(count - len(workers))))
                await _burst(world, count * CONCURRENCY, meters, wait_s=wait_s)  # warm-up round for the new ones
                run.by_workers[count] = await _burst(world, run.jobs, meters, wait_s=wait_s)


def _per_job_ms(step: Step) -> dict[str, float]:
    return {part: round(cpu * 1e3 / max(1, step.delivered), 1) for part, cpu in step.cpu_s.items()}


def figures(run: WorkersRun | None) -> dict[str, object]:
    """The JSON keys: jobs/s per worker count, each count's ratio to 1 worker, and the single-process baseline."""
    one = run.by_workers.get(1) if run else None
    base = run.baseline.jobs_s if run and run.baseline else None
    by = {str(n): (run.by_workers[n].jobs_s if run and n in run.by_workers else None) for n in WORKER_COUNTS}
    ratio = {str(n): (v / one.jobs_s if v is not None and one is not None and one.jobs_s else None)
             for n, v in ((n, by[str(n)]) for n in WORKER_COUNTS)}
    return {
        "throughput_by_workers": by,
        "throughput_by_workers_ratio": ratio,
        "baseline_throughput_by_workers_jobs_s": base,
        "throughput_by_workers_delivered": {str(n): s.delivered for n, s in run.by_workers.items()} if run else {},
        "throughput_by_workers_jobs": run.jobs if run else None,
        "throughput_by_workers_latency_s": run.latency_s if run else None,
        "throughput_by_workers_concurrency": CONCURRENCY,
        # Where the CPU went (seconds per delivered job, per part), and how much of the box was busy:
        "throughput_by_workers_cpu_ms_per_job": {str(n): _per_job_ms(s) for n, s in run.by_workers.items()}
        if run else {},
        "baseline_throughput_by_workers_cpu_ms_per_job": _per_job_ms(run.baseline) if run and run.baseline else {},
        "throughput_by_workers_cores_busy": {str(n): round(s.cores_busy, 2) for n, s in run.by_workers.items()}
        if run else {},
        "baseline_throughput_by_workers_cores_busy": round(run.baseline.cores_busy, 2)
        if run and run.baseline else None,
        "throughput_by_workers_load_average": {str(n): s.load for n, s in run.by_workers.items()} if run else {},
    }
