"""The ``studiobot`` console script, run the way a user runs it: a real process, real files, plain output."""

from __future__ import annotations

import io
import math
import socket
import subprocess
import time
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from core.media import audio
from tests.processes import STUDIOBOT, free_port

OFFLINE_NOTICE = "OFFLINE PREVIEW:"
SECRET_KEY = "AIzaSecretWrongKey123456789012345"
RUN_TIMEOUT_S = 60


def studiobot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*STUDIOBOT, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S, check=False)


def assert_one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """Failed, said why in exactly one ``error:`` line, and showed no stack."""
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    others = [ln for ln in lines if ln not in errors and not ln.startswith(OFFLINE_NOTICE)]
    assert others == [], proc.stderr  # e.g. a message wrapped onto a second line
    return errors[0]


def rms_dbfs(pcm: bytes) -> float:
    samples = array("h", pcm)
    if not samples:
        return -math.inf
    mean_square = sum(s * s for s in samples) / len(samples)
    return 20 * math.log10(max(math.sqrt(mean_square), 1e-9) / 32768)


def assert_speech(path: Path, *, min_s: float = 0.4, max_s: float = 3.0) -> None:
    speech = audio.decode(path.read_bytes())
    assert min_s <= speech.duration_s <= max_s
    assert rms_dbfs(speech.pcm) > -40


def write_png(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", size, colour).save(path, "PNG")
    return path


@contextmanager
def emulator_process(env: dict[str, str], cwd: Path, *args: str) -> Iterator[str]:
    """``studiobot emulator`` in the background; yields its base URL once it accepts connections."""
    port = free_port()
    proc = subprocess.Popen([*STUDIOBOT, "emulator", "--port", str(port), *args], env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, "the emulator exited early"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the emulator never started listening"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- help and listings ---------------------------------------------------------------------------------------


def test_help_lists_every_command(env: dict[str, str], workdir: Path) -> None:
    proc = studiobot("--help", env=env, cwd=workdir)
    assert proc.returncode == 0
    for command in ("speak", "imagine", "edit", "voices", "emulator", "run"):
        assert command in proc.stdout


def test_voices_lists_kore_as_firm(env: dict[str, str], workdir: Path) -> None:
    proc = studiobot("voices", env=env, cwd=workdir)
    assert proc.returncode == 0
    kore = [ln for ln in proc.stdout.splitlines() if "Kore" in ln]
    assert len(kore) == 1
    assert "Firm" in kore[0]


# -- generating offline ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a.ogg", "a.mp3", "a.wav"])
def test_speak_writes_a_clip_that_plays(env: dict[str, str], workdir: Path, name: str) -> None:
    proc = studiobot("speak", "hello there", "-o", name, env=env, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert OFFLINE_NOTICE in proc.stderr
    assert "wrote" in proc.stderr
    assert_speech(workdir / name)


def test_imagine_with_a_wide_aspect_writes_a_wide_png(env: dict[str, str], workdir: Path) -> None:
    proc = studiobot("imagine", "a red fox", "--aspect", "16:9", "-o", "f.png", env=env, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert OFFLINE_NOTICE in proc.stderr
    with Image.open(workdir / "f.png") as img:
        assert img.format == "PNG"
        assert img.size == (1344, 768)


def test_edit_with_a_smaller_mask_keeps_the_source_size(env: dict[str, str], workdir: Path) -> None:
    source = write_png(workdir / "photo.png", (320, 200), (200, 60, 40))
    mask = write_png(workdir / "mask.png", (64, 40), (255, 255, 255))
    proc = studiobot("edit", str(source), "make it night", "--mask", str(mask), "-o", "out.png",
                     env=env, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    with Image.open(io.BytesIO((workdir / "out.png").read_bytes())) as img:
        assert img.size == (320, 200)


# -- failing plainly ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(("speak", "hi", "-o", "/nonexistent-dir/x.ogg"), "does not exist", id="missing-folder"),
        pytest.param(("speak", "hi", "-o", "."), "is a directory", id="output-is-a-directory"),
        pytest.param(("speak", "hi", "--voice", "Gandalf", "-o", "x.ogg"), "Unknown voice", id="unknown-voice"),
        pytest.param(("imagine", "a fox", "--aspect", "7:3", "-o", "x.png"), "16:9", id="unknown-aspect"),
        pytest.param(("speak", "  ", "-o", "x.ogg"), "empty", id="empty-text"),
        pytest.param(("edit", "notes.txt", "make it night", "-o", "x.png"), "isn't an image", id="edit-a-text-file"),
        pytest.param(("edit", "missing.png", "make it night", "-o", "x.png"), "Cannot read", id="edit-a-missing-file"),
    ],
)
def test_a_failure_is_one_plain_error_line(env: dict[str, str], workdir: Path, args: tuple[str, ...],
                                           words: str) -> None:
    (workdir / "notes.txt").write_text("not a picture\n")
    before = set(workdir.iterdir())
    proc = studiobot(*args, env=env, cwd=workdir)
    line = assert_one_error_line(proc)
    assert proc.returncode == 1
    assert words in line
    assert set(workdir.iterdir()) == before  # nothing half-written


# -- against the Gemini emulator ---------------------------------------------------------------------------


@pytest.mark.timeout(40)
def test_speak_through_the_gemini_emulator(env: dict[str, str], workdir: Path) -> None:
    with emulator_process(env, workdir) as url:
        client = env | {"GEMINI_API_KEY": "anything", "STUDIOBOT_GEMINI_BASE_URL": url}
        proc = studiobot("speak", "hi", "-o", "x.ogg", env=client, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert OFFLINE_NOTICE not in proc.stdout + proc.stderr
    assert_speech(workdir / "x.ogg", min_s=0.1)


@pytest.mark.timeout(40)
def test_a_wrong_key_is_named_but_never_shown(env: dict[str, str], workdir: Path) -> None:
    with emulator_process(env, workdir, "--api-key", "right") as url:
        client = env | {"GEMINI_API_KEY": SECRET_KEY, "STUDIOBOT_GEMINI_BASE_URL": url}
        plain = studiobot("speak", "hi", "-o", "x.ogg", env=client, cwd=workdir)
        verbose = studiobot("speak", "hi", "-o", "x.ogg", "--verbose", env=client, cwd=workdir)
    line = assert_one_error_line(plain)
    assert plain.returncode == 1
    assert "GEMINI_API_KEY" in line
    for proc in (plain, verbose):
        assert proc.returncode == 1
        everything = proc.stdout + proc.stderr
        assert SECRET_KEY not in everything
        assert SECRET_KEY[4:20] not in everything
    assert not (workdir / "x.ogg").exists()


def test_verbose_logs_go_to_stderr_and_stdout_stays_clean(env: dict[str, str], workdir: Path) -> None:
    proc = studiobot("speak", "hi", "-o", "x.ogg", "--verbose", env=env, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert "DEBUG" in proc.stderr
    assert proc.stdout == ""
