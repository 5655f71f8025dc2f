"""The benchmark keeps working (a smoke run; its figures are only read from a real run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_loop_lag_benchmark_runs() -> None:
    proc = subprocess.run([sys.executable, "bench/loop_lag.py", "--jobs", "2"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "baseline/studio" in proc.stdout
    assert "loop lag p99 (ms)" in proc.stdout


def test_the_ack_latency_benchmark_runs() -> None:
    proc = subprocess.run([sys.executable, "bench/ack_latency.py", "--burst", "4"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "burst/idle" in proc.stdout
