"""The App Home tab: a short how-to, today's usage against the member's limits, and their recent results."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from adapters.slack.blocks import Block
from adapters.slack.flow import Flow
from adapters.slack.reply import PLATFORM
from adapters.slack.text import describe
from core.community.service import Allowance
from core.jobs.model import Job, JobState
from core.requests import Requester

log = logging.getLogger(__name__)

RECENT = 10
_ICON = {"speak": ":speaking_head_in_silhouette:", "imagine": ":frame_with_picture:", "edit": ":art:"}
_STATE = {JobState.QUEUED: "waiting", JobState.RUNNING: "in progress", JobState.FAILED: "failed",
          JobState.CANCELLED: "cancelled"}
HOW_TO = (
    "*How to use Studiobot*\n"
    "• `/speak Good morning, everyone!` — a voice clip (`--voice Puck`, `--style \"warm\"`, "
    "`--format ogg|wav|mp3`)\n"
    "• `/imagine a lighthouse at dusk --aspect 16:9` — an image\n"
    "• Edit an image: mention me in its thread with what to change, use *⋯ → Edit image* on a message with a "
    "picture, or *Edit* under a result (an optional mask keeps the rest untouched)\n"
    "• *⋯ → Imagine from this image* draws something new with a message's picture as the reference\n"
    "• Everything works here in our DM too. `/speak help` and `/imagine help` show every option."
)


def _entry(job: Job) -> Block:
    when = int(job.created_at)
    date = f"<!date^{when}^{{date_short_pretty}} {{time}}|{when}>"
    where = f" in <#{job.origin.channel}>" if job.origin.channel and job.origin.channel[:1] in "CG" else ""
    state = "" if job.state is JobState.DONE else f" — _{_STATE.get(job.state, job.state.value)}_"
    text = f"{_ICON.get(job.kind, '')} {describe(job.request)}\n{date}{where}{state}"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def usage_line(allowance: Allowance) -> str:
    """Today's use against the member's limits, in one line."""
    left = "no daily limit" if allowance.requests_left is None else f"{allowance.requests_left} left today"
    cost = "" if allowance.cost_left is None else f", ${allowance.cost_left:.2f} of budget left"
    minute = "" if allowance.per_minute is None else f" · up to {allowance.per_minute} a minute"
    reset = f"<!date^{int(allowance.resets_at)}^{{time}}|midnight UTC>"
    return (f":bar_chart: *Today:* {allowance.requests} request{'s' if allowance.requests != 1 else ''} "
            f"({left}{cost}){minute} · resets at {reset}")


def home_view(jobs: list[Job], allowance: Allowance | None = None) -> dict[str, Any]:
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": "Studiobot"}},
                           {"type": "section", "text": {"type": "mrkdwn", "text": HOW_TO}}]
    if allowance is not None:
        blocks.append({"type": "section", "block_id": "sb_usage",
                       "text": {"type": "mrkdwn", "text": usage_line(allowance)}})
    blocks += [{"type": "divider"},
               {"type": "header", "text": {"type": "plain_text", "text": "Your recent results"}}]
    if jobs:
        blocks += [_entry(job) for job in jobs]
    else:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "Nothing yet: try `/imagine`."}]})
    return {"type": "home", "blocks": blocks}


class Home:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def register(self, app: AsyncApp) -> None:
        app.event("app_home_opened")(self.on_home_opened)

    async def recent_for(self, team: str | None, user: str) -> list[Job]:
        page = await self.flow.studio.members.history(PLATFORM, user, per_page=RECENT, workspace=team)
        return list(page.jobs)  # newest first

    async def on_home_opened(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab") != "home":
            return
        user, team = str(event.get("user", "")), body.get("team_id")
        studio = self.flow.studio
        admin = await self.flow.is_admin(team, user)  # admins are exempt: no limits to show
        allowance = await studio.community.allowance(Requester(PLATFORM, user, admin=admin), team)
        view = home_view(await self.recent_for(team, user), allowance)
        try:
            await self.flow.client(team).views_publish(user_id=user, view=view)
        except SlackApiError as err:
            log.info("views.publish failed: %s", err.response.get("error"))
