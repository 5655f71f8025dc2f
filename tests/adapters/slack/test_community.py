"""Community rules on Slack: refusals name the limit with a Slack date token; errors reach the member."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.community.quotas import next_day
from tests.adapters.slack.conftest import ALICE, Rig, running


async def test_a_daily_quota_refusal_carries_a_date_token_and_admins_are_exempt(tmp_path: Path) -> None:
    async with running(tmp_path, user_requests_per_day=1) as slack:
        slack.fake.admins.add("UADMIN")
        await slack.slash("/speak", "one")
        await slack.fake.next_upload()
        await slack.slash("/speak", "two")
        note = await slack.fake.next_ephemeral()
        reset = int(next_day(time.time()))
        assert "used today's 1 requests" in note["text"]
        assert f"<!date^{reset}^{{date_short_pretty}} {{time}}|" in note["text"]
        await slack.slash("/speak", "admins may", user="UADMIN")
        await slack.fake.next_upload(2)


async def test_a_blocked_word_is_refused_without_echoing_the_list(slack: Rig) -> None:
    await slack.studio.community.update("slack", "T0TEAM", lambda s: s.__class__(blocklist=("cursed",)))
    await slack.slash("/imagine", "a CURSЕD castle")  # Cyrillic Е
    note = await slack.fake.next_ephemeral()
    assert "doesn't allow" in note["text"] and "cursed" not in note["text"].lower()
    assert await slack.jobs() == []


async def test_an_unexpected_error_reaches_the_member(slack: Rig, caplog: pytest.LogCaptureFixture) -> None:
    db = slack.studio.community.store.db  # type: ignore[attr-defined]
    await db.execute("ALTER TABLE usage RENAME TO usage_away")  # a fault in the database, not in our code
    await slack.slash("/speak", "hello")
    note = await slack.fake.next_ephemeral()
    assert note["user"] == ALICE and "Something went wrong on our side" in note["text"]
    assert any("Slack /speak failed" in r.getMessage() for r in caplog.records)
    await db.execute("ALTER TABLE usage_away RENAME TO usage")


def _state(**values: object) -> dict[str, object]:
    return {block: {block: value} for block, value in values.items()}


async def test_studio_opens_the_settings_modal_for_admins_only(slack: Rig) -> None:
    slack.fake.admins.add("UADMIN")
    status, _, body = await slack.slash("/studio")
    assert status == 200 and "Only workspace admins and owners" in body
    assert slack.fake.views == []
    await slack.slash("/studio", user="UADMIN")
    view = (await slack.opened_view())["view"]
    assert view["callback_id"] == "studio_settings"

    state = _state(commands={"selected_options": [{"value": "imagine"}, {"value": "edit"}]},
                   channels={"selected_conversations": ["CART"]}, voice={"selected_option": {"value": "Puck"}},
                   blocklist={"value": "cursed\nred fox"}, user_per_day={"value": "lots"})
    payload = {"type": "view_submission", "team": {"id": "T0TEAM"}, "user": {"id": "UADMIN"},
               "api_app_id": "A0FAKE", "view": view | {"state": {"values": state}}}
    status, _, body = await slack.sender.interactive(payload)
    assert status == 200 and "user_per_day" in body  # the field's error, the modal stays open
    state["user_per_day"] = {"user_per_day": {"value": "3"}}
    status, _, body = await slack.sender.interactive(payload | {"view": view | {"state": {"values": state}}})
    assert status == 200 and not body
    saved = await slack.studio.community.server("slack", "T0TEAM")
    assert [k for k in ("speak", "imagine", "edit") if saved.rules(k).enabled] == ["imagine", "edit"]
    assert saved.rules("imagine").channels == ("CART",) and saved.default_voice == "Puck"
    assert saved.blocklist == ("cursed", "red fox") and saved.limits.user_per_day == 3

    await slack.slash("/speak", "hello")
    assert "/speak is turned off" in (await slack.fake.next_ephemeral())["text"]
    await slack.slash("/imagine", "a fox")
    assert "isn't allowed in this channel. Try <#CART>" in (await slack.fake.next_ephemeral(2))["text"]
    stranger = payload | {"user": {"id": "UALICE"}}
    status, _, body = await slack.sender.interactive(stranger)
    assert "Only workspace admins" in body
