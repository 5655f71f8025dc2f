"""``studiobot imagine --count``, ``upscale`` and ``blend`` as a user runs them: real processes, real files."""

from __future__ import annotations

from pathlib import Path

from tests.bots.test_cli import assert_one_error_line, studiobot
from tests.fakes.media import image_size, png


def test_imagine_count_4_writes_the_grid_and_each_candidate(env: dict[str, str], workdir: Path) -> None:
    proc = studiobot("imagine", "a red fox", "--count", "4", "--size", "512", "-o", "grid.png", env=env,
                     cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert image_size((workdir / "grid.png").read_bytes()) == (1024, 1024)
    cells = [(workdir / f"grid-{n}.png").read_bytes() for n in range(1, 5)]
    assert all(image_size(c) == (512, 512) for c in cells)
    assert len(set(cells)) == 4
    assert "grid-1.png … grid-4.png" in proc.stderr


def test_upscale_goes_to_the_next_size_and_blend_takes_several(env: dict[str, str], workdir: Path) -> None:
    (workdir / "a.png").write_bytes(png(1024, 1024))
    (workdir / "b.png").write_bytes(png(640, 480, (200, 0, 0)))
    up = studiobot("upscale", "a.png", "-o", "big.png", env=env, cwd=workdir)
    mix = studiobot("blend", "a.png", "b.png", "the colour of the second", "-o", "out.png", env=env, cwd=workdir)

    assert up.returncode == 0, up.stderr
    assert image_size((workdir / "big.png").read_bytes()) == (2048, 2048)
    assert "2048x2048" in up.stderr
    assert mix.returncode == 0, mix.stderr
    assert image_size((workdir / "out.png").read_bytes()) == (1024, 1024)


def test_unknown_size_is_one_plain_line(env: dict[str, str], workdir: Path) -> None:
    line = assert_one_error_line(studiobot("imagine", "x", "--size", "8K", "-o", "a.png", env=env, cwd=workdir))
    assert "Use one of: 512, 1K, 2K, 4K" in line
