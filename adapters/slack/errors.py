"""Bolt's global error handler: an unexpected failure in any listener becomes a short note to the member
who acted and one log line (with the job id when a job was made), never silence."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from adapters.slack.flow import Flow, dedupe_key, origin_of
from core.errors import StudioError

log = logging.getLogger(__name__)
SORRY = "Something went wrong on our side, sorry. Please try again in a moment."


def _who_where(body: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    event = body.get("event") or {}
    user = (body.get("user") or {}).get("id") or body.get("user_id") or event.get("user")
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id") or event.get("channel")
    team = (body.get("team") or {}).get("id") or body.get("team_id")
    return user, channel, team


def register(app: AsyncApp, flow: Flow) -> None:
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        user, channel, team = _who_where(body)
        key = (dedupe_key("trigger", str(body["trigger_id"])) if body.get("trigger_id")
               else dedupe_key("event", str(body.get("event_id"))) if body.get("event_id") else None)
        job = await flow.studio.job_for_key(key) if key else None
        what = body.get("command") or body.get("type") or (body.get("event") or {}).get("type") or "request"
        log.error("Slack %s failed (job %s): %s", what, job.id if job else "none", type(error).__name__,
                  exc_info=error)
        text = error.user_message if isinstance(error, StudioError) else SORRY
        try:
            await flow.tell(origin_of(team, channel or "", response_url=body.get("response_url")), user, text)
        except Exception:
            log.warning("could not tell the member about the failure", exc_info=True)

    app.error(on_error)
