"""``studiobot bench --quick`` keeps working: every figure is produced beside its baseline (timings are not judged)."""

from __future__ import annotations

import asyncio
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bench import report
from tests.processes import STUDIOBOT, clean_env

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("ack_p99_ms", "baseline_ack_p99_ms", "overhead_ratio_imagine", "overhead_ratio_speak",
            "overhead_ratio_edit", "rest_calls_per_job", "loop_lag_max_ms", "peak_rss_mb_1000_queued",
            "encode_realtime_factor", "throughput_jobs_s")


async def _bench(*args: str) -> tuple[int, str, str]:
    env = clean_env(PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, "bench", "--quick", *args, cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 280)
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_a_quick_bench_reports_every_figure_beside_its_baseline() -> None:
    code, out, err = await _bench("--json")
    assert code == 0, err[-2000:]
    figures = json.loads(out)
    # Measured without depending on any job's result, so always a number:
    for key in ("ack_p99_ms", "baseline_ack_p99_ms", "loop_lag_max_ms", "baseline_loop_lag_max_ms",
                "peak_rss_mb_1000_queued", "baseline_rss_mb_idle", "encode_realtime_factor",
                "baseline_encode_realtime_factor", "baseline_throughput_jobs_s", "baseline_overhead_ratio_speak"):
        assert isinstance(figures[key], int | float) and figures[key] > 0, (key, figures[key])
    # The rest need results back: a number, or else the bench says in `problems` what went missing.
    for key in REQUIRED:
        assert key in figures
        assert isinstance(figures[key], int | float) or figures["problems"], (key, figures[key])
    _assert_worker_throughput(figures)

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(report.table(figures))
    shown = console.export_text()
    assert "baseline" in shown and "ratio" in shown
    assert "overhead ratio imagine" in shown and "REST calls per job" in shown
    assert "4 worker processes" in shown


def _assert_worker_throughput(figures: dict[str, Any]) -> None:
    """Jobs/s with 1, 2 and 4 ``studiobot worker`` processes on PostgreSQL, beside the single process.

    Each count's jobs/s can be no more than its slots allow (workers x concurrency / latency): a figure
    above that would count something other than delivered results. Under CI PostgreSQL is installed, so
    the figures must be there; elsewhere a missing server is allowed only if ``problems`` says so.
    """
    by, ratio = figures["throughput_by_workers"], figures["throughput_by_workers_ratio"]
    assert set(by) == set(ratio) == {"1", "2", "4"}
    if os.environ.get("CI") != "true" and any(v is None for v in by.values()):
        assert any("worker processes not measured" in p for p in figures["problems"]), figures["problems"]
        return
    latency, each = figures["throughput_by_workers_latency_s"], figures["throughput_by_workers_concurrency"]
    for count, jobs_s in by.items():
        assert isinstance(jobs_s, float) and 0 < jobs_s <= int(count) * each / latency, (count, jobs_s)
        assert figures["throughput_by_workers_delivered"][count] == figures["throughput_by_workers_jobs"]
    assert ratio["1"] == 1.0 and ratio["2"] == by["2"] / by["1"] and ratio["4"] == by["4"] / by["1"]
    base = figures["baseline_throughput_by_workers_jobs_s"]
    assert isinstance(base, float) and 0 < base <= each / latency  # the single process, same slots as 1 worker


async def test_without_postgresql_the_worker_figures_are_a_problem_not_a_crash(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import workers
    from bench.world import World

    def absent() -> object:
        raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")

    monkeypatch.setattr(workers, "running_cluster", absent)
    world = World()
    await world.start()
    try:
        run = workers.WorkersRun(jobs=4, latency_s=0.1)
        await workers.worker_processes(world, run, wait_s=5)
    finally:
        await world.stop()
    assert world.problems == ["throughput with 1, 2 and 4 worker processes not measured: FileNotFoundError: "
                              "PostgreSQL server binaries (initdb, pg_ctl) are not installed"]
    shown = workers.figures(run)
    assert shown["throughput_by_workers"] == {"1": None, "2": None, "4": None}
    assert [r.value for r in report._worker_rows(shown | {"baseline_throughput_by_workers_jobs_s": 5.0})] == \
        [None, None, None]
