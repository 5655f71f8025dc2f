"""What ``studiobot bench`` runs: measure, then print the table (or JSON) and optionally rewrite the docs page."""

from __future__ import annotations

import asyncio
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import report
from bench.run import FULL, QUICK, measure

DOCS = Path(__file__).resolve().parents[1] / "docs"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def _json_safe(value: Any) -> Any:
    """NaN (a figure with no samples) becomes null, so the output is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def write_docs(figures: dict[str, Any], command: str, docs: Path = DOCS) -> Path:
    """Put the run's table, command, machine and plot between the markers of docs/performance.md."""
    docs.mkdir(parents=True, exist_ok=True)
    report.plot(figures, docs / "performance.png")
    block = "\n".join([
        BEGIN,
        f"Command: `{command}` (commit {report.commit()}, {figures['seconds']:.0f} s).",
        "",
        f"Machine: {report.machine(figures.get('load_average'))}.",
        "",
        report.markdown_table(figures),
        "",
        *[f"- Problem seen in this run: {p}" for p in figures["problems"]],
        "",
        "![Ack and end-to-end latency against concurrency](performance.png)",
        END,
    ])
    page = docs / "performance.md"
    text = page.read_text() if page.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.DOTALL)
    page.write_text(text)
    return page


def main(*, quick: bool, as_json: bool, docs: bool) -> None:
    err = Console(stderr=True)
    figures = asyncio.run(measure(QUICK if quick else FULL, lambda line: err.print(line, highlight=False)))
    figures = _json_safe(figures)
    if as_json:
        print(json.dumps(figures))
    else:
        out = Console(width=160)
        out.print(report.table(figures))
        for problem in figures["problems"]:
            out.print(f"[yellow]problem:[/] {problem}", highlight=False)
    if docs:
        command = "studiobot bench" + (" --quick" if quick else "") + " --docs"
        err.print(f"wrote {write_docs(figures, command)}", highlight=False)
    sys.stdout.flush()
