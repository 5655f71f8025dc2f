"""Usage and history in words: the same lines for Discord, Slack's App Home, the playground and the CLI."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from core.community.service import Allowance
from core.community.store import UsageLine
from core.creative import prompt_of
from core.jobs.model import Job
from core.requests import SpeakRequest
from core.text import excerpt

EMOJI = {"speak": "🗣️", "imagine": "🎨", "edit": "🖌️", "pick": "🔎", "vary": "🔀", "upscale": "⬆️", "blend": "🧪"}
STATE = {"queued": "waiting", "running": "working", "done": "done", "failed": "failed", "cancelled": "cancelled"}


def money(usd: float) -> str:
    return f"${usd:.2f}" if usd >= 0.01 or usd == 0 else f"${usd:.4f}"


def entry(job: Job, *, limit: int = 80) -> str:
    """One history line: what was asked (inert, short) and how it ended."""
    words = job.request.text if isinstance(job.request, SpeakRequest) else prompt_of(job.request)
    said = f" “{excerpt(words, limit)}”" if words.strip() else ""
    return f"{EMOJI.get(job.kind, '•')} {job.kind}{said} · {STATE.get(job.state.value, job.state.value)}"


def allowance(left: Allowance, when: Callable[[float], str]) -> str:
    """A member's own day: used, left, and when it resets (``when`` renders the time per platform)."""
    parts = [f"Today you've made {left.requests} request{'s' if left.requests != 1 else ''}"
             f" (about {money(left.cost_usd)})."]
    if left.requests_left is not None:
        parts.append(f"{left.requests_left} left today.")
    if left.cost_left is not None:
        parts.append(f"{money(left.cost_left)} of your daily budget left.")
    if left.per_minute is not None:
        parts.append(f"Up to {left.per_minute} a minute.")
    if left.requests_left is None and left.cost_left is None:
        parts.append("No daily limit applies to you.")
    else:
        parts.append(f"Resets {when(left.resets_at)}.")
    return " ".join(parts)


def table(lines: Sequence[UsageLine], by: Sequence[str], *, name: Callable[[str, str], str] | None = None,
          top: int | None = None) -> list[tuple[str, ...]]:
    """Rows ``(key…, requests, generations, tokens in, tokens out, cost)``, dearest first, plus a total."""
    named = name or (lambda _column, value: value)
    ordered = sorted(lines, key=lambda line: (-line.cost_usd, -line.requests))
    shown = ordered[:top] if top else ordered
    rows = [(*(named(k, line.key.get(k, "")) for k in by), str(line.requests), str(line.units),
             str(line.input_tokens), str(line.output_tokens), money(line.cost_usd)) for line in shown]
    if len(ordered) > len(shown):
        rest = ordered[len(shown):]
        more = ([f"{len(rest)} more"] + [""] * (len(by) - 1)) if by else []
        rows.append((*more, str(sum(r.requests for r in rest)),
                     str(sum(r.units for r in rest)), str(sum(r.input_tokens for r in rest)),
                     str(sum(r.output_tokens for r in rest)), money(sum(r.cost_usd for r in rest))))
    label = (["total"] + [""] * (len(by) - 1)) if by else []
    rows.append((*label, str(sum(r.requests for r in lines)),
                 str(sum(r.units for r in lines)), str(sum(r.input_tokens for r in lines)),
                 str(sum(r.output_tokens for r in lines)), money(sum(r.cost_usd for r in lines))))
    return rows


HEADER = ("requests", "generations", "tokens in", "tokens out", "est. cost")
