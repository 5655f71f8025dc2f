"""/usage, /history and /forget-me: a member's own records, always ephemeral.

Pages and the forget confirmation keep their state in the custom id, so they work after a restart.
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands, ui

from adapters.discord.buttons import RetryButton
from adapters.discord.flow import discord_time, requester_of
from adapters.discord.services import PLATFORM, services
from core.community import reports
from core.jobs.model import Job

NONE = discord.AllowedMentions.none()
PER_PAGE = 5
TOP_MEMBERS = 15
Button = ui.Button[ui.View]


def _member(column: str, value: str) -> str:
    return f"<@{value}>" if column == "user_id" else value


def _lines(rows: list[tuple[str, ...]]) -> str:
    """``who · 3 requests · $0.12`` per row (Discord has no tables)."""
    return "\n".join(f"{row[0]} · {row[-5]} requests · {row[-1]}" for row in rows)


@app_commands.command(name="usage", description="What you've used today and what's left (admins: the server's).")
async def usage(interaction: discord.Interaction) -> None:
    studio = services(interaction.client).core
    requester = requester_of(interaction.user, interaction.permissions)
    guild = str(interaction.guild_id) if interaction.guild_id else None
    text = reports.allowance(await studio.community.allowance(requester, guild), discord_time)
    if requester.admin and guild:
        by_member = await studio.community.usage(platform=PLATFORM, workspace=guild, by=("user_id",))
        by_kind = await studio.community.usage(platform=PLATFORM, workspace=guild, by=("kind",))
        if by_member:
            text += ("\n\n**This server today, by member**\n"
                     + _lines(reports.table(by_member, ("user_id",), name=_member, top=TOP_MEMBERS))
                     + "\n\n**By kind**\n" + _lines(reports.table(by_kind, ("kind",))))
        else:
            text += "\n\nNobody on this server has used the bot today."
    await interaction.response.send_message(text[:2000], ephemeral=True, allowed_mentions=NONE)


def _jump(job: Job) -> str | None:
    if not (job.delivered_ref and job.delivered_ref.isdigit() and job.origin.channel):
        return None
    return f"https://discord.com/channels/{job.origin.workspace or '@me'}/{job.origin.channel}/{job.delivered_ref}"


async def history_page(interaction: discord.Interaction, page: int) -> tuple[str, ui.View]:
    studio = services(interaction.client).core
    found = await studio.history(requester_of(interaction.user), page=page, per_page=PER_PAGE)
    view = ui.View(timeout=None)
    if not found.jobs:
        return "You have no results yet. Try /imagine or /speak.", view
    lines = []
    for n, job in enumerate(found.jobs, start=1):
        link = _jump(job)
        when = f"<t:{int(job.created_at)}:R>"
        lines.append(f"**{n}.** {reports.entry(job)} · {when}" + (f" · [jump]({link})" if link else ""))
        retry = RetryButton(job.id, row=0)
        retry.item.label = f"Retry {n}"
        view.add_item(retry)
    if found.page > 0:
        view.add_item(HistoryButton(found.page - 1, "◀ Newer"))
    if found.page < found.pages - 1:
        view.add_item(HistoryButton(found.page + 1, "Older ▶"))
    head = f"Your results, newest first (page {found.page + 1} of {found.pages}, {found.total} in all):"
    return "\n".join([head, *lines])[:2000], view


class HistoryButton(ui.DynamicItem[Button], template=r"sb:hist:(?P<page>\d{1,5})"):
    def __init__(self, page: int, label: str = "") -> None:
        super().__init__(ui.Button(label=label or f"Page {page + 1}", style=discord.ButtonStyle.secondary, row=1,
                                   custom_id=f"sb:hist:{page}"))
        self.page = page

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[ui.View],
                             match: re.Match[str]) -> HistoryButton:
        return cls(int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        content, view = await history_page(interaction, self.page)  # the clicker's own history, always
        await interaction.response.edit_message(content=content, view=view, allowed_mentions=NONE)


@app_commands.command(name="history", description="Your recent results, with links and Retry.")
async def history(interaction: discord.Interaction) -> None:
    content, view = await history_page(interaction, 0)
    await interaction.response.send_message(content, view=view, ephemeral=True, allowed_mentions=NONE)


FORGET_ASK = ("This deletes every result, upload and usage record I keep about you, on every server. "
              "Messages already posted stay (delete them with their Delete buttons first if you want). Sure?")


class ForgetButton(ui.DynamicItem[Button], template=r"sb:forget:(?P<user>\d{1,20})"):
    def __init__(self, user_id: int) -> None:
        super().__init__(ui.Button(label="Delete everything", style=discord.ButtonStyle.danger,
                                   custom_id=f"sb:forget:{user_id}"))
        self.user_id = user_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[ui.View],
                             match: re.Match[str]) -> ForgetButton:
        return cls(int(match["user"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            await interaction.response.send_message("Only the member who asked can confirm this.", ephemeral=True)
            return
        await interaction.response.defer()
        count = await services(interaction.client).core.forget(PLATFORM, str(self.user_id))
        await interaction.edit_original_response(
            content=f"Done: {count} result{'s' if count != 1 else ''} and everything stored about you deleted.",
            view=None)


@app_commands.command(name="forget-me", description="Delete everything the bot keeps about you (asks first).")
async def forget_me(interaction: discord.Interaction) -> None:
    view = ui.View(timeout=None)
    view.add_item(ForgetButton(interaction.user.id))
    await interaction.response.send_message(FORGET_ASK, view=view, ephemeral=True)


COMMANDS: tuple[app_commands.Command[Any, Any, None], ...] = (usage, history, forget_me)
DYNAMIC = (HistoryButton, ForgetButton)
