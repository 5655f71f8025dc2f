"""Running it for real: `studiobot run` with DISCORD_TOKEN, sharding, `studiobot discord sync|invite`."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.adapters.discord.conftest import image_size, make_settings, running
from tests.fakes.discord import FakeDiscord
from tests.processes import STUDIOBOT, clean_env

USED = (1 << 10) | (1 << 11) | (1 << 38) | (1 << 15) | (1 << 16) | (1 << 46) | (1 << 20) | (1 << 21)


def env_for(fake: FakeDiscord, data_dir: Path, token: str = "test-token") -> dict[str, str]:
    return clean_env(DISCORD_TOKEN=token, STUDIOBOT_DISCORD_API_BASE=fake.api_base,
                     STUDIOBOT_DISCORD_GATEWAY_URL=fake.gateway_url, STUDIOBOT_MEDIA_HOSTS="127.0.0.1",
                     STUDIOBOT_DATA_DIR=str(data_dir))


async def studiobot(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_studiobot_run_serves_discord(tmp_path: Path, fake: FakeDiscord) -> None:
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, "run", env=env_for(fake, tmp_path),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stderr is not None
    seen: list[str] = []

    async def ready() -> None:
        assert proc.stderr is not None
        while "logged in as Studiobot" not in "".join(seen):
            line = await proc.stderr.readline()
            assert line, "".join(seen)
            seen.append(line.decode())

    try:
        await asyncio.wait_for(ready(), 60)
        message = await fake.result(await fake.slash("imagine", prompt="a harbour", aspect="9:16"))
        assert image_size(fake.file(message["attachments"][0])) == (768, 1344)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(proc.communicate(), 30)
    lines = "".join(seen) + rest.decode()
    assert "Slack: skipped" in lines and "Discord: logged in as Studiobot (1 server)" in lines
    assert proc.returncode == 0, lines
    assert (tmp_path / "journal.sqlite3").exists()


async def test_a_sharded_bot_answers_too(tmp_path: Path, fake: FakeDiscord) -> None:
    async with running(make_settings(tmp_path, fake, discord_sharded=True)):
        message = await fake.result(await fake.slash("speak", text="Sharded hello."))
    assert fake.gateway.identifies[0]["shard"] == [0, 1]
    assert fake.file(message["attachments"][0])[:4] == b"OggS"


async def test_front_ends_split_the_shards_and_each_server_is_served_by_one(tmp_path: Path,
                                                                            fake: FakeDiscord) -> None:
    owner = (int(fake.state.guild_id) >> 22) % 4  # where Discord routes this server's events
    async with running(make_settings(tmp_path / "a", fake, discord_shards="0-1/4")) as a, \
            running(make_settings(tmp_path / "b", fake, discord_shards="2-3/4")) as b:
        message = await fake.result(await fake.slash("speak", text="Which shard?"))
        served = [r for r in (a, b) if await r.studio.recent("discord")]
    assert sorted(i["shard"] for i in fake.gateway.identifies) == [[0, 4], [1, 4], [2, 4], [3, 4]]
    assert served == [a if owner < 2 else b]  # one front end took it: the one running the owning shard
    assert fake.file(message["attachments"][0])[:4] == b"OggS"


async def test_sync_registers_every_command(tmp_path: Path, fake: FakeDiscord) -> None:
    code, out, err = await studiobot("discord", "sync", env=env_for(fake, tmp_path))
    assert code == 0, err
    names = {c["name"] for c in fake.state.commands["global"]}
    assert names == {"speak", "imagine", "blend", "edit", "studiobot-defaults", "Edit image", "usage", "history",
                     "forget-me", "studio"}
    assert "Synced 10 commands" in out
    studio = next(c for c in fake.state.commands["global"] if c["name"] == "studio")
    assert int(studio["default_member_permissions"]) == 1 << 5  # Manage Server: hidden from members
    assert [o["name"] for o in studio["options"]] == ["settings"]
    code, out, err = await studiobot("discord", "sync", "--guild", fake.state.guild_id, env=env_for(fake, tmp_path))
    assert code == 0, err
    assert {c["name"] for c in fake.state.commands[fake.state.guild_id]} == names


async def test_sync_with_a_wrong_token_says_so(tmp_path: Path, fake: FakeDiscord) -> None:
    code, _, err = await studiobot("discord", "sync", env=env_for(fake, tmp_path, token="nope"))
    assert code == 1
    assert "Discord rejected DISCORD_TOKEN" in err and "Traceback" not in err


async def test_invite_link_asks_for_exactly_the_permissions_used(tmp_path: Path, fake: FakeDiscord) -> None:
    code, out, err = await studiobot("discord", "invite", env=env_for(fake, tmp_path, token="MTIzNDU2.abc.def"))
    assert code == 0, err
    query = parse_qs(urlsplit(out.strip()).query)
    assert query["client_id"] == ["123456"]
    assert query["scope"] == ["bot applications.commands"]
    assert int(query["permissions"][0]) == USED


async def test_a_button_works_after_the_bot_process_restarts(tmp_path: Path, fake: FakeDiscord) -> None:
    async def start() -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(*STUDIOBOT, "run", env=env_for(fake, tmp_path),
                                                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        assert proc.stderr is not None
        seen = ""
        while "logged in as Studiobot" not in seen:
            line = await asyncio.wait_for(proc.stderr.readline(), 60)
            assert line, seen
            seen += line.decode()
        return proc

    async def stop(proc: asyncio.subprocess.Process) -> None:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0

    first = await start()
    try:
        old = await fake.result(await fake.slash("imagine", prompt="a lighthouse", aspect="16:9"))
    finally:
        await stop(first)
    second = await start()  # a new process: only the custom id and the journal know the old job
    try:
        retried = await fake.result(await fake.click(old["id"], "Retry"))
        assert image_size(fake.file(retried["attachments"][0])) == (1344, 768)
        assert "a lighthouse" in retried["content"]
    finally:
        await stop(second)
