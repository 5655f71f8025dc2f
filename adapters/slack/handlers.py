"""Slash commands and mentions: ``/speak``, ``/imagine`` and "@studiobot make it night" in an image's thread."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from adapters.slack.flow import Flow, dedupe_key, origin_of, requester_of
from adapters.slack.references import References
from adapters.slack.sources import files_of, first_image
from adapters.slack.text import escape, plain, without_mention
from core.commands import Help, parse_edit, parse_imagine, parse_speak
from core.errors import InputError, StudioError
from core.requests import ImagineRequest, SpeakRequest

MENTION_HELP = ("Mention me in the thread of an image with what to change (e.g. make it night), "
                "or use /speak and /imagine. Try /speak help or /imagine help.")
DM_HELP = ("Send me an image with what to change (e.g. make it night), or use /speak and /imagine here. "
           "Try /speak help or /imagine help.")
_USER_POSTS = (None, "file_share", "thread_broadcast")


SPEECH_FORMAT = "mp3"  # Slack's inline player plays MP3/M4A, not Ogg Opus; --format ogg|wav still works


def _parse(command: str, text: str) -> SpeakRequest | ImagineRequest | Help:
    return parse_speak(text, default_format=SPEECH_FORMAT) if command == "speak" else parse_imagine(text)


class Commands:
    def __init__(self, flow: Flow, references: References) -> None:
        self.flow = flow
        self.references = references

    def register(self, app: AsyncApp) -> None:
        app.command("/speak")(self.on_command)
        app.command("/imagine")(self.on_command)
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)

    async def on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        """Ack at once (help, a refusal, or "working on it"), then queue the job."""
        name = str(command.get("command", "")).lstrip("/")
        try:
            parsed = _parse(name, plain(str(command.get("text", ""))))
        except StudioError as err:
            await ack(escape(err.user_message))
            return
        if isinstance(parsed, Help):
            await ack(escape(parsed.text))
            return
        channel, thread = str(command.get("channel_id", "")), command.get("thread_ts") or None
        origin = origin_of(command.get("team_id"), channel, thread=thread, response_url=command.get("response_url"))
        requester = requester_of(str(command.get("user_id", "")), str(command.get("user_name", "")))
        key = dedupe_key("trigger", str(command.get("trigger_id")))
        if isinstance(parsed, ImagineRequest) and thread:
            await ack()  # whether the thread has an image is looked up after Bolt answered
            await self.references.offer_or_submit(parsed, requester, origin, key)
            return
        await ack()  # Bolt answers Slack now; a visible status follows from the job's first progress
        await self.flow.submit(parsed, requester, origin, key=key)

    async def on_mention(self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        """A mention on or under an image is an edit: the mention's words are the instruction."""
        await self._edit(event, body, context, without_mention(str(event.get("text", "")), context.bot_user_id))

    async def on_message(self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext) -> None:
        """Remember shared files (no history call later); in a DM with the bot, words are an edit."""
        if event.get("files"):
            self.flow.sources.remember(str(event.get("channel", "")), event)
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype") not in _USER_POSTS:
            return
        text = plain(str(event.get("text", "")))
        if text:  # an image alone waits for the words that say what to change
            await self._edit(event, body, context, text, dm=True)

    async def _edit(self, event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, text: str, *,
                    dm: bool = False) -> None:
        key = dedupe_key("event", str(body.get("event_id", "")))
        if not await self.flow.first_delivery(key):
            return
        channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
        thread = event.get("thread_ts")
        # in a channel the edit answers in the thread; in a DM, where the words were written
        origin = origin_of(body.get("team_id") or context.team_id, channel, thread=thread if dm else thread or ts,
                           message=ts)
        client = self.flow.client(origin.workspace)
        user = str(event.get("user", ""))
        sources, studio = self.flow.sources, self.flow.studio
        try:
            request = parse_edit(text, b"")  # the words first: a typo costs no download
            if isinstance(request, Help):
                await self.flow.tell(origin, user, escape(request.text))
                return
            image = first_image(files_of(event))
            if image is not None:
                source = await sources.for_file(studio, client, image)
            elif thread:
                source = await sources.for_thread(studio, client, channel, str(thread))
            elif dm and (latest := await sources.latest_in(studio, client, channel)) is not None:
                source = latest
            else:
                raise InputError(DM_HELP if dm else MENTION_HELP)
        except StudioError as err:
            await self.flow.refuse(origin, user, err)
            return
        request = parse_edit(text, source.image)
        assert not isinstance(request, Help)
        await self.flow.submit(request, requester_of(user), origin, key=key, parent_id=source.parent_id)
