"""``studiobot speak … -o -``: encoded audio on stdout while the speech is still being generated."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.media import audio
from emulator.app import Emulator
from emulator.stream import Pacing
from tests.processes import STUDIOBOT, clean_env, free_port

TEXT = "Piping speech into a player. It starts at the first chunk, not at the last one. Listen closely now."


async def test_speak_to_stdout_streams_while_generating(tmp_path: Path, emulator: Emulator) -> None:
    emulator.pacing = Pacing(chunk_s=0.25, chunk_interval_s=0.15)
    env = clean_env(GEMINI_API_KEY="test-key", STUDIOBOT_GEMINI_BASE_URL=emulator.base_url,
                    STUDIOBOT_DATA_DIR=str(tmp_path / "data"), STUDIOBOT_PLAYGROUND_PORT=str(free_port()))
    proc = await asyncio.create_subprocess_exec(*STUDIOBOT, "speak", TEXT, "-o", "-", env=env, cwd=tmp_path,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    received = b""
    async with asyncio.timeout(60):
        while len(received) < 3000:  # past the Ogg headers: real Opus audio
            data = await proc.stdout.read(4096)
            assert data, "stdout closed before any audio"
            received += data
        assert emulator.open_streams == 1  # audio came out while Gemini was still streaming
        received += await proc.stdout.read()
        stderr = (await proc.stderr.read()).decode()
        assert await proc.wait() == 0, stderr
    assert received[:4] == b"OggS" and "streamed to stdout" in stderr
    heard = audio.decode(received, 24_000).duration_s
    assert abs(heard - emulator.spoken[0]) < 0.2
    assert not list(tmp_path.glob("*.ogg"))  # nothing written besides the pipe
