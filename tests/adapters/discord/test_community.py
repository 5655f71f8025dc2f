"""Running a community on Discord: admins set the rules in /studio settings, members meet them."""

from __future__ import annotations

import time
from pathlib import Path

from core.community.quotas import next_day
from tests.adapters.discord.conftest import Running, make_settings, running
from tests.fakes.discord import FakeDiscord


async def _panel(fake: FakeDiscord, **options: str) -> str:
    it = await fake.subcommand("studio", "settings", user=fake.mod, **options)
    await fake.ephemeral(it)
    assert it.original_id is not None
    return it.original_id


async def _changed(fake: FakeDiscord, panel: str, before: str) -> str:
    content = fake.message(panel)
    return await fake.state.wait_for(lambda: content["content"] != before and content["content"])


async def test_a_member_cannot_open_the_settings(fake: FakeDiscord, bot: Running) -> None:
    it = await fake.subcommand("studio", "settings")
    assert "Manage Server" in await fake.ephemeral(it)


async def test_an_admin_limits_imagine_to_a_channel_and_a_role(fake: FakeDiscord, bot: Running) -> None:
    s = fake.state
    panel = await _panel(fake, command="imagine")
    before = fake.message(panel)["content"]
    await fake.select(panel, "Channels for /imagine", [s.art_channel_id], user=fake.mod)
    shown = await _changed(fake, panel, before)
    assert f"/imagine: on · channels: <#{s.art_channel_id}>" in shown

    refused = await fake.slash("imagine", prompt="a fox")
    assert f"isn't allowed in this channel. Try <#{s.art_channel_id}>" in await fake.ephemeral(refused)
    assert "a fox" in (await fake.result(await fake.slash("imagine", prompt="a fox", channel=s.art_channel_id)))[
        "content"]

    await fake.select(panel, "Roles for /imagine", [s.artists_role_id], user=fake.mod)
    await fake.state.wait_for(lambda: f"<@&{s.artists_role_id}>" in fake.message(panel)["content"])
    no_role = await fake.slash("imagine", prompt="a fox", channel=s.art_channel_id)
    assert f"only for members with the role <@&{s.artists_role_id}>" in await fake.ephemeral(no_role)
    s.member_roles[fake.alice["id"]] = [s.artists_role_id]
    await fake.result(await fake.slash("imagine", prompt="a fox", channel=s.art_channel_id))
    speak = await fake.result(await fake.slash("speak", text="other commands are unaffected"))
    assert speak["attachments"]


async def test_commands_off_and_blocked_words_never_echoed(fake: FakeDiscord, bot: Running) -> None:
    panel = await _panel(fake)
    before = fake.message(panel)["content"]
    await fake.select(panel, "Commands that are on", ["imagine", "edit"], user=fake.mod)
    assert "/speak: **off**" in await _changed(fake, panel, before)
    assert "/speak is turned off" in await fake.ephemeral(await fake.slash("speak", text="hello"))

    opened = await fake.click(panel, "Blocked words…", user=fake.mod)
    await fake.submit_modal(opened, "cursed\nred fox", user=fake.mod)
    await fake.state.wait_for(lambda: "Blocked words: 2" in fake.message(panel)["content"])
    for prompt in ("a cursеd castle", "a RED  fox", "a ｃｕｒｓｅｄ castle"):  # Cyrillic е, spacing, full width
        text = await fake.ephemeral(await fake.slash("imagine", prompt=prompt))
        assert "doesn't allow" in text
        assert "cursed" not in text.lower() and "fox" not in text.lower()
    assert (await fake.result(await fake.slash("imagine", prompt="a red box")))["attachments"]


async def test_a_daily_quota_names_the_reset_time_and_holds_after_a_restart(tmp_path: Path,
                                                                            fake: FakeDiscord) -> None:
    settings = make_settings(tmp_path, fake, user_requests_per_day=1)
    reset = f"<t:{int(next_day(time.time()))}:R>"
    async with running(settings):
        await fake.result(await fake.slash("speak", text="one"))
        refused = await fake.ephemeral(await fake.slash("speak", text="two"))
        assert "used today's 1 requests" in refused and reset in refused
        admin = await fake.result(await fake.slash("speak", text="admins are exempt", user=fake.mod))
        assert admin["attachments"]
    async with running(settings):
        assert reset in await fake.ephemeral(await fake.slash("speak", text="three"))


async def test_usage_shows_a_member_their_day_and_an_admin_the_server(tmp_path: Path, fake: FakeDiscord) -> None:
    async with running(make_settings(tmp_path, fake, user_requests_per_day=5)) as bot:
        for text in ("one", "two"):
            await fake.result(await fake.slash("speak", text=text))
        await fake.result(await fake.slash("imagine", prompt="a fox", user=fake.bob))
        mine = await fake.ephemeral(await fake.slash("usage"))
        assert "Today you've made 2 requests" in mine and "3 left today" in mine
        server = await fake.ephemeral(await fake.slash("usage", user=fake.mod))
        jobs = await bot.studio.recent("discord")
    assert f"<@{fake.alice['id']}> · 2 requests" in server and f"<@{fake.bob['id']}> · 1 requests" in server
    assert "speak · 2 requests" in server and "imagine · 1 requests" in server
    assert f"total · {len(jobs)} requests" in server


async def test_history_pages_with_links_and_retry(fake: FakeDiscord, bot: Running) -> None:
    posted = [await fake.result(await fake.slash("speak", text=f"line {n}")) for n in range(7)]
    it = await fake.slash("history")
    first = await fake.ephemeral(it)
    assert "page 1 of 2, 7 in all" in first and "line 6" in first and "line 1" not in first
    assert f"/channels/{fake.state.guild_id}/{fake.state.channel_id}/{posted[-1]['id']})" in first
    assert it.original_id is not None
    assert {f"Retry {n}" for n in range(1, 6)} | {"Older ▶"} == set(fake.buttons(it.original_id))
    await fake.click(it.original_id, "Older ▶")
    page = fake.message(it.original_id)
    second = await fake.state.wait_for(lambda: "page 2 of 2" in page["content"] and page["content"])
    assert "line 0" in second and "line 1" in second and "line 2" not in second
    assert set(fake.buttons(it.original_id)) == {"Retry 1", "Retry 2", "◀ Newer"}
    await fake.result(await fake.click(it.original_id, "Retry 2"))
    newest = (await bot.studio.recent("discord"))[-1]
    assert newest.request.text == "line 0"  # type: ignore[union-attr]


def _files(root: Path) -> set[Path]:
    return {p for p in (root / "results").rglob("*")} | {p for p in (root / "blobs").rglob("*") if p.is_file()}


async def test_delete_and_forget_me_leave_no_file_of_the_member(tmp_path: Path, fake: FakeDiscord) -> None:
    async with running(make_settings(tmp_path, fake)):
        kept = await fake.result(await fake.slash("imagine", prompt="bob's fox", user=fake.bob))
        bobs = _files(tmp_path)
        ref = fake.upload("cat.png", fake.file(kept["attachments"][0]), "image/png")
        first = await fake.result(await fake.slash("imagine", prompt="a fox", image=ref))
        await fake.result(await fake.slash("speak", text="hello"))
        assert len(_files(tmp_path)) > len(bobs)

        await fake.click(first["id"], "Delete")
        await fake.state.wait_for(lambda: fake.is_deleted(first["id"]))
        asked = await fake.slash("forget-me")
        assert "Sure?" in await fake.ephemeral(asked)
        assert asked.original_id is not None
        done = await fake.click(asked.original_id, "Delete everything")
        answer = fake.message(asked.original_id)
        await fake.state.wait_for(lambda: "Done: 1 result" in answer["content"])
        assert done.callbacks
        await fake.state.wait_for(lambda: _files(tmp_path) == bobs)  # Delete's clean-up may still run
        history = await fake.ephemeral(await fake.slash("history"))
        assert "no results yet" in history


async def test_an_admin_sets_limits_in_the_panel(fake: FakeDiscord, bot: Running) -> None:
    panel = await _panel(fake)
    await fake.submit_modal(await fake.click(panel, "Limits…", user=fake.mod), "", "1", "", "", "", user=fake.mod)
    await fake.state.wait_for(lambda: "user per day 1" in fake.message(panel)["content"])
    await fake.result(await fake.slash("speak", text="one"))
    assert "used today's 1 requests" in await fake.ephemeral(await fake.slash("speak", text="two"))
    bad = await fake.submit_modal(await fake.click(panel, "Limits…", user=fake.mod), "lots", user=fake.mod)
    assert "needs a number" in await fake.ephemeral(bad)
