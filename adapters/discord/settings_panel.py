"""``/studio settings``: a server's rules as select menus, for members with Manage Server.

Hidden from everyone else by the group's default member permissions, and checked again on every use
(server admins can override who sees a command). Every change is saved at once and the panel redrawn.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, cast

import discord
from discord import app_commands, ui

from adapters.discord.services import PLATFORM, services
from core.community.model import KINDS, Limits, ServerSettings
from core.voices import VOICES

NONE = discord.AllowedMentions.none()
NEEDS = "You need the Manage Server permission to change the bot's settings."
PICKER_VOICES = VOICES[:25]  # Discord menus hold 25 options
Change = Callable[[ServerSettings], ServerSettings]

studio = app_commands.Group(name="studio", description="Server settings for the bot",
                            default_permissions=discord.Permissions(manage_guild=True), guild_only=True)


def manages(interaction: discord.Interaction) -> bool:
    perms = interaction.permissions
    return perms.manage_guild or perms.administrator


def _list(ids: tuple[str, ...], sigil: str) -> str:
    return ", ".join(f"<{sigil}{i}>" for i in ids) if ids else "everywhere" if sigil == "#" else "everyone"


def summary(s: ServerSettings, command: str | None) -> str:
    lines = ["**Studio settings for this server** (changes apply at once)"]
    for kind in KINDS if command is None else (command,):
        r = s.rules(kind)
        state = "on" if r.enabled else "**off**"
        lines.append(f"/{kind}: {state} · channels: {_list(r.channels, '#')} · roles: {_list(r.roles, '@&')}")
    lines.append(f"Default voice: {s.default_voice or 'Kore'} · aspect: {s.default_aspect or '1:1'} · "
                 f"voice messages: {'on' if s.voice_message else 'off'}")
    own = [f"{k.replace('_', ' ')} {v}" for k, v in dataclasses.asdict(s.limits).items() if v is not None]
    lines.append(f"Blocked words: {len(s.blocklist)} · limits: {', '.join(own) or 'the bot defaults'}")
    return "\n".join(lines)


class Panel(ui.View):
    """The settings panel of one server; ``command`` narrows channels and roles to one command."""

    def __init__(self, s: ServerSettings, command: str | None) -> None:
        super().__init__(timeout=900)
        self.command = command
        kinds = KINDS if command is None else (command,)
        self.kinds = kinds
        cast("ui.Select[Panel]", self.enabled).options = [
            discord.SelectOption(label=f"/{k}", value=k, default=s.rules(k).enabled) for k in KINDS]
        target = f"/{command}" if command else "every command"
        first = s.rules(kinds[0])
        shared = all(s.rules(k) == first for k in kinds)
        self.channels.placeholder = f"Channels for {target} (none = everywhere)"
        self.roles.placeholder = f"Roles for {target} (none = everyone)"
        if shared:
            self.channels.default_values = [discord.Object(int(c), type=discord.abc.GuildChannel)
                                            for c in first.channels if c.isdigit()]
            self.roles.default_values = [discord.Object(int(r), type=discord.Role) for r in first.roles if r.isdigit()]
        cast("ui.Select[Panel]", self.voice).options = [
            discord.SelectOption(label=v.name, description=v.character, value=v.name, default=v.name == s.default_voice)
            for v in PICKER_VOICES]
        self.voice_message.label = f"Voice messages: {'on' if s.voice_message else 'off'}"

    async def _apply(self, interaction: discord.Interaction, change: Change) -> None:
        if not manages(interaction) or interaction.guild_id is None:
            await interaction.response.send_message(NEEDS, ephemeral=True)
            return
        new = await services(interaction.client).core.community.update(PLATFORM, str(interaction.guild_id), change)
        await interaction.response.edit_message(content=summary(new, self.command), view=Panel(new, self.command),
                                                allowed_mentions=NONE)

    @ui.select(placeholder="Commands that are on", min_values=0, max_values=len(KINDS), row=0)
    async def enabled(self, interaction: discord.Interaction, select: ui.Select[Panel]) -> None:
        on = set(select.values)

        def change(s: ServerSettings) -> ServerSettings:
            for kind in KINDS:
                s = s.with_rules(kind, enabled=kind in on)
            return s

        await self._apply(interaction, change)

    @ui.select(cls=ui.ChannelSelect, channel_types=[discord.ChannelType.text, discord.ChannelType.public_thread],
               min_values=0, max_values=25, row=1)
    async def channels(self, interaction: discord.Interaction, select: ui.ChannelSelect[Panel]) -> None:
        chosen = tuple(str(c.id) for c in select.values)
        await self._apply(interaction, lambda s: self._each(s, channels=chosen))

    @ui.select(cls=ui.RoleSelect, min_values=0, max_values=25, row=2)
    async def roles(self, interaction: discord.Interaction, select: ui.RoleSelect[Panel]) -> None:
        chosen = tuple(str(r.id) for r in select.values)
        await self._apply(interaction, lambda s: self._each(s, roles=chosen))

    @ui.select(placeholder="Default voice for /speak", min_values=1, max_values=1, row=3)
    async def voice(self, interaction: discord.Interaction, select: ui.Select[Panel]) -> None:
        await self._apply(interaction, lambda s: dataclasses.replace(s, default_voice=select.values[0]))

    @ui.button(label="Voice messages", style=discord.ButtonStyle.secondary, row=4)
    async def voice_message(self, interaction: discord.Interaction, button: ui.Button[Panel]) -> None:
        await self._apply(interaction, lambda s: dataclasses.replace(s, voice_message=not s.voice_message))

    @ui.button(label="Blocked words…", style=discord.ButtonStyle.secondary, row=4)
    async def blocklist(self, interaction: discord.Interaction, button: ui.Button[Panel]) -> None:
        if not manages(interaction) or interaction.guild_id is None:
            await interaction.response.send_message(NEEDS, ephemeral=True)
            return
        s = await services(interaction.client).core.community.server(PLATFORM, str(interaction.guild_id))
        await interaction.response.send_modal(BlocklistModal(s, self.command))

    @ui.button(label="Limits…", style=discord.ButtonStyle.secondary, row=4)
    async def limits(self, interaction: discord.Interaction, button: ui.Button[Panel]) -> None:
        if not manages(interaction) or interaction.guild_id is None:
            await interaction.response.send_message(NEEDS, ephemeral=True)
            return
        s = await services(interaction.client).core.community.server(PLATFORM, str(interaction.guild_id))
        await interaction.response.send_modal(LimitsModal(s, self.command))

    def _each(self, s: ServerSettings, **changes: Any) -> ServerSettings:
        for kind in self.kinds:
            s = s.with_rules(kind, **changes)
        return s


class BlocklistModal(ui.Modal, title="Blocked words"):
    words: ui.TextInput[BlocklistModal] = ui.TextInput(
        label="One word or phrase per line", style=discord.TextStyle.paragraph, required=False, max_length=4000)

    def __init__(self, s: ServerSettings, command: str | None) -> None:
        super().__init__()
        self.command = command
        self.words.default = "\n".join(s.blocklist)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        terms = tuple(dict.fromkeys(t.strip() for t in self.words.value.splitlines() if t.strip()))
        await Panel(ServerSettings(), self.command)._apply(
            interaction, lambda s: dataclasses.replace(s, blocklist=terms))


LIMIT_FIELDS = (("user_per_minute", "Requests per member per minute"), ("user_per_day", "Requests per member per day"),
                ("server_per_day", "Requests per server per day"), ("user_cost_per_day", "USD per member per day"),
                ("server_cost_per_day", "USD per server per day"))


class LimitsModal(ui.Modal, title="Limits (blank = the bot's default, 0 = none)"):
    def __init__(self, s: ServerSettings, command: str | None) -> None:
        super().__init__()
        self.command = command
        self.inputs: dict[str, ui.TextInput[LimitsModal]] = {}
        for name, label in LIMIT_FIELDS:
            value = getattr(s.limits, name)
            field: ui.TextInput[LimitsModal] = ui.TextInput(label=label, required=False, max_length=10,
                                                            default="" if value is None else str(value))
            self.inputs[name] = field
            self.add_item(field)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        values: dict[str, float | int | None] = {}
        labels = dict(LIMIT_FIELDS)
        for name, field in self.inputs.items():
            raw = field.value.strip().lstrip("$")
            try:
                number = None if not raw else float(raw) if "cost" in name else int(raw)
            except ValueError:
                await interaction.response.send_message(f"“{labels[name]}” needs a number.", ephemeral=True)
                return
            if number is not None and number < 0:
                await interaction.response.send_message(f"“{labels[name]}” can't be negative.", ephemeral=True)
                return
            values[name] = number
        limits = dataclasses.replace(Limits(), **values)  # type: ignore[arg-type]
        await Panel(ServerSettings(), self.command)._apply(
            interaction, lambda s: dataclasses.replace(s, limits=dataclasses.replace(
                limits, server_per_minute=s.limits.server_per_minute)))


@studio.command(name="settings", description="Who may use which command where, defaults, blocked words, limits.")
@app_commands.describe(command="Set channels and roles for one command only")
@app_commands.choices(command=[app_commands.Choice(name=f"/{k}", value=k) for k in KINDS])
async def settings(interaction: discord.Interaction, command: app_commands.Choice[str] | None = None) -> None:
    if not manages(interaction) or interaction.guild_id is None:
        await interaction.response.send_message(NEEDS, ephemeral=True)
        return
    s = await services(interaction.client).core.community.server(PLATFORM, str(interaction.guild_id))
    kind = command.value if command else None
    await interaction.response.send_message(summary(s, kind), view=Panel(s, kind), ephemeral=True,
                                            allowed_mentions=NONE)
