"""``/studio``: a workspace's rules in a modal, for workspace admins and owners only.

Channels apply to every command (Slack user groups are not used yet); blocked words, defaults and
limits as in Discord's ``/studio settings``. Saved on submit and in force at once.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError

from adapters.slack.flow import Flow
from adapters.slack.reply import PLATFORM
from core.community.model import KINDS, Limits, ServerSettings
from core.requests import ASPECT_SIZES
from core.voices import VOICES

log = logging.getLogger(__name__)
CALLBACK = "studio_settings"
NOT_ADMIN = "Only workspace admins and owners can change Studiobot's settings."
LIMITS = (("user_per_minute", "Requests per member per minute"), ("user_per_day", "Requests per member per day"),
          ("server_per_day", "Requests per workspace per day"), ("user_cost_per_day", "USD per member per day"),
          ("server_cost_per_day", "USD per workspace per day"))
Block = dict[str, Any]


def _text(value: str) -> dict[str, str]:
    return {"type": "plain_text", "text": value}


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _text(label), "value": value}


def _input(block_id: str, label: str, element: dict[str, Any], hint: str | None = None) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "optional": True, "label": _text(label),
                    "element": {"action_id": block_id, **element}}
    if hint:
        block["hint"] = _text(hint)
    return block


def settings_view(team: str, s: ServerSettings) -> dict[str, Any]:
    commands = [_option(f"/{k}", k) for k in KINDS]
    on = [o for o in commands if s.rules(o["value"]).enabled]
    channels = sorted({c for k in KINDS for c in s.rules(k).channels})
    voice: dict[str, Any] = {"type": "static_select",
                             "options": [_option(f"{v.name} ({v.character})", v.name) for v in VOICES]}
    if s.default_voice:
        voice["initial_option"] = _option(next(f"{v.name} ({v.character})" for v in VOICES
                                               if v.name == s.default_voice), s.default_voice)
    aspect: dict[str, Any] = {"type": "static_select", "options": [_option(a, a) for a in ASPECT_SIZES]}
    if s.default_aspect:
        aspect["initial_option"] = _option(s.default_aspect, s.default_aspect)
    checks: dict[str, Any] = {"type": "checkboxes", "options": commands}
    if on:
        checks["initial_options"] = on
    blocks: list[Block] = [
        _input("commands", "Commands that are on", checks),
        _input("channels", "Allowed channels (none = everywhere)",
               {"type": "multi_conversations_select", "initial_conversations": channels,
                "filter": {"include": ["public", "private"], "exclude_bot_users": True}}),
        _input("voice", "Default voice for /speak", voice),
        _input("aspect", "Default aspect for /imagine", aspect),
        _input("blocklist", "Blocked words (one word or phrase per line)",
               {"type": "plain_text_input", "multiline": True, "initial_value": "\n".join(s.blocklist)},
               "Matched as whole words, in any case and with look-alike letters. Members never see this list."),
    ]
    for name, label in LIMITS:
        value = getattr(s.limits, name)
        blocks.append(_input(name, label, {"type": "plain_text_input",
                                           "initial_value": "" if value is None else str(value)},
                             "Blank: the bot's default. 0: no limit."))
    return {"type": "modal", "callback_id": CALLBACK, "private_metadata": team, "title": _text("Studiobot settings"),
            "submit": _text("Save"), "close": _text("Cancel"), "blocks": blocks}


def _value(state: dict[str, Any], block: str) -> Any:
    return (state.get(block) or {}).get(block) or {}


def parse(state: dict[str, Any], s: ServerSettings) -> tuple[ServerSettings, dict[str, str]]:
    """The submitted form as settings, or the errors per block."""
    errors: dict[str, str] = {}
    on = {o["value"] for o in _value(state, "commands").get("selected_options") or []}
    channels = tuple(_value(state, "channels").get("selected_conversations") or [])
    for kind in KINDS:
        s = s.with_rules(kind, enabled=kind in on, channels=channels)
    voice = (_value(state, "voice").get("selected_option") or {}).get("value")
    aspect = (_value(state, "aspect").get("selected_option") or {}).get("value")
    words = str(_value(state, "blocklist").get("value") or "")
    limits: dict[str, float | int | None] = {}
    for name, _ in LIMITS:
        raw = str(_value(state, name).get("value") or "").strip().lstrip("$")
        try:
            number = None if not raw else float(raw) if "cost" in name else int(raw)
        except ValueError:
            errors[name] = "A number, please (or leave it blank)."
            continue
        if number is not None and number < 0:
            errors[name] = "It can't be negative."
        limits[name] = number
    terms = tuple(dict.fromkeys(t.strip() for t in words.splitlines() if t.strip()))
    new = dataclasses.replace(s, default_voice=voice, default_aspect=aspect, blocklist=terms,
                              limits=dataclasses.replace(Limits(server_per_minute=s.limits.server_per_minute),
                                                         **limits))  # type: ignore[arg-type]
    return new, errors


class SettingsModal:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def register(self, app: AsyncApp) -> None:
        app.command("/studio")(self.on_command)
        app.view(CALLBACK)(self.on_submit)

    async def on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        team, user = command.get("team_id"), str(command.get("user_id", ""))
        if not await self.flow.is_admin(team, user):
            await ack(NOT_ADMIN)
            return
        await ack()
        s = await self.flow.studio.community.server(PLATFORM, team)
        try:
            await self.flow.client(team).views_open(trigger_id=command.get("trigger_id"),
                                                    view=settings_view(str(team or ""), s))
        except SlackApiError as err:
            log.info("views.open failed: %s", err.response.get("error"))

    async def on_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        team = str(view.get("private_metadata") or (body.get("team") or {}).get("id") or "")
        user = str((body.get("user") or {}).get("id", ""))
        if not team or not await self.flow.is_admin(team, user):
            await ack(response_action="errors", errors={"commands": NOT_ADMIN})
            return
        community = self.flow.studio.community
        new, errors = parse((view.get("state") or {}).get("values") or {}, await community.server(PLATFORM, team))
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        await community.update(PLATFORM, team, lambda _old: new)
