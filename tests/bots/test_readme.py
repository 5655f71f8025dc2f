"""README's quickstart, followed verbatim: every ``studiobot`` line that can run offline runs, in order.

The lines come from README.md itself. Long-running servers (run, playground, emulator, bench) and the
ones needing a platform token are covered by their own tests; here they are only checked to exist.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.processes import STUDIOBOT, clean_env

README = Path(__file__).resolve().parents[2] / "README.md"
SERVERS = {"run", "playground", "emulator", "bench"}  # they serve until stopped
NEEDS_TOKEN = {"discord"}
pytestmark = pytest.mark.slow


def quickstart_lines() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Quickstart"):text.index("\n## ", text.index("## Quickstart") + 5)]
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", section, re.DOTALL):
        for line in block.splitlines():
            command = line.split("  #", 1)[0].strip()
            if command.startswith("studiobot"):
                lines.append(command)
    return lines


@pytest.mark.timeout(600)  # a dozen real processes in a row: about a minute alone, several on a loaded 2-core box
def test_the_quickstart_runs_as_written(tmp_path: Path) -> None:
    env = clean_env(STUDIOBOT_DATA_DIR=str(tmp_path / "data"))
    work = tmp_path / "work"
    work.mkdir()
    # What a user brings: two pictures to blend and a mask (white = change) for the sky.
    Image.new("RGB", (320, 240), (200, 120, 40)).save(work / "cat.png")
    Image.new("RGB", (320, 240), (40, 80, 200)).save(work / "style.png")
    mask = Image.new("L", (1344, 768), 0)
    mask.paste(255, (0, 0, 1344, 300))
    mask.save(work / "sky-mask.png")
    ran = []
    for line in quickstart_lines():
        words = line.split()
        if words[1] in SERVERS or words[1] in NEEDS_TOKEN:
            continue
        # bash, as the reader would: the README uses $'…' for a two-line dialogue.
        script = f'studiobot() {{ {shlex.join(STUDIOBOT)} "$@"; }}; {line}'
        proc = subprocess.run(["bash", "-c", script], env=env, cwd=work, capture_output=True, text=True,
                              timeout=120, check=False)
        assert proc.returncode == 0, f"{line}\n{proc.stdout}{proc.stderr}"
        assert "Traceback" not in proc.stdout + proc.stderr
        ran.append(words[1])
    assert {"--version", "doctor", "speak", "imagine", "upscale", "blend", "edit", "voices", "--help"} <= set(ran)
    for name in ("hello.ogg", "talk.ogg", "goal.mp3", "fox.png", "grid.png", "grid-2.png", "big.png", "out.png",
                 "night.png"):
        assert (work / name).stat().st_size > 0, name
