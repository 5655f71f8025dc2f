"""The first hour at the command line: each rough edge a newcomer hit, run as a real process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import stat
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from tests.bots.test_cli import OFFLINE_NOTICE, assert_one_error_line, studiobot, write_png
from tests.processes import STUDIOBOT, free_port, read_until

BADGE = (255, 200, 40)


def test_version(env: dict[str, str], workdir: Path) -> None:
    proc = studiobot("--version", env=env, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("studiobot 0.")


def test_a_masked_offline_edit_keeps_the_offline_preview_label(env: dict[str, str], workdir: Path) -> None:
    house = write_png(workdir / "house.png", (400, 300), (40, 120, 200))
    circle = Image.new("L", (400, 300), 0)
    circle.paste(255, (150, 100, 250, 200))
    circle.save(workdir / "circle.png")
    proc = studiobot("edit", str(house), "add a moon", "--mask", "circle.png", "-o", "out.png", env=env,
                     cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    with Image.open(workdir / "out.png") as out:
        rgb = out.convert("RGB")
        corner = [rgb.getpixel((x, y)) for x in range(8, 40) for y in range(8, 16)]
    # The badge is yellow; the source there is blue. Before the fix the source covered the badge.
    assert sum(1 for p in corner if p[0] > 200 and p[1] > 150 and p[2] < 120) > len(corner) // 2


@pytest.mark.parametrize(("name", "fmt"), [("cat.jpg", "JPEG"), ("cat.jpeg", "JPEG"), ("cat.webp", "WEBP"),
                                           ("cat.PNG", "PNG")])
def test_imagine_writes_the_format_the_file_name_says(env: dict[str, str], workdir: Path, name: str,
                                                      fmt: str) -> None:
    proc = studiobot("imagine", "a cat", "-o", name, env=env, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    with Image.open(workdir / name) as img:
        assert img.format == fmt
        assert img.size == (1024, 1024)


def test_imagine_refuses_a_name_that_is_not_an_image(env: dict[str, str], workdir: Path) -> None:
    proc = studiobot("imagine", "a cat", "-o", "cat.txt", env=env, cwd=workdir)
    line = assert_one_error_line(proc)
    assert ".png, .jpg, .jpeg or .webp" in line
    assert list(workdir.iterdir()) == []


def test_output_files_follow_the_umask(env: dict[str, str], workdir: Path) -> None:
    proc = studiobot("imagine", "a cat", "-o", "cat.png", env=env, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE((workdir / "cat.png").stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize("text", ["hello there", "Ana: one\nBen: two\nCy: three"])
def test_speak_refuses_voice2_without_a_two_speaker_dialogue(env: dict[str, str], workdir: Path,
                                                             text: str) -> None:
    proc = studiobot("speak", text, "--voice2", "Puck", "-o", "x.ogg", env=env, cwd=workdir)
    line = assert_one_error_line(proc)
    assert "voice2 is for a two-speaker dialogue" in line
    assert not (workdir / "x.ogg").exists()


def test_a_busy_port_names_the_port_and_how_to_pick_another(env: dict[str, str], workdir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for command in (("playground", "--port", str(port)), ("run", "--port", str(port))):
            proc = studiobot(*command, env=env, cwd=workdir)
            assert proc.returncode == 1
            assert "Traceback" not in proc.stderr
            errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
            assert len(errors) == 1, proc.stderr
            assert f"Port {port}" in errors[0]
            assert "studiobot run --port" in errors[0] and "studiobot playground --port" in errors[0]


def test_doctor_checks_without_starting_anything(env: dict[str, str], workdir: Path) -> None:
    proc = studiobot("doctor", env=env, cwd=workdir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for expected in ("offline preview", "Discord: would be skipped (set DISCORD_TOKEN)", "Playground: would start",
                     "ffmpeg", "espeak: loads and speaks", f"Data: {env['STUDIOBOT_DATA_DIR']}"):
        assert expected in out
    assert not Path(env["STUDIOBOT_DATA_DIR"]).exists()  # checked, not created


def test_doctor_flags_badly_shaped_tokens_without_printing_them(env: dict[str, str], workdir: Path) -> None:
    bad = env | {"DISCORD_TOKEN": "not-a-token-secret", "SLACK_BOT_TOKEN": "xoxp-user-token-secret",
                 "SLACK_APP_TOKEN": "xapp-1-ok"}
    proc = studiobot("doctor", env=bad, cwd=workdir)
    assert proc.returncode == 1
    assert "FAIL DISCORD_TOKEN: does not look like a bot token" in proc.stdout
    assert "FAIL SLACK_BOT_TOKEN: should start with xoxb-" in proc.stdout
    assert "ok   Slack: would start" in proc.stdout
    assert "secret" not in proc.stdout + proc.stderr
    assert OFFLINE_NOTICE not in proc.stderr


async def test_run_port_and_host_pick_the_playground_address(env: dict[str, str], workdir: Path) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, "run", "--host", "127.0.0.1", "--port", str(port),
                                                cwd=workdir, env=env, stderr=asyncio.subprocess.PIPE)
    try:
        seen = await read_until(proc.stderr, f"Playground: http://127.0.0.1:{port}/")
        assert "Discord: skipped" in seen
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/api/info") as res:
            assert res.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 60) == 0  # exits in a second; 60 for a loaded box
