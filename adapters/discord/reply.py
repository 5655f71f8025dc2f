"""Delivery to Discord: a live interaction's original response, or a channel message when that is gone.

Every message sets ``allowed_mentions`` to none, so a prompt echoed in a caption can never ping anyone.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from io import BytesIO
from typing import Any

import discord
from discord.http import Route

from adapters.discord import ledger
from adapters.discord.buttons import progress_view, result_view
from adapters.discord.captions import caption, filename, progress_text
from adapters.discord.services import DEFAULT_UPLOAD_LIMIT, services
from adapters.discord.voice import VoiceChannel, VoiceUnavailable
from core.creative import buttons_for
from core.errors import StudioError
from core.jobs.delivery import DeliveryRefused
from core.jobs.model import Job, JobState, Progress
from core.media import audio
from core.results import AudioClip, Result

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
VOICE_MESSAGE_FLAG = 1 << 13
TOKEN_MARGIN = dt.timedelta(minutes=1)  # interaction tokens live 15 minutes; don't cut it close
Put = Callable[[str, discord.File | None, discord.ui.View], Awaitable[int]]


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def _flag(job: Job, name: str) -> bool:
    return job.origin.meta.get(name) == "1"


async def send_voice_message(client: discord.Client, channel_id: int, clip: AudioClip,
                             reply_to: int | None = None, *, nonce: str | None = None) -> int:
    """Discord's native voice message (flag, waveform, duration): discord.py has no helper for it."""
    speech = await asyncio.to_thread(audio.decode, clip.data, 8_000)
    wave = base64.b64encode(audio.waveform(speech, 256)).decode()
    name = "voice-message.ogg"
    payload: dict[str, Any] = {
        "flags": VOICE_MESSAGE_FLAG, "allowed_mentions": {"parse": []},
        "attachments": [{"id": 0, "filename": name, "duration_secs": round(clip.duration_s, 2), "waveform": wave}],
    }
    if reply_to is not None:
        payload["message_reference"] = {"message_id": reply_to, "fail_if_not_exists": False}
    if nonce is not None:
        payload |= {"nonce": nonce, "enforce_nonce": True}  # a repeat returns the first message
    file = discord.File(BytesIO(clip.data), filename=name)
    form: list[dict[str, Any]] = [{"name": "payload_json", "value": discord.utils._to_json(payload)},
            {"name": "files[0]", "value": file.fp, "filename": name, "content_type": "audio/ogg"}]
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
    data = await client.http.request(route, form=form, files=[file])
    return int(data["id"])


def _voice_channel(client: discord.Client, job: Job) -> VoiceChannel | None:
    guild = client.get_guild(int(job.origin.workspace)) if job.origin.workspace else None
    member = guild.get_member(int(job.requester.user_id)) if guild else None
    return member.voice.channel if member and member.voice else None


async def play_live(client: discord.Client, job: Job) -> None:
    """Start playing speech in the requester's voice channel while it is generated; ``_play`` reports later."""
    channel = _voice_channel(client, job)
    feed = await services(client).core.audio_feed(job.id) if channel is not None else None
    if channel is None or feed is None:
        return
    try:
        await services(client).player.enqueue(channel, feed, job_id=job.id)
    except VoiceUnavailable as err:
        log.info("live playback of %s not started: %s", job.id, err.reason)


async def _play(client: discord.Client, job: Job, clip: AudioClip) -> str | None:
    """Queue the clip in the requester's voice channel; the reason in plain words when that can't happen."""
    if services(client).rest_only:
        return None  # no gateway, so no voice here: the front end plays it once told (``handed_off``)
    channel = _voice_channel(client, job)
    if channel is None:
        return "Not played: you weren't in a voice channel."
    player = services(client).player
    if job.id in player.live_jobs:
        player.live_jobs.discard(job.id)
        return f"Playing in {channel.mention}."  # started with the first chunk; the file is the same speech
    try:
        await services(client).player.enqueue(channel, clip)
    except VoiceUnavailable as err:
        return f"Not played: {err.reason}"
    return f"Playing in {channel.mention}."


async def deliver(client: discord.Client, job: Job, result: Result, put: Put, *, limit: int) -> int:
    """The one way a result becomes a Discord message: size check, voice options, caption, buttons."""
    if len(result.data) > limit:
        raise StudioError(f"The result is {_mb(len(result.data))}, over this server's {_mb(limit)} upload limit.")
    note: str | None = None
    extra: int | None = None
    file: discord.File | None = discord.File(BytesIO(result.data), filename=filename(job, result))
    if isinstance(result, AudioClip):
        if _flag(job, "play"):
            note = await _play(client, job, result)
        if _flag(job, "voice_message") and result.container == "ogg" and job.origin.channel:
            try:
                extra = await send_voice_message(client, int(job.origin.channel), result,
                                                 nonce=ledger.nonce(job, "v"))
                file = None
            except discord.HTTPException as err:
                if err.status >= 500 or err.status == 429:
                    raise
                log.info("voice message refused (%s); posting the clip as a file", err.code)
                note = " ".join(filter(None, [note, "Sent as a file: voice messages aren't allowed here."]))
    offer = buttons_for(services(client).core, job, result)
    return await put(caption(job, result, note), file, result_view(job, result, extra=extra, offer=offer))


def _channel(client: discord.Client, job: Job) -> discord.PartialMessageable:
    guild = int(job.origin.workspace) if job.origin.workspace else None
    return client.get_partial_messageable(int(job.origin.channel or 0), guild_id=guild)


def _reference(job: Job, channel: discord.PartialMessageable) -> dict[str, Any]:
    """``send`` keywords that make the message a reply to ``origin.message`` (if it still exists), unless
    that is the job's own placeholder, which goes once the result is up."""
    if not job.origin.message or job.origin.message == job.origin.meta.get("placeholder"):
        return {}
    return {"reference": discord.MessageReference(message_id=int(job.origin.message), channel_id=channel.id,
                                                  fail_if_not_exists=False)}


class ChannelReply:
    """Posts in the job's channel, replying to ``origin.message``; for jobs that outlived their interaction,
    and for reply-mention edits (which show progress in a status message that becomes the result)."""

    def __init__(self, client: discord.Client, job_kind: str, *, live: bool = False, limit: int | None = None) -> None:
        self.client = client
        self.kind = job_kind
        self.live = live
        self.limit = limit or DEFAULT_UPLOAD_LIMIT
        self.status: discord.Message | None = None
        self._lock = asyncio.Lock()
        self._done = False
        self._last: str | None = None

    async def progress(self, progress: Progress) -> None:
        text = progress_text(self.kind, progress)
        if not self.live or text is None or text == self._last:
            return
        async with self._lock:
            if self._done:
                return
            self._last = text
            job = await services(self.client).core.job(progress.job_id)
            if job is None:
                return
            if self.status is None:
                channel = _channel(self.client, job)
                self.status = await channel.send(text, allowed_mentions=NONE, mention_author=False,
                                                 view=progress_view(job.id), nonce=ledger.nonce(job, "s"),
                                                 **_reference(job, channel))
            else:
                self.status = await self.status.edit(content=text, allowed_mentions=NONE, view=progress_view(job.id))

    async def _put(self, job: Job, content: str, file: discord.File | None, view: discord.ui.View | None,
                   purpose: str = "r") -> int:
        await services(self.client).ready.wait()
        files = [file] if file else []
        if self.status is not None:
            message = await self.status.edit(content=content, attachments=files, view=view, allowed_mentions=NONE)
            return message.id
        channel = _channel(self.client, job)
        kwargs: dict[str, Any] = {"view": view} if view is not None else {}
        message = await channel.send(content, files=files, allowed_mentions=NONE, mention_author=False,
                                     nonce=ledger.nonce(job, purpose), **kwargs, **_reference(job, channel))
        return message.id

    async def post(self, job: Job, result: Result) -> str | None:
        async with self._lock:
            self._done = True
            try:
                ref = str(await deliver(self.client, job, result, lambda c, f, v: self._put(job, c, f, v),
                                        limit=self.limit))
            except StudioError as err:
                ref = str(await self._guarded(self._put(job, err.user_message, None, None, "e"), job))
            except Exception as exc:
                raise await self._refused(job, ledger.classify(exc)) from exc
            await ledger.drop_placeholder(self.client, job, keep=ref)
            return ref

    async def fail(self, job: Job, error: StudioError) -> str | None:
        async with self._lock:
            self._done = True
            await self._guarded(self._put(job, error.user_message, None, None, "e"), job)
            await ledger.drop_placeholder(self.client, job)
            return None

    async def handed_off(self, job: Job) -> None:
        """A worker posted the outcome as its own message: the status this process showed progress in goes."""
        async with self._lock:
            self._done = True
            status, self.status = self.status, None
        if status is not None:
            await ledger.tidy(f"status message of job {job.id}", status.delete())

    async def _guarded(self, put: Awaitable[int], job: Job) -> int:
        try:
            return await put
        except Exception as exc:
            raise await self._refused(job, ledger.classify(exc)) from exc

    async def _refused(self, job: Job, exc: Exception) -> Exception:
        """When the channel refuses for good, tell the requester in a DM (where Discord still allows it)."""
        if isinstance(exc, DeliveryRefused):
            with contextlib.suppress(Exception):
                user = await self.client.fetch_user(int(job.requester.user_id))
                await user.send(f"I couldn't post your {job.kind} result in <#{job.origin.channel}>: {exc.reason}.",
                                allowed_mentions=NONE)
        return exc


class InteractionReply:
    """A live slash command, context menu, button or modal: already deferred, so progress edits the
    original response and the result replaces it. Errors become a message only the user sees."""

    def __init__(self, client: discord.Client, interaction: discord.Interaction, kind: str,
                 *, reply_to: int | None = None) -> None:
        self.client = client
        self.interaction = interaction
        self.kind = kind
        self.reply_to = reply_to  # context-menu edits are posted as a reply to the message edited
        self._lock = asyncio.Lock()
        self._done = False
        self._handed_off = False
        self._last: str | None = None

    @property
    def limit(self) -> int:
        return self.interaction.filesize_limit or DEFAULT_UPLOAD_LIMIT

    def expired(self) -> bool:
        return discord.utils.utcnow() >= self.interaction.expires_at - TOKEN_MARGIN

    async def progress(self, progress: Progress) -> None:
        text = progress_text(self.kind, progress)
        if text is None or text == self._last or self.expired():
            return
        async with self._lock:
            if self._done:
                return
            self._last = text
            await self.interaction.edit_original_response(content=text, allowed_mentions=NONE,
                                                          view=progress_view(progress.job_id))

    async def _edit_original(self, content: str, file: discord.File | None, view: discord.ui.View) -> int:
        message = await self.interaction.edit_original_response(
            content=content, attachments=[file] if file else [], view=view, allowed_mentions=NONE)
        return message.id

    async def post(self, job: Job, result: Result) -> str | None:
        async with self._lock:
            self._done = True
            if self.reply_to is not None or self.expired():
                channel_reply = ChannelReply(self.client, self.kind, limit=self.limit)
                ref = await channel_reply.post(job, result)
                await self._drop_original()
                return ref
            try:
                return str(await deliver(self.client, job, result, self._edit_original, limit=self.limit))
            except StudioError as err:
                await self._tell(err)
                return None
            except Exception as exc:
                failure = ledger.classify(exc)
                if isinstance(failure, DeliveryRefused):
                    with contextlib.suppress(Exception):
                        await self._tell(StudioError(f"I couldn't post the result here: {failure.reason}."))
                raise failure from exc

    async def fail(self, job: Job, error: StudioError) -> str | None:
        async with self._lock:
            self._done = True
            if self.expired():
                return await ChannelReply(self.client, self.kind).fail(job, error)
            await self._tell(error)
            return None

    async def handed_off(self, job: Job) -> None:
        """A worker posted the outcome in the channel (it has no interaction token): the "thinking…" goes, as
        after a late result; once the token is about to expire, through the bot's own delete instead."""
        async with self._lock:
            if self._handed_off:
                return
            self._done = self._handed_off = True
        if self.expired():
            await ledger.drop_placeholder(self.client, job)
        else:
            await self._drop_original()
        if _flag(job, "play") and job.state is JobState.DONE:
            await self._play_handed(job)

    async def _play_handed(self, job: Job) -> None:
        """Speech a worker posted still plays here, where the voice connection is (the same queue as ever)."""
        try:
            clip = await services(self.client).core.result_of(job)
        except OSError:
            log.info("the result of job %s could not be read for playback", job.id)
            return
        if isinstance(clip, AudioClip):
            note = await _play(self.client, job, clip)
            log.debug("job %s handed off: %s", job.id, note)

    async def reject(self, error: StudioError) -> None:
        """Refused before a job existed (bad input, unknown image, rate limit)."""
        async with self._lock:
            self._done = True
            await self._tell(error)

    async def _drop_original(self) -> None:
        await ledger.tidy(f"original response of interaction {self.interaction.id}",
                          self.interaction.delete_original_response())

    async def _tell(self, error: StudioError) -> None:
        """Replace the public "thinking…" with a note only the requester sees."""
        await self._drop_original()
        await self.interaction.followup.send(error.user_message, ephemeral=True, allowed_mentions=NONE)
