"""A corpus of hostile command lines, each run as a real ``studiobot`` process, a few at a time.

Every refusal must be: a non-zero exit, exactly one ``error:`` line on stderr and nothing else,
no traceback, no terminal escape or live mention echoed back, nothing written to the working
folder, and no process above the memory ceiling. A few cases are hostile-looking but fine: those
must succeed and write their file.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.hostile import samples
from tests.processes import clean_env

STUDIOBOT = [sys.executable, "-m", "bots"]  # the console script minus a shell shim: same main(), less CPU
PARALLEL = 3
HANG_S = 30.0  # a case still running after this is a hang
MAX_RSS = int(1.5 * 1024**3)
LIVE = ("<@", "<#", "<!", "@everyone", "@here", "@channel", "\x1b", "\x9b")
Setup = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    words: str | None = None  # expected in the error line; None with ok=True means success
    ok: bool = False
    setup: Setup | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    rss: int
    seconds: float
    cpu: float
    before: frozenset[str]
    after: frozenset[str]


def _write(name: str, data: bytes | Callable[[], bytes]) -> Setup:
    def setup(work: Path) -> None:
        (work / name).write_bytes(data() if callable(data) else data)
    return setup


def _all(*steps: Setup) -> Setup:
    def setup(work: Path) -> None:
        for step in steps:
            step(work)
    return setup


def _fifo(name: str) -> Setup:
    return lambda work: os.mkfifo(work / name)


def _socket(name: str) -> Setup:
    def setup(work: Path) -> None:
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(work / name))
    return setup


def _symlink(name: str, target: str) -> Setup:
    return lambda work: (work / name).symlink_to(target)


def _dir(name: str) -> Setup:
    return lambda work: (work / name).mkdir()


def _sparse(name: str, size: int) -> Setup:
    def setup(work: Path) -> None:
        with open(work / name, "wb") as f:
            f.truncate(size)
    return setup


PHOTO = _write("photo.png", samples.png())
MASK_OK = _write("mask.png", samples.mask(255))


def _file_cases() -> Iterator[Case]:
    """Paths that are not regular files, in each place a command reads a file."""
    kinds: list[tuple[str, str, Setup | None, str]] = [
        ("dir", "d", _dir("d"), "a folder"),
        ("fifo", "f", _fifo("f"), "FIFO"),
        ("socket", "s", _socket("s"), "socket"),
        ("dev-zero", "/dev/zero", None, "a device"),
        ("dev-null", "/dev/null", None, "a device"),
        ("dev-urandom", "/dev/urandom", None, "a device"),
        ("link-to-dir", "ld", _all(_dir("d"), _symlink("ld", "d")), "a folder"),
        ("link-to-fifo", "lf", _all(_fifo("f"), _symlink("lf", "f")), "FIFO"),
        ("link-to-device", "lz", _symlink("lz", "/dev/zero"), "a device"),
        ("link-loop", "loop", _all(_symlink("loop", "loop2"), _symlink("loop2", "loop")), "symlink loop"),
        ("dangling-link", "gone", _symlink("gone", "nowhere.png"), "no such file"),
        ("missing", "missing.png", None, "no such file"),
        ("proc-mem", "/proc/self/mem", None, "Cannot read"),
        ("too-big", "big.png", _sparse("big.png", 21 * 1024 * 1024), "larger than 20 MB"),
    ]
    for kind, path, setup, words in kinds:
        yield Case(f"edit-image-{kind}", ("edit", path, "make it night", "-o", "out.png"), words, setup=setup)
        yield Case(f"edit-mask-{kind}", ("edit", "photo.png", "make it night", "--mask", path, "-o", "out.png"),
                   words, setup=_all(PHOTO, *([setup] if setup else [])))
        if kind in ("dir", "fifo", "dev-zero", "link-to-fifo", "missing"):
            yield Case(f"imagine-reference-{kind}", ("imagine", "a fox", "-r", path, "-o", "out.png"), words,
                       setup=setup)
    # /proc files report size 0 and then keep giving bytes: the cap holds while reading, not only by stat
    yield Case("edit-image-grows-while-read", ("edit", "/proc/self/maps", "make it night", "-o", "out.png"),
               "larger than", env={"STUDIOBOT_MAX_INPUT_MB": "0.0001"})
    yield Case("output-is-a-fifo", ("speak", "hello", "-o", "f.ogg"), "not a regular file", setup=_fifo("f.ogg"))
    yield Case("output-is-dev-null", ("speak", "hello", "-o", "/dev/null"), "not a regular file")
    yield Case("output-in-missing-folder", ("speak", "hello", "-o", "no/such/x.ogg"), "does not exist")


_NOTHING = {
    "empty": "",
    "spaces": "   ",
    "tabs-newlines": "\t\n \r\n",
    "zero-width": "\u200b\u200c\u200d\u2060",
    "bidi": "\u202e\u202d\u2066\u2069",
    "variation-selectors": "\ufe0f\ufe0e",
    "combining-only": "\u0301\u0308\u20dd",
    "bom-and-nbsp": "\ufeff\u00a0\u3000",
    "hangul-filler": "\u3164\u3164",
    "braille-blank": "\u2800",
}


def _text_cases() -> Iterator[Case]:
    for i, (name, text) in enumerate(_NOTHING.items()):
        yield Case(f"speak-nothing-{name}", ("speak", text, "-o", "x.ogg"), "empty")
        if i % 2:
            yield Case(f"imagine-nothing-{name}", ("imagine", text, "-o", "x.png"), "empty")
        else:
            yield Case(f"edit-nothing-{name}", ("edit", "photo.png", text, "-o", "x.png"), "empty", setup=PHOTO)
    for name, text in {"punctuation": "?!… — ...", "emoji": "🙂🎉👍🏽", "punct-and-zw": "!\u200b?"}.items():
        yield Case(f"speak-no-words-{name}", ("speak", text, "-o", "x.ogg"), "nothing to say")
    yield Case("imagine-only-punctuation", ("imagine", "?!...", "-o", "x.png"), "nothing to say")
    yield Case("edit-only-punctuation", ("edit", "photo.png", "— — —", "-o", "x.png"), "nothing to say", setup=PHOTO)
    yield Case("speak-too-long", ("speak", "word " * 4001, "-o", "x.ogg"), "the limit is 20,000")
    yield Case("imagine-megabyte-prompt", ("imagine", "a" * 100_000, "-o", "x.png"), "the limit is 4,000")


def _bytes_cases() -> Iterator[Case]:
    bad = os.fsdecode(b"caf\xe9 \xff\xfe")  # what the OS gives us for Latin-1 bytes in a UTF-8 locale
    yield Case("speak-undecodable", ("speak", bad, "-o", "x.ogg"), "isn't valid UTF-8")
    yield Case("imagine-undecodable", ("imagine", bad, "-o", "x.png"), "isn't valid UTF-8")
    yield Case("edit-undecodable", ("edit", "photo.png", bad, "-o", "x.png"), "isn't valid UTF-8", setup=PHOTO)
    yield Case("voice-undecodable", ("speak", "hi", "--voice", bad, "-o", "x.ogg"), "isn't valid UTF-8")
    yield Case("style-undecodable", ("speak", "hi", "--style", bad, "-o", "x.ogg"), "isn't valid UTF-8")
    yield Case("language-undecodable", ("speak", "hi", "--language", bad, "-o", "x.ogg"), "isn't valid UTF-8")
    yield Case("aspect-undecodable", ("imagine", "a fox", "--aspect", bad, "-o", "x.png"), "isn't valid UTF-8")
    yield Case("path-undecodable", ("edit", bad + ".png", "make it night", "-o", "x.png"), "no such file")
    yield Case("speak-with-controls", ("speak", "hello\x07\x1b[2J\x1b]0;pwned\x07", "-o", "x.ogg"), ok=True)


def _echo_cases() -> Iterator[Case]:
    hostile = {
        "clear-screen": "\x1b[2J\x1b[H",
        "osc-title": "\x1b]0;owned\x07Gandalf",
        "c1-csi": "\x9b31mred",
        "discord-mention": "<@123456789012345678>",
        "discord-role": "<@&123456789012345678>",
        "everyone": "@everyone",
        "slack-channel": "<!channel>",
        "markdown-link": "[click](https://evil.example)",
        "rich-markup": "[/][bold red]x",
        "newlines": "Kore\nerror: forged second line",
    }
    for name, value in hostile.items():
        yield Case(f"voice-echo-{name}", ("speak", "hi", "--voice", value, "-o", "x.ogg"), "voice")
        if "\x1b" not in value:  # an aspect of escapes only is no aspect at all: the default, not an error
            yield Case(f"aspect-echo-{name}", ("imagine", "a fox", "--aspect", value, "-o", "x.png"), "aspect")
    yield Case("unknown-option-escape", ("speak", "hi", "--\x1b[2J"), "No such option")
    yield Case("language-echo-escape", ("speak", "hi", "--language", "\x1b[31mxx-!!", "-o", "x.ogg"), "language code")


def _option_cases() -> Iterator[Case]:
    yield Case("unknown-option", ("speak", "--colour", "red", "hi"), "No such option")
    yield Case("mask-on-imagine", ("imagine", "a fox", "--mask", "m.png"), "No such option")
    yield Case("voice-without-value", ("speak", "hi", "--voice"), "requires an argument")
    yield Case("repeated-voice", ("speak", "hi", "--voice", "Kore", "--voice", "Puck"), "given twice")
    yield Case("repeated-aspect", ("imagine", "x", "--aspect=1:1", "--aspect", "16:9"), "given twice")
    yield Case("repeated-output", ("speak", "hi", "-o", "a.ogg", "--output", "b.ogg"), "given twice")
    yield Case("voice2-without-dialogue", ("speak", "just one line", "--voice2", "Puck", "-o", "x.ogg"), "dialogue")
    yield Case("empty-voice", ("speak", "hi", "--voice", "", "-o", "x.ogg"), "voice name is empty")
    yield Case("blank-voice", ("speak", "hi", "--voice", "\u200b ", "-o", "x.ogg"), "voice name is empty")
    yield Case("absurd-voice", ("speak", "hi", "--voice", "K" * 50_000, "-o", "x.ogg"), "voice")
    yield Case("cyrillic-lookalike-voice", ("speak", "hi", "--voice", "Коrе", "-o", "x.ogg"), "Unknown voice")
    yield Case("fullwidth-voice", ("speak", "hi", "--voice", "Ｋｏｒｅ", "-o", "x.ogg"), "Unknown voice")
    yield Case("absurd-style", ("speak", "hi", "--style", "slow " * 5000, "-o", "x.ogg"), "style")
    yield Case("bad-language", ("speak", "hi", "--language", "english please", "-o", "x.ogg"), "language code")
    yield Case("absurd-language", ("speak", "hi", "--language", "e" * 10_000, "-o", "x.ogg"), "language")
    for aspect in ("7:3", "0:0", "-1:1", "16:9:1", "1e9:1", "１６:９", "16∶9", "∞"):
        yield Case(f"aspect-{aspect}", ("imagine", "a fox", "--aspect", aspect, "-o", "x.png"), "aspect ratio")
    yield Case("count-zero", ("imagine", "a fox", "--count", "0", "-o", "x.png"), "1 to 4")
    yield Case("count-huge", ("imagine", "a fox", "--count", "99999999999999999999", "-o", "x.png"), "1 to 4")
    yield Case("count-not-a-number", ("imagine", "a fox", "--count", "two", "-o", "x.png"), "valid integer")
    yield Case("flags-inside-one-argument", ("speak", "--voice Puck hello"), "No such option")
    yield Case("audio-format", ("speak", "hi", "-o", "x.exe"), "audio format")
    yield Case("dialogue-three-speakers-is-prose", ("speak", "A: hi\nB: yo\nC: hey", "-o", "x.ogg"), ok=True)
    yield Case("flag-words-after-double-dash", ("speak", "-o", "x.ogg", "--", "--voice"), ok=True)


def _image_cases() -> Iterator[Case]:
    for name, make in samples.NOT_IMAGES.items():
        words = ("too large" if "bomb" in name else "empty" if name == "empty" else
                 "SVG" if name == "svg" else "HEIC" if name == "heic" else "")
        yield Case(f"edit-{name}", ("edit", "in.png", "make it night", "-o", "x.png"), words,
                   setup=_write("in.png", make))
    yield Case("reference-html", ("imagine", "a fox", "-r", "ref.png", "-o", "x.png"), "reference image",
               setup=_write("ref.png", samples.NOT_IMAGES["html"]))
    yield Case("polyglot-png-zip", ("edit", "poly.png", "make it night", "-o", "x.png"), ok=True,
               setup=_write("poly.png", samples.png() + b"PK\x03\x04" + b"\x00" * 64))
    yield Case("jpeg-named-png", ("edit", "photo.png", "make it night", "-o", "x.png"), ok=True,
               setup=_write("photo.png", samples.seeds()["jpeg"]))
    yield Case("mask-all-black", ("edit", "photo.png", "make it night", "--mask", "m.png", "-o", "x.png"),
               "selects nothing", setup=_all(PHOTO, _write("m.png", samples.mask(0))))
    yield Case("mask-transparent", ("edit", "photo.png", "make it night", "--mask", "m.png", "-o", "x.png"),
               "selects nothing", setup=_all(PHOTO, _write("m.png", samples.transparent_mask())))
    yield Case("mask-not-an-image", ("edit", "photo.png", "make it night", "--mask", "m.png", "-o", "x.png"),
               "mask", setup=_all(PHOTO, _write("m.png", b"not a mask")))
    yield Case("mask-wrong-size-and-mode", ("edit", "photo.png", "night", "--mask", "m.png", "-o", "x.png"),
               ok=True, setup=_all(PHOTO, _write("m.png", samples.mask(255, (7, 300), "1"))))
    yield Case("mask-all-white", ("edit", "photo.png", "make it night", "--mask", "mask.png", "-o", "x.png"),
               ok=True, setup=_all(PHOTO, MASK_OK))
    for name in ("animated-gif", "cmyk-jpeg", "png16", "palette-alpha", "exif-rotated"):
        yield Case(f"edit-{name}", ("edit", "in.img", "make it warm", "-o", "x.png"), ok=True,
                   setup=_write("in.img", samples.seeds()[name]))
    yield Case("edit-1x1", ("edit", "in.png", "make it warm", "-o", "x.png"), ok=True,
               setup=_write("in.png", samples.png((1, 1))))
    yield Case("edit-extreme-ratio", ("edit", "in.png", "make it warm", "-o", "x.png"), ok=True,
               setup=_write("in.png", samples.png((4000, 2))))


CASES = [*_file_cases(), *_text_cases(), *_bytes_cases(), *_echo_cases(), *_option_cases(), *_image_cases()]


# A tiny parent for each case: a process forked from pytest starts with pytest's own memory counted in its
# peak RSS, so the command is forked from this small launcher instead, which reports the child's own figures.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss * 1024} {usage.ru_utime + usage.ru_stime}")
"""


def _run(case: Case, root: Path) -> Outcome:
    work = root / case.id.replace("/", "_")
    work.mkdir()
    if case.setup is not None:
        case.setup(work)
    before = frozenset(p.name for p in work.iterdir())
    env = clean_env(STUDIOBOT_DATA_DIR=str(root / f"{work.name}.data"), **case.env)
    report = root / f"{work.name}.rusage"
    started = time.monotonic()
    with open(root / f"{work.name}.out", "w+b") as out, open(root / f"{work.name}.err", "w+b") as err:
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", _LAUNCHER, str(report), *STUDIOBOT, *case.args],
                                cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
        try:
            proc.wait(timeout=HANG_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the launcher and the command it started
            proc.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    code, rss, cpu = report.read_text().split() if report.exists() else ("-9", "0", "0")
    after = frozenset(p.name for p in work.iterdir())
    return Outcome(int(code), stdout, stderr, int(rss), time.monotonic() - started, float(cpu), before, after)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every case, run a few at a time (the corpus is one batch, the checks are per case)."""
    root = tmp_path_factory.mktemp("corpus")
    started = time.monotonic()
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = dict(zip((c.id for c in CASES), pool.map(lambda c: _run(c, root), CASES), strict=True))
    wall = time.monotonic() - started
    refusals = sum(1 for c in CASES if not c.ok)
    peak = max(o.rss for o in results.values())
    print(f"\ncorpus: {len(CASES)} cases ({refusals} refusals) in {wall:.1f} s wall, "
          f"{sum(o.cpu for o in results.values()):.0f} s CPU in the commands, peak RSS of one command "
          f"{peak / 2**20:.0f} MiB, slowest case {max(o.seconds for o in results.values()):.1f} s")
    shutil.rmtree(root, ignore_errors=True)
    return results


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 120
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.timeout(900)  # the first case also runs the whole corpus (the module fixture), a minute or more
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_command_line(case: Case, outcomes: dict[str, Outcome]) -> None:
    got = outcomes[case.id]
    shown = f"exit {got.code}\nstdout: {got.stdout!r}\nstderr: {got.stderr!r}"
    assert got.code >= 0, f"killed (a hang or a crash)\n{shown}"
    assert got.rss < MAX_RSS, shown
    assert "Traceback" not in got.stdout + got.stderr, shown
    if case.ok:
        assert got.code == 0, shown
        assert got.after - got.before, f"nothing was written\n{shown}"
        return
    assert got.code in (1, 2), shown
    lines = [ln for ln in got.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), shown
    message = lines[0]
    if case.words:
        assert case.words.lower() in message.lower(), shown
    for live in LIVE:
        assert live not in message, f"{live!r} echoed back\n{shown}"
    assert got.stdout == "", shown
    assert got.after == got.before, f"something was written on refusal\n{shown}"
