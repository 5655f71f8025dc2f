"""Many workspaces: Bolt's OAuth flow installs the app, each team gets its own token, uninstall forgets it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from adapters.slack.app import BOT_SCOPES, INSTALL_PATH, REDIRECT_PATH
from tests.adapters.slack.conftest import Rig, running
from tests.fakes.slack import APP_TOKEN
from tests.fakes.slack.oauth import CLIENT_ID, CLIENT_SECRET
from tests.waiting import until

pytestmark = pytest.mark.usefixtures("each_store")  # the embedded file, and PostgreSQL shared by front ends
SECOND = "T0SECOND"
OAUTH = {"slack_bot_token": None, "slack_client_id": CLIENT_ID, "slack_client_secret": SecretStr(CLIENT_SECRET)}


@asynccontextmanager
async def many_workspaces(tmp_path: Path, **overrides: Any) -> AsyncIterator[Rig]:
    async with running(tmp_path, **(OAUTH | overrides)) as rig:
        assert rig.adapter.oauth
        yield rig


async def install(slack: Rig, team: str = SECOND, *, back_to: Rig | None = None) -> tuple[int, str]:
    """A member opens the install link, approves in Slack, and Slack redirects back with a code (behind a
    load balancer, possibly to ``back_to``, another front end)."""
    base = slack.adapter.http_base
    async with slack.sender.http.get(f"{base}{INSTALL_PATH}") as res:
        assert res.status == 200
        page = await res.text()
        cookie = browser_cookie(res.headers.getall("Set-Cookie"))
    authorize = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert authorize is not None, page
    query = parse_qs(urlsplit(authorize.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [CLIENT_ID]
    assert set(query["scope"][0].split(",")) == set(BOT_SCOPES)
    code = slack.fake.grant(team)
    base = (back_to or slack).adapter.http_base
    async with slack.sender.http.get(f"{base}{REDIRECT_PATH}", params={"code": code, "state": query["state"][0]},
                                     headers={"Cookie": cookie}) as res:
        return res.status, await res.text()


def browser_cookie(set_cookies: list[str]) -> str:
    """What the browser sends back (aiohttp keeps ``Secure`` cookies off plain http, a browser on https would not)."""
    return "; ".join(c.split(";", 1)[0] for c in set_cookies)


async def test_install_then_commands_from_that_team_use_its_token_and_uninstall_forgets_it(tmp_path: Path) -> None:
    async with many_workspaces(tmp_path) as slack:
        status, page = await install(slack)
        assert status == 200 and "Thank you" in page
        [exchange] = slack.fake.calls_to("oauth.v2.access")
        assert exchange.args["code"].startswith(f"code-{SECOND}-")
        token = slack.fake.token_of(SECOND)
        assert token is not None
        stores = slack.adapter.stores
        assert stores is not None
        bot = await stores.installations.async_find_bot(enterprise_id=None, team_id=SECOND)
        assert bot is not None and bot.bot_token == token

        status, _, body = await slack.slash("/imagine", "a harbour at dawn", team=SECOND)
        assert (status, body) == (200, "")
        upload = await slack.fake.next_upload()
        [complete] = slack.fake.calls_to("files.completeUploadExternal")
        assert complete.token == token
        assert (await slack.delivered())[-1].origin.workspace == SECOND

        status, _, _ = await slack.sender.event(slack.event_body(
            {"type": "app_uninstalled", "event_ts": "1700000100.000001"}, team=SECOND))
        assert status == 200
        slack.fake.revoke(SECOND)

        async def forgotten() -> bool:  # events are acked before their listener runs
            return await stores.installations.async_find_bot(enterprise_id=None, team_id=SECOND) is None
        await until(forgotten, "the uninstall removed the bot token")
        assert await stores.installations.async_find_installation(enterprise_id=None, team_id=SECOND) is None
        await slack.slash("/imagine", "after uninstall", team=SECOND)
        [told] = await slack.fake.wait_for(lambda: slack.fake.responses)
        assert "reinstall" in told["text"].lower()
        assert len(await slack.jobs()) == 1 and slack.fake.completed_uploads() == [upload]

        assert token.encode() not in b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


async def test_an_install_link_works_once(tmp_path: Path) -> None:
    async with many_workspaces(tmp_path) as slack:
        base = slack.adapter.http_base
        async with slack.sender.http.get(f"{base}{INSTALL_PATH}") as res:
            state = re.search(r"state=([\w-]+)", await res.text())
            cookie = browser_cookie(res.headers.getall("Set-Cookie"))
        assert state is not None
        for expected in (200, 401):
            code = slack.fake.grant(SECOND)
            async with slack.sender.http.get(f"{base}{REDIRECT_PATH}", params={"code": code, "state": state.group(1)},
                                             headers={"Cookie": cookie}) as res:
                assert res.status == expected
        assert len(slack.fake.calls_to("oauth.v2.access")) == 1


async def test_an_expiring_token_is_rotated_before_use(tmp_path: Path) -> None:
    async with many_workspaces(tmp_path) as slack:
        slack.fake.rotation = True
        slack.fake.token_lifetime_s = 600  # inside the two hours before expiry in which Bolt refreshes
        await install(slack)
        first = slack.fake.token_of(SECOND)
        await slack.slash("/speak", "rotate me", team=SECOND)
        upload = await slack.fake.next_upload()
        assert upload.filename.endswith(".mp3") and upload.title.startswith("Kore · 0:0")
        refreshes = [c for c in slack.fake.calls_to("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"]
        assert refreshes
        current = slack.fake.token_of(SECOND)
        assert current != first
        assert slack.fake.calls_to("files.completeUploadExternal")[-1].token == current


async def test_single_workspace_mode_keeps_working_without_oauth_pages(slack: Rig) -> None:
    assert not slack.adapter.oauth
    async with slack.sender.http.get(f"{slack.adapter.http_base}{INSTALL_PATH}") as res:
        assert res.status in (404, 405)


async def test_many_workspaces_over_socket_mode_serve_the_install_pages_beside_the_socket(tmp_path: Path) -> None:
    async with many_workspaces(tmp_path, slack_app_token=SecretStr(APP_TOKEN)) as slack:
        assert slack.adapter.socket_mode and slack.adapter.http_base is not None
        status, _ = await install(slack)
        assert status == 200
        token = slack.fake.token_of(SECOND)
        ack = await slack.fake.socket.send("slash_commands", {
            "team_id": SECOND, "channel_id": "C0HARBOUR", "user_id": "UOTHER", "user_name": "other",
            "command": "/imagine", "text": "a harbour", "trigger_id": "trig.s2",
            "response_url": slack.fake.response_url()})
        await asyncio.wait_for(ack, 5)
        upload = await slack.fake.next_upload()
        assert upload.channel == "C0HARBOUR"
        assert {c.token for c in slack.fake.calls_to("files.completeUploadExternal")} == {token}
