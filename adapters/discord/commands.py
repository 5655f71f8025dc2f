"""Slash commands and the "Edit image" message menu: translate options into requests, nothing more."""

from __future__ import annotations

import dataclasses
from typing import Any

import discord
from discord import app_commands

from adapters.discord import community, flow, settings_panel
from adapters.discord.modals import EditModal
from adapters.discord.services import PLATFORM, services
from adapters.discord.sources import image_in, read_attachment
from core.community.model import ServerSettings
from core.errors import StudioError
from core.requests import IMAGE_SIZES, BlendRequest, EditRequest, ImagineRequest, Request, Speaker, SpeakRequest
from core.voices import DEFAULT_VOICE, dialogue_speakers

ASPECTS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9")
NO_IMAGE = "That message has no image I can see. Pick a message with an attached or embedded picture."


async def _server(interaction: discord.Interaction) -> ServerSettings:
    """This server's settings (defaults where there is none, or the studio is still starting)."""
    studio = services(interaction.client).studio
    if studio is None or interaction.guild_id is None:
        return ServerSettings()
    return await studio.community.server(PLATFORM, str(interaction.guild_id))


async def voice_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Voices whose name or character matches what was typed so far (Discord shows at most 25)."""
    needle = current.strip().lower()
    voices = services(interaction.client).core.voices()
    found = [v for v in voices if needle in v.name.lower() or needle in v.character.lower()]
    return [app_commands.Choice(name=f"{v.name} — {v.character}", value=v.name) for v in found[:25]]


@app_commands.command(name="speak", description="Turn text into speech. `Name: line` lines make a dialogue.")
@app_commands.describe(text="What to say; lines like `Ann: hi` with two names become a two-voice dialogue",
                       voice="The voice (or the first speaker's)", style='How to say it, e.g. "warm and slow"',
                       voice2="The second speaker's voice in a dialogue", play="Also play it in your voice channel",
                       as_voice_message="Post it as a Discord voice message")
@app_commands.autocomplete(voice=voice_choices, voice2=voice_choices)
async def speak(interaction: discord.Interaction, text: str, voice: str | None = None, style: str | None = None,
                voice2: str | None = None, play: bool | None = None, as_voice_message: bool | None = None) -> None:
    server = await _server(interaction)
    options = {"play": server.play if play is None else play,
               "voice_message": server.voice_message if as_voice_message is None else as_voice_message}

    async def build() -> tuple[Request, str | None]:
        first = voice or server.default_voice or DEFAULT_VOICE
        speakers = tuple(Speaker(n, v) for n, v in dialogue_speakers(text, first, voice2))
        return SpeakRequest(text=text, voice=first, style=style, speakers=speakers,
                            max_bytes=interaction.filesize_limit), None

    await flow.start(interaction, "speak", build, options=options)


@app_commands.command(name="imagine", description="Draw a picture from a prompt, or a grid of up to four.")
@app_commands.describe(prompt="What to draw", aspect="Shape of the picture", image="A picture to guide it",
                       count="How many candidates (1-4); 2-4 come as one numbered grid with U and V buttons",
                       size="Output size: 512, 1K, 2K or 4K (what the model offers)")
@app_commands.choices(aspect=[app_commands.Choice(name=a, value=a) for a in ASPECTS],
                      size=[app_commands.Choice(name=s, value=s) for s in IMAGE_SIZES])
async def imagine(interaction: discord.Interaction, prompt: str, aspect: app_commands.Choice[str] | None = None,
                  image: discord.Attachment | None = None, count: app_commands.Range[int, 1, 4] | None = None,
                  size: app_commands.Choice[str] | None = None) -> None:
    limit = interaction.filesize_limit
    server = await _server(interaction)

    async def build() -> tuple[Request, str | None]:
        refs = (await read_attachment(interaction.client, image, "attached image"),) if image else ()
        return ImagineRequest(prompt=prompt, aspect=aspect.value if aspect else server.default_aspect,
                              references=refs, max_bytes=limit, count=count, size=size.value if size else None), None

    await flow.start(interaction, "imagine", build)


@app_commands.command(name="blend", description="Blend 2-5 pictures into one.")
@app_commands.describe(image1="The first picture", image2="The second picture", image3="A third picture",
                       image4="A fourth picture", image5="A fifth picture",
                       instruction='Optional, e.g. "the cat from the first in the style of the second"',
                       aspect="Shape of the result", size="Output size: 512, 1K, 2K or 4K")
@app_commands.choices(aspect=[app_commands.Choice(name=a, value=a) for a in ASPECTS],
                      size=[app_commands.Choice(name=s, value=s) for s in IMAGE_SIZES])
async def blend(interaction: discord.Interaction, image1: discord.Attachment, image2: discord.Attachment,
                image3: discord.Attachment | None = None, image4: discord.Attachment | None = None,
                image5: discord.Attachment | None = None, instruction: str | None = None,
                aspect: app_commands.Choice[str] | None = None,
                size: app_commands.Choice[str] | None = None) -> None:
    limit = interaction.filesize_limit
    attachments = [a for a in (image1, image2, image3, image4, image5) if a is not None]

    async def build() -> tuple[Request, str | None]:
        inputs = [await read_attachment(interaction.client, a, f"image {n}") for n, a in enumerate(attachments, 1)]
        return BlendRequest(images=tuple(inputs), instruction=instruction or "", names=tuple(
            a.filename for a in attachments), aspect=aspect.value if aspect else None,
            size=size.value if size else None, max_bytes=limit), None

    await flow.start(interaction, "blend", build)


@app_commands.command(name="edit", description="Change a picture with an instruction.")
@app_commands.describe(image="The picture to change", instruction="What to change",
                       mask="Optional mask for Vary (region): white = change, black = keep")
async def edit(interaction: discord.Interaction, image: discord.Attachment, instruction: str,
               mask: discord.Attachment | None = None) -> None:
    limit = interaction.filesize_limit

    async def build() -> tuple[Request, str | None]:
        source = await read_attachment(interaction.client, image)
        painted = await read_attachment(interaction.client, mask, "mask") if mask else None
        return EditRequest(image=source, instruction=instruction, mask=painted, max_bytes=limit), None

    await flow.start(interaction, "edit", build)


async def edit_image(interaction: discord.Interaction, message: discord.Message) -> None:
    """Message menu → Apps → Edit image: works on any message, no message-content intent needed."""
    try:
        source = await image_in(interaction.client, message)
    except StudioError as err:  # an attachment too large to fetch
        await interaction.response.send_message(err.user_message, ephemeral=True)
        return
    if source is None:
        await interaction.response.send_message(NO_IMAGE, ephemeral=True)
        return
    await interaction.response.send_modal(EditModal(source, reply_to=message))


@app_commands.command(name="studiobot-defaults", description="Server defaults for /speak.")
@app_commands.describe(voice_message="Post speech as voice messages by default",
                       play="Play speech in the caller's voice channel by default")
@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
async def defaults(interaction: discord.Interaction, voice_message: bool | None = None,
                   play: bool | None = None) -> None:
    assert interaction.guild_id is not None
    def change(s: ServerSettings) -> ServerSettings:
        return dataclasses.replace(s, voice_message=s.voice_message if voice_message is None else voice_message,
                                   play=s.play if play is None else play)

    server = await services(interaction.client).core.community.update(PLATFORM, str(interaction.guild_id), change)
    now = f"voice message: {'on' if server.voice_message else 'off'}, play: {'on' if server.play else 'off'}"
    await interaction.response.send_message(f"Defaults for /speak here — {now}.", ephemeral=True)


def add_commands(tree: app_commands.CommandTree[discord.Client]) -> None:
    commands: tuple[app_commands.Command[Any, Any, None], ...] = (speak, imagine, blend, edit, defaults)
    for command in commands:
        tree.add_command(command)
    for extra in community.COMMANDS:
        tree.add_command(extra)
    tree.add_command(settings_panel.studio)
    tree.add_command(app_commands.ContextMenu(name="Edit image", callback=edit_image))

