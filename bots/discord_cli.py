"""``studiobot discord``: sync the slash commands, print the invite link."""

from __future__ import annotations

from typing import Annotated

import typer

discord_app = typer.Typer(name="discord", help="Discord chores: register commands, invite the bot.",
                          no_args_is_help=True)


@discord_app.command()
def sync(
    guild: Annotated[int | None, typer.Option("--guild", help="Sync to one server only (instant; for testing).")]
    = None,
) -> None:
    """Register /speak, /imagine, /edit and the Edit image menu with Discord."""
    from adapters.discord.manage import sync_commands
    from bots.cli import _run, _settings, out

    settings = _settings()
    names = _run(settings, lambda: sync_commands(settings, guild))
    where = f"server {guild}" if guild else "all servers (global commands can take up to an hour to appear)"
    out.print(f"Synced {len(names)} commands to {where}: {', '.join(names)}", highlight=False)


@discord_app.command()
def invite(
    client_id: Annotated[int | None, typer.Option("--client-id", help="Application id (default: from the token).")]
    = None,
) -> None:
    """Print the link that adds the bot to a server, with exactly the permissions it uses."""
    from adapters.discord.manage import client_id_from_token, invite_url
    from bots.cli import _settings, err, out
    from core.errors import StudioError

    if client_id is None:
        settings = _settings()
        if settings.discord_token is None:
            err.print("[red]error:[/] set DISCORD_TOKEN or pass --client-id", highlight=False)
            raise typer.Exit(1)
        try:
            client_id = client_id_from_token(settings.discord_token.get_secret_value())
        except StudioError as exc:
            err.print(f"[red]error:[/] {exc.user_message}", highlight=False)
            raise typer.Exit(1) from None
    out.print(invite_url(client_id), highlight=False, soft_wrap=True)
