"""The CLI run as a user runs it: a private data dir, an empty working folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.processes import clean_env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No key (so the offline provider answers), a private data dir, and plain non-terminal output."""
    return clean_env(STUDIOBOT_DATA_DIR=str(tmp_path / "data"))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty cwd, so no stray .env is read."""
    path = tmp_path / "work"
    path.mkdir()
    return path
