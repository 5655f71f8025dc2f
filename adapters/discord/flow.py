"""From an interaction to a submitted job: defer first (the 3 s deadline), then fetch, build and submit."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping

import discord

from adapters.discord.reply import InteractionReply, play_live
from adapters.discord.services import PLATFORM, services
from core.errors import QuotaExceeded, StudioError
from core.jobs.model import Job
from core.requests import Origin, Request, Requester, SpeakRequest

log = logging.getLogger(__name__)

Build = Callable[[], Awaitable[tuple[Request, str | None]]]  # the request, and its parent job if any


def requester_of(user: discord.abc.User, permissions: discord.Permissions | None = None) -> Requester:
    """Who asked, with their roles (per-command role rules) and whether they manage the server (no quotas)."""
    roles = tuple(str(r.id) for r in user.roles) if isinstance(user, discord.Member) else ()
    if permissions is None and isinstance(user, discord.Member):
        permissions = user.guild_permissions
    admin = permissions is not None and (permissions.manage_guild or permissions.administrator)
    return Requester(PLATFORM, str(user.id), user.display_name, roles=roles, admin=admin)


def discord_time(at: float) -> str:
    """A timestamp each member's client shows in their own time zone, relative ("in 3 hours")."""
    return f"<t:{int(at)}:R>"


def explain(err: StudioError) -> StudioError:
    """Put a quota's reset time in Discord's own timestamp syntax."""
    if isinstance(err, QuotaExceeded):
        err.user_message = err.render(discord_time)
    return err


async def start(interaction: discord.Interaction, kind: str, build: Build, *,
                reply_to: discord.Message | None = None, options: Mapping[str, bool] | None = None) -> Job | None:
    """Defer, then run ``build`` (downloads, checks) and submit; refusals reach only the requester."""
    try:
        response = await interaction.response.defer(thinking=True)
    except (discord.InteractionResponded, discord.HTTPException):
        log.info("interaction %s was already answered or expired; not starting it again", interaction.id)
        return None
    reply = InteractionReply(interaction.client, interaction, kind, reply_to=reply_to.id if reply_to else None)
    anchor = reply_to.id if reply_to else (response.message_id if response is not None else None)
    # Never the interaction token: the journal holds no secrets, so after a restart results go to the channel.
    meta = {"at": f"{time.time():.0f}", "kind": kind}
    if response is not None and response.message_id:
        meta["placeholder"] = str(response.message_id)  # the "thinking…" a late result removes
    meta |= {name: "1" for name, on in (options or {}).items() if on}
    origin = Origin(PLATFORM, workspace=str(interaction.guild_id) if interaction.guild_id else None,
                    channel=str(interaction.channel_id) if interaction.channel_id else None,
                    message=str(anchor) if anchor else None, meta=meta)
    try:
        request, parent_id = await build()
        job = await services(interaction.client).core.submit(
            request, requester_of(interaction.user, interaction.permissions), origin, parent_id=parent_id, reply=reply,
            dedupe_key=f"discord:i:{interaction.id}")
    except StudioError as err:
        await reply.reject(explain(err))
        return None
    if origin.meta.get("play") and isinstance(request, SpeakRequest):
        await play_live(interaction.client, job)  # from the first chunk, not the finished file
    return job
