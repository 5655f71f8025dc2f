"""Reply-to-image edits: reply to a picture and @mention the bot with what to change.

Works without the privileged message-content intent: a message that mentions the bot arrives with
its text, and the bot's own results arrive whole, so edits of results chain. Someone else's picture
is only visible with the intent; otherwise the user is pointed to the "Edit image" menu.
"""

from __future__ import annotations

import logging
import re

import discord

from adapters.discord.flow import explain, requester_of
from adapters.discord.reply import NONE, ChannelReply
from adapters.discord.services import PLATFORM, services
from adapters.discord.sources import fetch, image_in
from core.errors import StudioError
from core.requests import EditRequest, Origin

log = logging.getLogger(__name__)

HOW = "Reply to a picture, mention me and say what to change, e.g. “@Studiobot make it night”."
CANT_SEE = ("I can't see an image in that message. Right-click it (or long-press) → Apps → **Edit image** "
            "to edit any picture.")


def instruction_of(message: discord.Message, bot_id: int) -> str:
    return re.sub(rf"<@!?{bot_id}>", " ", message.content).strip()


async def _referenced(message: discord.Message) -> discord.Message | None:
    ref = message.reference
    if ref is None or ref.message_id is None:
        return None
    if isinstance(ref.resolved, discord.Message):
        return ref.resolved
    try:
        return await message.channel.fetch_message(ref.message_id)
    except discord.HTTPException:
        return None


async def on_message(client: discord.Client, message: discord.Message) -> None:
    me = client.user
    if me is None or message.author.bot or message.reference is None or me not in message.mentions:
        return
    target = await _referenced(message)
    if target is None:
        return
    text = instruction_of(message, me.id)
    if not text:
        await message.reply(HOW, allowed_mentions=NONE, mention_author=False)
        return
    try:
        source = await image_in(client, target)
        if source is None:
            await message.reply(CANT_SEE, allowed_mentions=NONE, mention_author=False)
            return
        image, parent = await fetch(client, source)
        limit = message.guild.filesize_limit if message.guild else None
        request = EditRequest(image=image, instruction=text, max_bytes=limit)
        origin = Origin(PLATFORM, workspace=str(message.guild.id) if message.guild else None,
                        channel=str(message.channel.id), message=str(message.id), meta={"kind": "edit"})
        requester = requester_of(message.author)
        reply = ChannelReply(client, "edit", live=True, limit=limit)
        await services(client).core.submit(request, requester, origin, parent_id=parent, reply=reply,
                                           dedupe_key=f"discord:m:{message.id}")
    except StudioError as err:
        await message.reply(explain(err).user_message, allowed_mentions=NONE, mention_author=False)
