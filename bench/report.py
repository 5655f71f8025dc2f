"""The figures as a table (figure, value, baseline, ratio, target), and the docs page with its plot."""

from __future__ import annotations

import math
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from bench.load import KINDS


@dataclass(frozen=True)
class Row:
    figure: str
    value: float | None
    baseline: float | None
    unit: str
    target: str = ""
    met: bool | None = None  # None: no target, or not measurable yet

    @property
    def ratio(self) -> float | None:
        if self.value is None or self.baseline is None or not self.baseline or math.isnan(self.baseline):
            return None
        return self.value / self.baseline


def _fmt(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:.{digits}f} {unit}".strip()


def _ok(value: float | None, limit: float | None, *, strict: bool = False, at_least: bool = False) -> bool | None:
    """Whether a figure meets its target; None when either side was not measured."""
    if value is None or limit is None or math.isnan(value) or math.isnan(limit):
        return None
    if at_least:
        return value >= limit
    return value < limit if strict else value <= limit


def _times(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def rows(f: dict[str, Any]) -> list[Row]:
    out: list[Row] = []
    for n, b in f["bursts"].items():
        for plat in ("discord", "slack"):
            mine, bare = b[f"{plat}_ack_ms"], b[f"bare_{plat}_ack_ms"]
            top = int(n) == f["ack_concurrency"]
            for stat in ("p50", "p99", "max"):
                target = "≤ 1.2x bare" if (stat == "p99" and top) else ""
                met = _ok(mine[stat], _times(bare[stat], 1.2)) if target else None
                out.append(Row(f"{plat.capitalize()} ack {stat}, {n} at once", mine[stat], bare[stat], "ms",
                               target, met))
    for n, b in f["bursts"].items():
        for kind in KINDS:
            e2e, plain = b["discord_e2e_s"][kind], b["provider_s"][kind]
            target = "≤ 1.05x latency" if int(n) == f["overhead_concurrency"] else ""
            out.append(Row(f"Discord {kind} end-to-end p50, {n} at once", e2e["p50"], plain["p50"], "s", target,
                           _ok(e2e["p50"], 1.05 * f["provider_latency_s"]) if target else None))
        for kind in ("speak", "imagine"):
            e2e, plain = b["slack_e2e_s"][kind], b["provider_s"][kind]
            out.append(Row(f"Slack {kind} end-to-end p50, {n} at once", e2e["p50"], plain["p50"], "s"))
    lat = f["provider_latency_s"]
    for kind in KINDS:
        ratio = f[f"overhead_ratio_{kind}"]
        out.append(Row(f"overhead ratio {kind} (end-to-end / {lat:g} s), {f['overhead_concurrency']} users", ratio,
                       f[f"baseline_overhead_ratio_{kind}"], "x", "≤ 1.05", _ok(ratio, 1.05)))
    out += [
        Row(f"REST calls per job, {f['rest_calls_jobs']} behind 2 workers", f["rest_calls_per_job"],
            f["baseline_rest_calls_per_job"], "", "≤ 5", _ok(f["rest_calls_per_job"], 5)),
        Row(f"loop lag max, {f['loop_lag_jobs']['audio']} audio + {f['loop_lag_jobs']['image']} image jobs",
            f["loop_lag_max_ms"], f["baseline_loop_lag_max_ms"], "ms", "< 20 ms",
            _ok(f["loop_lag_max_ms"], 20, strict=True)),
        Row("loop lag p99, same run", f["loop_lag_p99_ms"], f["baseline_loop_lag_p99_ms"], "ms"),
        Row(f"peak RSS, {f['queued_accepted']} jobs queued", f["peak_rss_mb_1000_queued"], f["baseline_rss_mb_idle"],
            "MB", "< 300 MB", _ok(f["peak_rss_mb_1000_queued"], 300, strict=True)),
        Row("RSS per queued job", f["rss_kb_per_queued_job"], None, "KB"),
        Row(f"RSS per in-flight job, {f['ack_concurrency']} at once", f["rss_kb_per_inflight_job"], None, "KB"),
        Row(f"audio encode, {f['encode_clip_s']:g} s 24 kHz → Ogg Opus (x real time)", f["encode_realtime_factor"],
            f["baseline_encode_realtime_factor"], "x", "≥ 200x", _ok(f["encode_realtime_factor"], 200, at_least=True)),
        Row(f"throughput at zero latency, {f['throughput_jobs']} jobs, 1 process", f["throughput_jobs_s"],
            f["baseline_throughput_jobs_s"], "jobs/s"),
        *_worker_rows(f),
        Row("time to first audio (streamed speech), vs the emulator's first chunk", f["time_to_first_audio_s"],
            f["first_audio"].get("first_chunk_latency_s"), "s"),
        Row("time to first audio, vs waiting for the whole clip", f["time_to_first_audio_s"],
            f["first_audio"].get("whole_clip_s"), "s"),
    ]
    return out


def _worker_rows(f: dict[str, Any]) -> list[Row]:
    """1 worker process beside the single process on SQLite; 2 and 4 beside 1 worker (the scaling target)."""
    by = f["throughput_by_workers"]
    at = (f"{f['throughput_by_workers_jobs']} jobs at {f['throughput_by_workers_latency_s']:g} s, "
          f"{f['throughput_by_workers_concurrency']} at a time each")
    one = by["1"]
    return [
        Row(f"throughput, 1 worker process on PostgreSQL, {at} (baseline: 1 process on SQLite)", one,
            f["baseline_throughput_by_workers_jobs_s"], "jobs/s"),
        Row("throughput, 2 worker processes (baseline: 1 worker)", by["2"], one, "jobs/s", "≥ 1.8x 1 worker",
            _ok(by["2"], _times(one, 1.8), at_least=True)),
        Row("throughput, 4 worker processes (baseline: 1 worker)", by["4"], one, "jobs/s"),
    ]


def table(f: dict[str, Any]) -> Table:
    kind = "quick" if f["quick"] else "full"
    t = Table("figure", "value", "baseline", "ratio", "target", title=f"studiobot bench ({kind}, {f['seconds']:.0f} s)")
    for r in rows(f):
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}x"
        verdict = "" if r.met is None else (" ✓" if r.met else " ✗")
        t.add_row(r.figure, _fmt(r.value, r.unit), _fmt(r.baseline, r.unit), ratio, r.target + verdict)
    return t


def markdown_table(f: dict[str, Any]) -> str:
    lines = ["| figure | value | baseline | ratio | target |", "|---|---:|---:|---:|---|"]
    for r in rows(f):
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}x"
        verdict = "" if r.met is None else (" ✓" if r.met else " ✗ missed")
        lines.append(f"| {r.figure} | {_fmt(r.value, r.unit)} | {_fmt(r.baseline, r.unit)} | {ratio} | "
                     f"{r.target}{verdict} |")
    return "\n".join(lines)


def machine(load: list[float] | None = None) -> str:
    """nproc, CPU model and memory, as the docs page names the machine, and its load during the run."""
    model = "unknown CPU"
    memory = "unknown memory"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    except OSError:
        pass
    busy = f"; 1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at the end" if load else ""
    return (f"{os.cpu_count()} CPUs ({model}), {memory}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}{busy}")


def plot(f: dict[str, Any], path: Path) -> None:
    """Ack and end-to-end latency against concurrency, each beside its floor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = sorted(int(n) for n in f["bursts"])
    b = [f["bursts"][str(n)] for n in levels]
    fig, (ack, e2e) = plt.subplots(1, 2, figsize=(11, 4.2))
    for plat, colour in (("discord", "tab:blue"), ("slack", "tab:green")):
        ack.plot(levels, [x[f"{plat}_ack_ms"]["p99"] for x in b], "o-", color=colour, label=f"{plat} p99")
        ack.plot(levels, [x[f"bare_{plat}_ack_ms"]["p99"] for x in b], "o--", color=colour, alpha=0.6,
                 label=f"bare {plat} p99")
    ack.set(title="Ack latency (p99)", xlabel="concurrent commands", ylabel="ms")
    for kind, colour in zip(KINDS, ("tab:orange", "tab:purple", "tab:red"), strict=True):
        e2e.plot(levels, [x["discord_e2e_s"][kind]["p50"] for x in b], "o-", color=colour, label=f"discord {kind} p50")
        e2e.plot(levels, [x["provider_s"][kind]["p50"] for x in b], "o--", color=colour, alpha=0.6,
                 label=f"plain client {kind} p50")
    e2e.axhline(f["provider_latency_s"], color="grey", lw=1, ls=":", label="emulated latency")
    e2e.set(title="End-to-end latency (p50)", xlabel="concurrent users", ylabel="s")
    for ax in (ack, e2e):
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(levels, [str(n) for n in levels])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False,
                             cwd=Path(__file__).resolve().parents[1])
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"
