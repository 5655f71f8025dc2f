"""Mutation fuzzing of image intake: whatever bytes arrive, the answer is an image or an InputError.

Hypothesis mutates small valid PNG, JPEG, GIF and WebP files (bit flips, overwritten runs, cuts,
splices, duplicated chunks, forged header sizes). Each example must finish quickly, and the whole
run must stay within a memory budget, measured as the growth of this process's peak RSS.
"""

from __future__ import annotations

import resource
import struct
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.errors import InputError
from core.media import images
from tests.hostile import samples

SEEDS = samples.seeds()
EXAMPLE_BUDGET_S = 5.0  # per example, on a loaded 2-core machine; typical is milliseconds
RSS_GROWTH_BUDGET = 600 * 1024 * 1024
FUZZ = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_peak_before: list[int] = []
_slowest: list[float] = [0.0]


@pytest.fixture(autouse=True, scope="module")
def _baseline() -> None:
    """The process's peak RSS before the first fuzz example (earlier tests in the run may have set it)."""
    _peak_before.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "overwrite", "cut", "splice", "duplicate", "size", "insert"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[at:at + len(chunk)] = chunk
        elif kind == "cut":
            del data[at:]
        elif kind == "splice":
            other = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
            data[at:] = other[draw(st.integers(0, len(other) - 1)):]
        elif kind == "duplicate":
            end = min(len(data), at + draw(st.integers(1, 512)))
            data[at:at] = data[at:end]
        elif kind == "size":  # forge a width/height field somewhere near the header
            field = draw(st.sampled_from([16, 18, 20, 6, 8, 24, 26]))
            data[field:field + 4] = struct.pack(">I", draw(st.sampled_from([0, 1, 65535, 2**31 - 1, 2**32 - 1])))
        elif kind == "insert":
            data[at:at] = draw(st.binary(max_size=64))
    return bytes(data)


def intake(data: bytes) -> None:
    """What every entry point does with an uploaded image, and with a mask."""
    started = time.perf_counter()
    refusal = None
    try:
        clean = images.prepare_input(data, max_side=512)
        images.check_mask(clean)
        images.describe(clean)
    except InputError as err:
        refusal = err.user_message
    elapsed = time.perf_counter() - started
    _slowest[0] = max(_slowest[0], elapsed)
    assert elapsed < EXAMPLE_BUDGET_S, f"{elapsed:.1f} s for {len(data)} bytes"
    assert refusal is None or (refusal and "\n" not in refusal)


@settings(FUZZ, max_examples=400)
@given(mutated())
@example(samples.png_declaring(0, 0))
@example(samples.png_declaring(2**31 - 1, 2**31 - 1))
@example(samples.gif_declaring(0, 65535))
@example(samples.jpeg_declaring(0, 1))
def test_mutated_images_are_read_or_refused(data: bytes) -> None:
    intake(data)


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_are_refused(data: bytes) -> None:
    intake(data)


@pytest.mark.parametrize("name", sorted(samples.NOT_IMAGES))
def test_each_hostile_file_is_refused(name: str) -> None:
    with pytest.raises(InputError):
        images.prepare_input(samples.NOT_IMAGES[name]())


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_each_seed_is_read_upright(name: str) -> None:
    clean = images.load(images.prepare_input(SEEDS[name]))
    assert clean.mode in ("RGB", "RGBA")
    if name == "exif-rotated":
        assert clean.size == (20, 40)  # EXIF orientation 6 turned the 40x20 photo upright


@pytest.mark.parametrize(("mask", "selects"), [
    (samples.mask(0), False), (samples.transparent_mask(), False), (samples.mask(8), False),
    (samples.mask(255), True), (samples.mask(128, (3, 500), "1"), True), (samples.png(colour=(255, 0, 0)), True),
])
def test_a_mask_that_selects_nothing_is_refused(mask: bytes, selects: bool) -> None:
    if selects:
        images.check_mask(mask)
        return
    with pytest.raises(InputError, match="selects nothing"):
        images.check_mask(mask)


def test_fuzzing_stayed_within_its_memory_and_time_budget() -> None:
    """Runs last in this module: the peak RSS grew by less than the budget while fuzzing."""
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - _peak_before[0]
    print(f"\nimage fuzz: peak RSS grew {growth / 2**20:.0f} MiB, slowest example {_slowest[0]:.2f} s")
    assert growth < RSS_GROWTH_BUDGET
    assert _slowest[0] < EXAMPLE_BUDGET_S
