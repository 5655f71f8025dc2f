"""``studiobot``: every command. Failures end in one plain line and a non-zero exit, never a traceback."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from bots.db_cli import db_app
from bots.discord_cli import discord_app
from bots.files import read_regular, shown
from bots.logs import Verbose, setup_logging
from bots.serve_cli import playground, run, worker
from bots.usage_cli import usage
from core.errors import InputError, StudioError
from core.redact import Redactor
from core.requests import (
    ASPECT_SIZES,
    IMAGE_SIZES,
    BlendRequest,
    EditRequest,
    ImagineRequest,
    Request,
    SpeakRequest,
    UpscaleRequest,
)
from core.settings import Settings
from core.text import inert
from core.voices import DEFAULT_VOICE, VOICES

app = typer.Typer(
    name="studiobot",
    help="Gemini speech and image generation for Discord, Slack and a local web playground.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(discord_app, name="discord")
app.add_typer(db_app, name="db")
app.command(name="usage")(usage)
err = Console(stderr=True, soft_wrap=True)  # one error, one line: never wrap at 80 columns
out = Console()



def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            out.print(f"studiobot {version('studiobot')}", highlight=False)
        except PackageNotFoundError:
            out.print("studiobot (not installed as a package)", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[bool, typer.Option("--version", help="Print the version and exit.",
                                               callback=_version, is_eager=True)] = False,
) -> None:
    """Gemini speech and image generation for Discord, Slack and a local web playground."""


STDOUT = "-"  # ``-o -``: write to standard output


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic's ValidationError: name the setting, not a stack
        raise typer.BadParameter(f"invalid settings: {' '.join(str(exc).split())}"[:300]) from None


async def generate_to_file(settings: Settings, request: Request, path: Path, console: Console) -> object:
    """Imported on first use: a refused file or option never pays for loading the studio."""
    from bots.local import generate_to_file as generate

    return await generate(settings, request, path, console)


async def speak_to_stdout(settings: Settings, request: SpeakRequest, console: Console) -> object:
    """``-o -``: imported on first use, like the rest of the studio."""
    from bots.local import speak_to_stdout as stream

    return await stream(settings, request, console)


def output_path(path: Path) -> Path:
    from bots.local import output_path as check

    return check(path)


def image_output_path(path: Path) -> Path:
    from bots.local import image_output_path as check

    return check(path)


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Print one plain ``error:`` line (user text in it is already inert) and give the exit to raise."""
    err.print(f"[red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def _run(settings: Settings, make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine; turn any failure into one redacted line and exit code 1."""
    redact = Redactor(settings.secrets())
    try:
        return asyncio.run(make())
    except StudioError as exc:
        raise _fail(redact(exc.user_message)) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None
    except OSError as exc:
        where = f": {shown(exc.filename)}" if exc.filename else ""
        raise _fail(f"{redact(exc.strerror or 'input/output error')}{where}") from None
    except Exception as exc:
        logging.getLogger("studiobot").debug("unexpected failure", exc_info=True)
        raise _fail(" ".join(redact(f"{type(exc).__name__}: {exc}").split())[:300]) from None


@app.command()
def speak(
    text: Annotated[str, typer.Argument(help="What to say. `Name: line` lines make a two-speaker dialogue.")],
    voice: Annotated[str, typer.Option("--voice", help="Prebuilt voice (see `studiobot voices`).")] = DEFAULT_VOICE,
    style: Annotated[str | None, typer.Option("--style", help='How to say it, e.g. "warm and slow".')] = None,
    voice2: Annotated[str | None, typer.Option("--voice2", help="Second speaker's voice in a dialogue.")] = None,
    language: Annotated[str | None, typer.Option("--language", help="Language hint such as de-DE.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file: .ogg (Opus), .mp3 or .wav; "
                                         "- streams to stdout as it is generated.")] = Path("speech.ogg"),
    audio_format: Annotated[str | None, typer.Option(
        "--format", help="ogg, mp3 or wav (default: from the file name; ogg for -).")] = None,
    verbose: Verbose = False,
) -> None:
    """Turn text into a voice clip."""
    settings = _settings()
    setup_logging(settings, verbose)
    fmt = audio_format or output.suffix.lower().lstrip(".") or "ogg"
    fmt = {"opus": "ogg", "oga": "ogg"}.get(fmt.lower(), fmt.lower())
    from core.requests import Speaker
    from core.voices import dialogue_speakers

    async def go() -> Any:
        speakers = tuple(Speaker(n, v) for n, v in dialogue_speakers(text, voice, voice2))  # the core's rule
        request = SpeakRequest(text=text, voice=voice, style=style, language=language, speakers=speakers,
                               audio_format=fmt)
        if str(output) == STDOUT:
            return await speak_to_stdout(settings, request, err)
        return await generate_to_file(settings, request, output_path(output), err)

    _run(settings, go)


@app.command()
def imagine(
    prompt: Annotated[str, typer.Argument(help="What to draw.")],
    aspect: Annotated[str | None, typer.Option("--aspect", help=f"One of {', '.join(ASPECT_SIZES)}.")] = None,
    reference: Annotated[
        list[Path] | None, typer.Option("--reference", "-r", help="Reference image (repeatable).")
    ] = None,
    count: Annotated[int | None, typer.Option("--count", "-n", help="1-4 candidates; 2-4 make a numbered grid and "
                                       "write NAME-1 … NAME-4 beside it.")] = None,
    size: Annotated[str | None, typer.Option("--size", help=f"Output size: {', '.join(IMAGE_SIZES)} "
                                             "(what the model offers).")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image: .png, .jpg/.jpeg or .webp.")] = Path(
        "image.png"),
    verbose: Verbose = False,
) -> None:
    """Turn a prompt into an image, or a grid of up to four."""
    settings = _settings()
    setup_logging(settings, verbose)
    refs = tuple(_read(p, settings, "reference image") for p in reference or [])
    request = ImagineRequest(prompt=prompt, aspect=aspect, references=refs, count=count, size=size)
    _run(settings, lambda: generate_to_file(settings, request, image_output_path(output), err))


@app.command()
def edit(
    image: Annotated[Path, typer.Argument(help="The image to edit.")],
    instruction: Annotated[str, typer.Argument(help='What to change, e.g. "make it night".')],
    mask: Annotated[Path | None, typer.Option("--mask", help="Mask image: white = change, black = keep.")] = None,
    aspect: Annotated[str | None, typer.Option("--aspect", help="Change the aspect ratio too.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image: .png, .jpg/.jpeg or .webp.")] = Path(
        "edited.png"),
    verbose: Verbose = False,
) -> None:
    """Edit an image with an instruction, optionally only inside a mask."""
    settings = _settings()
    setup_logging(settings, verbose)
    request = EditRequest(image=_read(image, settings, "image"), instruction=instruction,
                          mask=_read(mask, settings, "mask") if mask else None, aspect=aspect)
    _run(settings, lambda: generate_to_file(settings, request, image_output_path(output), err))


@app.command()
def upscale(
    image: Annotated[Path, typer.Argument(help="The image to re-render bigger.")],
    size: Annotated[str | None, typer.Option("--size", help="Target size (default: the next one up, "
                                             "1K → 2K → 4K).")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image file.")] = Path("upscaled.png"),
    verbose: Verbose = False,
) -> None:
    """Re-render an image at the next size the model offers, keeping its composition."""
    settings = _settings()
    setup_logging(settings, verbose)
    request = UpscaleRequest(image=_read(image, settings, "image"), size=size)
    _run(settings, lambda: generate_to_file(settings, request, image_output_path(output), err))


@app.command()
def blend(
    inputs: Annotated[list[str], typer.Argument(help='2 or more images, then an optional instruction, e.g. '
                                                '"the cat from the first in the style of the second".')],
    aspect: Annotated[str | None, typer.Option("--aspect", help=f"One of {', '.join(ASPECT_SIZES)}.")] = None,
    size: Annotated[str | None, typer.Option("--size", help=f"Output size: {', '.join(IMAGE_SIZES)}.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Output image file.")] = Path("blend.png"),
    verbose: Verbose = False,
) -> None:
    """Blend several images into one, in the order given."""
    settings = _settings()
    setup_logging(settings, verbose)
    instruction = ""
    if inputs and not Path(inputs[-1]).is_file():
        instruction = inputs.pop()  # the last word is the instruction unless it names a file
    paths = [Path(p) for p in inputs]
    request = BlendRequest(images=tuple(_read(p, settings, "image to blend") for p in paths),
                           instruction=instruction, aspect=aspect, size=size, names=tuple(p.name for p in paths))
    _run(settings, lambda: generate_to_file(settings, request, image_output_path(output), err))


@app.command()
def voices() -> None:
    """List the prebuilt voices and their character."""
    table = Table("voice", "character", title="Gemini prebuilt voices")
    for v in VOICES:
        table.add_row(v.name, v.character)
    out.print(table)


for command in (run, worker, playground):  # long-running: bots/serve_cli.py
    app.command()(command)


@app.command()
def emulator(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    api_key: Annotated[str | None, typer.Option("--api-key", help="Accept only this key (default: any).")] = None,
    first_chunk_latency: Annotated[float, typer.Option(
        "--first-chunk-latency", min=0, help="Seconds from a streamed speech request to its first chunk.")] = 0.0,
    chunk_interval: Annotated[float, typer.Option(
        "--chunk-interval", min=0, help="Seconds between streamed speech chunks.")] = 0.0,
    chunk_seconds: Annotated[float, typer.Option(
        "--chunk-seconds", min=0.02, help="Seconds of audio in each streamed chunk.")] = 0.5,
    verbose: Verbose = False,
) -> None:
    """Serve a local Gemini REST emulator (for tests and development without a key)."""
    settings = _settings()
    setup_logging(settings, verbose)
    from emulator.app import serve
    from emulator.stream import Pacing

    pacing = Pacing(first_chunk_latency, chunk_interval, chunk_seconds)

    def ready(url: str) -> None:
        err.print(f"Gemini emulator on {url}\n  export STUDIOBOT_GEMINI_BASE_URL={url} GEMINI_API_KEY="
                  f"{'<the pinned key>' if api_key else 'anything'}", highlight=False)

    _run(settings, lambda: serve(host, port, api_key, on_ready=ready, pacing=pacing))


@app.command()
def doctor(
    online: Annotated[bool, typer.Option("--online", help="Also ask Discord and Slack whether they accept the "
                                                          "tokens.")] = False,
) -> None:
    """Check the configuration without starting anything: adapters, token shapes, ffmpeg, espeak, data."""
    settings = _settings()
    setup_logging(settings)
    from bots.doctor import diagnose

    checks = _run(settings, lambda: diagnose(settings, online=online))
    for check in checks:
        mark = "[green]ok[/]  " if check.ok else "[red]FAIL[/]"
        out.print(f"{mark} {check.name}: {check.detail}", highlight=False, soft_wrap=True)
    failed = [c.name for c in checks if not c.ok]
    if failed:
        err.print(f"[red]error:[/] {len(failed)} problem(s): {', '.join(failed)}", highlight=False)
        raise typer.Exit(1)


@app.command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="A small run (about a minute) of every figure.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the table.")] = False,
    docs: Annotated[bool, typer.Option("--docs", help="Also rewrite docs/performance.md and its plot.")] = False,
) -> None:
    """Measure the whole path under load (fake Discord and Slack, Gemini emulator), beside baselines."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "bench" / "run.py").is_file() or not (root / "tests" / "fakes").is_dir():
        err.print("[red]error:[/] studiobot bench runs from a source checkout (it drives the fakes in tests/)",
                  highlight=False)
        raise typer.Exit(2)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from bench.cli import main as run_bench

    try:
        run_bench(quick=quick, as_json=as_json, docs=docs)
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


def _read(path: Path, settings: Settings, what: str) -> bytes:
    """A regular file under the input cap; anything else ends the command with one line."""
    try:
        return read_regular(path, max_bytes=settings.max_input_bytes, what=what)
    except InputError as exc:
        raise _fail(exc.user_message) from None


def _usage(exc: UsageError) -> str:
    """Click's error in one line, with where to find help."""
    command = exc.ctx.command_path if exc.ctx is not None else "studiobot"
    return f"{' '.join(exc.format_message().split())} (see `{command} --help`)"


_SINGLE = {"--voice": "--voice", "--voice2": "--voice2", "--style": "--style", "--language": "--language",
           "--aspect": "--aspect", "--mask": "--mask", "-o": "--output", "--output": "--output", "--count": "--count",
           "--size": "--size"}


def _repeated(args: list[str]) -> str | None:
    """The first single-valued option given twice: click would silently keep the last one."""
    seen: set[str] = set()
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "--":
            break
        name, eq, _ = arg.partition("=")
        canonical = _SINGLE.get(name)
        if canonical is None:
            continue
        if canonical in seen:
            return canonical
        seen.add(canonical)
        skip = not eq
    return None


def main() -> None:
    # Like any Unix filter: when the reader of our output goes away (`| head`), exit quietly.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if (twice := _repeated(sys.argv[1:])) is not None:
        err.print(f"[red]error:[/] {twice} is given twice; keep one.", highlight=False)
        sys.exit(2)
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:
        exc.show()
        code = exc.exit_code
    except UsageError as exc:
        err.print(f"[red]error:[/] {escape(excerpt_line(_usage(exc)))}", highlight=False)
        code = exc.exit_code
    except ClickException as exc:
        err.print(f"[red]error:[/] {escape(excerpt_line(exc.format_message()))}", highlight=False)
        code = exc.exit_code
    except typer.Abort:
        err.print("interrupted")
        code = 130
    sys.exit(code if isinstance(code, int) else 0)


def excerpt_line(text: str) -> str:
    """Click quotes what the user typed (an unknown option, a bad value): keep it inert and on one line."""
    return inert(text)[:400]
