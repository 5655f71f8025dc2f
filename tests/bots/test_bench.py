"""``studiobot bench --quick`` keeps working: every figure is produced beside its baseline (timings are not judged)."""

from __future__ import annotations

import asyncio
import io
import json
import os
from pathlib import Path

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
    assert figures["throughput_by_workers"] is None or len(figures["throughput_by_workers"]) == 3

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(report.table(figures))
    shown = console.export_text()
    assert "baseline" in shown and "ratio" in shown
    assert "overhead ratio imagine" in shown and "REST calls per job" in shown
