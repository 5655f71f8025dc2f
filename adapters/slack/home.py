"""The App Home tab: a member's recent results and a short how-to, published when they open it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from adapters.slack.blocks import Block
from adapters.slack.flow import Flow
from adapters.slack.reply import PLATFORM
from adapters.slack.text import describe
from core.jobs.model import Job, JobState

log = logging.getLogger(__name__)

RECENT = 10
_SCAN = 200  # journal rows looked at per open: a member's last results, not the workspace's history
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


def home_view(jobs: list[Job]) -> dict[str, Any]:
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": "Studiobot"}},
                           {"type": "section", "text": {"type": "mrkdwn", "text": HOW_TO}},
                           {"type": "divider"},
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
        jobs = await self.flow.studio.recent(PLATFORM, limit=_SCAN)
        mine = [j for j in jobs if j.requester.user_id == user and j.origin.workspace in (team, None)]
        return list(reversed(mine))[:RECENT]  # newest first

    async def on_home_opened(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab") != "home":
            return
        user, team = str(event.get("user", "")), body.get("team_id")
        view = home_view(await self.recent_for(team, user))
        try:
            await self.flow.client(team).views_publish(user_id=user, view=view)
        except SlackApiError as err:
            log.info("views.publish failed: %s", err.response.get("error"))
