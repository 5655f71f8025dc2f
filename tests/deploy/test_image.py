"""The image compose.yaml builds, without Docker: the Dockerfile's build stage copies some paths and runs
``pip install .``; the package made from exactly those paths must hold every command compose runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.compose import load
from tests.deploy.test_compose import COMPOSE, ROOT, canaries, studiobot_services
from tests.processes import clean_env

DOCKERFILE = ROOT / "Dockerfile"


def build_stage_copies() -> list[str]:
    """The sources of every COPY in the first stage (the one that runs ``pip install .``)."""
    stage = re.split(r"^FROM ", DOCKERFILE.read_text(), flags=re.MULTILINE)[1]
    sources = []
    for line in re.findall(r"^COPY (?!--from)(.+)$", stage, re.MULTILINE):
        *paths, _dest = line.split()
        sources += paths
    return sources


@pytest.mark.slow
def test_the_image_holds_every_command_compose_runs(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in build_stage_copies():
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    assert "pip install ." in DOCKERFILE.read_text()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"),
                    f"{src}/"], check=True, timeout=300, capture_output=True)
    wheel = next((tmp_path / "dist").glob("studiobot-*.whl"))
    shipped = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "ls-files", "core", "adapters", "bots", "emulator"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    missing = [p for p in tracked if (ROOT / p).exists() and p not in shipped]
    assert not missing, f"the image would lack {missing[:5]}"

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site),
                    str(wheel)], check=True, timeout=120, capture_output=True)
    entry = re.search(r"^studiobot = (\S+):(\S+)$", (site / f"{wheel.name.split('-')[0]}-"
                      f"{wheel.name.split('-')[1]}.dist-info/entry_points.txt").read_text(), re.MULTILINE)
    assert entry is not None
    model: dict[str, Any] = load(COMPOSE, canaries())
    for service in studiobot_services(model).values():
        run = [sys.executable, "-c", f"import {entry[1]} as m, core; assert core.__file__.startswith({str(site)!r}); "
               f"m.{entry[2]}()", *service["command"], "--help"]
        done = subprocess.run(run, cwd=tmp_path, env=clean_env(PYTHONPATH=str(site)), capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, f"{service['command']}: {done.stdout}{done.stderr}"
