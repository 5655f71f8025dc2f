"""Nothing capability-bearing reaches the data directory: no token, secret or response_url, in either mode."""

from __future__ import annotations

from pathlib import Path

from tests.adapters.slack.conftest import Rig, png, running
from tests.adapters.slack.test_workspaces import OAUTH, SECOND, install
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET
from tests.fakes.slack.oauth import CLIENT_SECRET


def stored(data_dir: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


async def exercise(slack: Rig) -> None:
    await slack.slash("/speak", "hello")
    await slack.slash("/imagine", "a lighthouse")
    photo = await slack.share_image(png())
    await slack.mention("make it night", thread_ts=photo["ts"])
    await slack.fake.next_upload(3)
    await slack.delivered()


async def test_single_workspace_keeps_no_token_or_response_url_on_disk(tmp_path: Path) -> None:
    async with running(tmp_path) as slack:
        await exercise(slack)
    data = stored(tmp_path)
    assert b"lighthouse" in data  # the journal is there, and readable
    for secret in (BOT_TOKEN, SIGNING_SECRET):
        assert secret.encode() not in data
    assert b"/response/" not in data and b"response_url" not in data


async def test_many_workspaces_keep_installations_but_no_readable_token(tmp_path: Path) -> None:
    async with running(tmp_path, **OAUTH) as slack:
        await install(slack)
        token = slack.fake.token_of(SECOND)
        assert token is not None
        await slack.slash("/imagine", "a harbour", team=SECOND)
        await slack.fake.next_upload()
        await slack.delivered()
    data = stored(tmp_path)
    for secret in (token, CLIENT_SECRET, SIGNING_SECRET, "xoxb-"):
        assert secret.encode() not in data
    assert b"/response/" not in data and b"response_url" not in data
