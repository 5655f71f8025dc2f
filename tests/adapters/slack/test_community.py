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
    await slack.studio.community.store.close()
    await slack.slash("/speak", "hello")
    note = await slack.fake.next_ephemeral()
    assert note["user"] == ALICE and "Something went wrong on our side" in note["text"]
    assert any("Slack /speak failed" in r.getMessage() for r in caplog.records)
    await slack.studio.community.store.open()
