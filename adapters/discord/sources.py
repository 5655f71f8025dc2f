"""Where an image to edit comes from: an attachment, an embed, or one of our own results (from the journal)."""

from __future__ import annotations

from dataclasses import dataclass

import discord

from adapters.discord.services import PLATFORM, services
from adapters.media import download
from core.errors import InputError
from core.media.images import SUPPORTED, sniff
from core.results import ImageResult
from core.text import excerpt, size_text

MAX_INPUT_BYTES = 20 * 1024 * 1024  # what the image model accepts inline
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif")


@dataclass(frozen=True, slots=True)
class ImageSource:
    """An image we can fetch: a Discord file URL, or the stored result of one of our jobs."""

    url: str | None = None
    job_id: str | None = None
    size: int | None = None


def _looks_like_image(att: discord.Attachment) -> bool:
    kind = (att.content_type or "").split(";")[0].strip().lower()
    return kind in SUPPORTED or (not kind and att.filename.lower().endswith(IMAGE_EXTENSIONS))


def check_attachment(att: discord.Attachment, what: str = "image", max_bytes: int = MAX_INPUT_BYTES) -> ImageSource:
    """Refuse the wrong kind of file, or one too large, before downloading anything."""
    if not _looks_like_image(att):
        shown = att.content_type or att.filename.rsplit(".", 1)[-1]
        raise InputError(f"The {what} “{excerpt(att.filename, 60)}” isn't an image ({excerpt(shown, 30)}). "
                         "Attach a PNG, JPEG, WebP or GIF.")
    if att.size > max_bytes:
        raise InputError(f"The {what} is {att.size / (1024 * 1024):.1f} MB; the limit is "
                         f"{size_text(max_bytes)}. Attach a smaller one.")
    return ImageSource(url=att.url, size=att.size)


async def image_in(client: discord.Client, message: discord.Message) -> ImageSource | None:
    """The first image a message shows: our own result first (so edits chain), then files, then embeds."""
    if client.user is not None and message.author.id == client.user.id:
        job = await services(client).core.job_for_message(PLATFORM, str(message.id))
        if job is not None and job.result is not None and job.result.kind == "image":
            return ImageSource(job_id=job.id)
    for att in message.attachments:
        if _looks_like_image(att):
            return check_attachment(att)
    for embed in message.embeds:
        for media in (embed.image, embed.thumbnail):
            url = media.proxy_url or media.url
            if url:
                return ImageSource(url=url)
    return None


async def fetch(client: discord.Client, source: ImageSource, what: str = "image") -> tuple[bytes, str | None]:
    """The image bytes, and the job they came from (the parent of a chained edit)."""
    svc = services(client)
    if source.job_id is not None:
        job = await svc.core.job(source.job_id)
        result = await svc.core.result_of(job) if job is not None else None
        if not isinstance(result, ImageResult):
            raise InputError("That image is no longer in my records, so I can't edit it.")
        return result.data, source.job_id
    assert source.url is not None
    data = await download(svc.http, source.url, allowed_hosts=svc.media_hosts, max_bytes=svc.settings.max_input_bytes,
                          what=what, timeout_s=svc.settings.download_timeout_s)
    if sniff(data) is None:
        raise InputError(f"The {what} isn't a picture I can read. Attach a PNG, JPEG, WebP or GIF.")
    return data, None


async def read_attachment(client: discord.Client, att: discord.Attachment, what: str = "image") -> bytes:
    data, _ = await fetch(client, check_attachment(att, what, services(client).settings.max_input_bytes), what)
    return data
