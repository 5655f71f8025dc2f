"""``studiobot run``, ``worker`` and ``playground``: the long-running commands, each until Ctrl+C or SIGTERM.

Everything heavy is imported inside the command, so ``studiobot --help`` stays quick.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Annotated, Any

import typer

from bots.logs import Verbose, setup_logging


def run(
    host: Annotated[str | None, typer.Option(help="Playground interface (default STUDIOBOT_PLAYGROUND_HOST).")]
    = None,
    port: Annotated[int | None, typer.Option(help="Playground port (default STUDIOBOT_PLAYGROUND_PORT, 8787). "
                                                  "Given, the playground starts beside the platforms.")] = None,
    with_workers: Annotated[bool, typer.Option("--with-workers", help="Scaled out (STUDIOBOT_DATABASE_URL): also "
                                               "run jobs here, not only take events.")] = False,
    verbose: Verbose = False,
) -> None:
    """Start every configured adapter, sharing one studio and journal."""
    from bots.cli import _run, _settings, err

    settings = _settings()
    setup_logging(settings, verbose)
    from bots.run import configured, make_playground, run_forever

    def go() -> Coroutine[Any, Any, None]:
        if host is None and port is None:
            return run_forever(settings, err, with_workers=with_workers)
        playground = make_playground(settings, host=host, port=port)
        return run_forever(settings, err, adapters=[*configured(settings, err), playground],
                           with_workers=with_workers)

    _run(settings, go)


def worker(
    concurrency: Annotated[int | None, typer.Option(min=1, max=256, help="Jobs at a time (default "
                                                    "STUDIOBOT_SPEECH_WORKERS + STUDIOBOT_IMAGE_WORKERS).")] = None,
    kinds: Annotated[str, typer.Option(help="Which jobs to take: speech, image, or both.")] = "speech,image",
    verbose: Verbose = False,
) -> None:
    """Run jobs from the shared PostgreSQL queue (STUDIOBOT_DATABASE_URL), on any machine."""
    from bots.cli import _run, _settings, err

    settings = _settings()
    setup_logging(settings, verbose)
    from bots.worker import parse_kinds, work_forever

    def go() -> Coroutine[Any, Any, None]:
        size = concurrency or settings.speech_workers + settings.image_workers
        return work_forever(settings, err, concurrency=size, kinds=parse_kinds(kinds))

    _run(settings, go)


def playground(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default STUDIOBOT_PLAYGROUND_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default STUDIOBOT_PLAYGROUND_PORT, 8787).")] = None,
    allow_remote: Annotated[bool, typer.Option("--allow-remote", help="Allow binding beyond localhost.")] = False,
    token: Annotated[str | None, typer.Option(help="Access token (required with --allow-remote).")] = None,
    verbose: Verbose = False,
) -> None:
    """Serve only the local web playground."""
    from bots.cli import _run, _settings, err

    settings = _settings()
    setup_logging(settings, verbose)
    from bots.run import make_playground, run_forever

    def go() -> Coroutine[Any, Any, None]:
        pg = make_playground(settings, host=host, port=port, token=token, allow_remote=allow_remote or None)
        return run_forever(settings, err, adapters=[pg])

    _run(settings, go)
