"""Buttons under results (Retry, Edit, Delete), the Edit image message shortcut, and the edit modal."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError

from adapters.slack.blocks import (
    CANCEL,
    DELETE,
    EDIT,
    EDIT_MODAL,
    EDIT_SHORTCUT,
    INSTRUCTION_BLOCK,
    RETRY,
    ButtonState,
    EditTarget,
    edit_modal,
    instruction_of,
    mask_file_of,
)
from adapters.slack.flow import Flow, dedupe_key, origin_of, requester_of
from adapters.slack.reply import PLATFORM, ref
from adapters.slack.sources import SlackFile, Source, files_of, first_image
from adapters.slack.text import escape
from adapters.slack.workspaces import WorkspaceClient
from core.commands import Help, parse_edit
from core.errors import InputError, StudioError
from core.jobs.model import Job
from core.requests import EditRequest

log = logging.getLogger(__name__)
T = TypeVar("T")

GONE = "That result is no longer available, so it can't be retried or edited."
NOT_YOURS = "Only the person who asked for this, or a workspace admin, can delete it."
FINISHED = "That request has already finished."
NOT_YOURS_CANCEL = "Only the person who asked for this, or a workspace admin, can cancel it."
NO_IMAGE = "That message has no image to edit. Use Edit image on a message with a picture."


def _action_state(body: dict[str, Any]) -> ButtonState:
    return ButtonState.decode(str(body["actions"][0].get("value", "")))


def _team(body: dict[str, Any]) -> str | None:
    team = body.get("team") or {}
    return str(team.get("id")) if team.get("id") else None


def _thread_of(job: Job) -> str | None:
    """Where an edit of this result goes: its thread, or the thread under the result itself."""
    if job.origin.thread:
        return job.origin.thread
    if job.delivered_ref and ":" in job.delivered_ref:
        return job.delivered_ref.split(":", 1)[1]
    return None


class Interactions:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def register(self, app: AsyncApp) -> None:
        app.action(RETRY)(self.on_retry)
        app.action(EDIT)(self.on_edit_button)
        app.action(DELETE)(self.on_delete)
        app.action(CANCEL)(self.on_cancel)
        app.shortcut({"type": "message_action", "callback_id": EDIT_SHORTCUT})(self.on_edit_shortcut)
        app.view(EDIT_MODAL)(self.on_edit_submitted)

    def _where(self, body: dict[str, Any]) -> tuple[str, str | None]:
        channel = str((body.get("channel") or {}).get("id") or body.get("container", {}).get("channel_id", ""))
        message = body.get("message") or {}
        return channel, message.get("thread_ts")

    async def on_retry(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """The same request again, for whoever clicked, in the same place."""
        await ack()
        state = _action_state(body)
        channel, thread = self._where(body)
        user = str(body["user"]["id"])
        job = await self.flow.studio.job(state.job)
        origin = origin_of(_team(body), channel, thread=job.origin.thread if job else thread,
                           response_url=body.get("response_url"))
        if job is None:
            await self.flow.tell(origin, user, GONE)
            return
        key = dedupe_key("trigger", str(body.get("trigger_id")))
        await self.flow.submit(job.request, requester_of(body["user"]), origin, key=key, parent_id=job.parent_id)

    async def on_edit_button(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Open the modal at once: the trigger id expires in about three seconds."""
        await ack()
        state = _action_state(body)
        channel, thread = self._where(body)
        job = await self.flow.studio.job(state.job)
        team = _team(body)
        if job is None:
            await self.flow.tell(origin_of(team, channel, thread=thread), str(body["user"]["id"]), GONE)
            return
        target = EditTarget(channel=channel, thread=_thread_of(job) or thread or "", job=job.id)
        await self.flow.client(team).views_open(trigger_id=body["trigger_id"], view=edit_modal(target))

    async def on_delete(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Delete the result and its buttons, if the clicker asked for it or is a workspace admin."""
        await ack()
        state = _action_state(body)
        channel, thread = self._where(body)
        user = str(body["user"]["id"])
        origin = origin_of(_team(body), channel, thread=thread, response_url=body.get("response_url"))
        client = self.flow.client(origin.workspace)
        job = await self.flow.studio.job(state.job)
        if not (job is not None and job.requester.user_id == user) and not await self._is_admin(client, user):
            await self.flow.tell(origin, user, NOT_YOURS)
            return
        try:
            if state.file:
                await client.files_delete(file=state.file)
            await client.chat_delete(channel=channel, ts=str(body["message"]["ts"]))
        except SlackApiError as err:
            log.info("delete failed: %s", err.response.get("error"))
            await self.flow.tell(origin, user, "I couldn't delete that message. It may already be gone.")
        if job is not None:
            await self.flow.studio.delete(job)  # the stored result and inputs go too

    async def on_cancel(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Cancel a queued or running job (the requester or an admin); its status message then says so."""
        await ack()
        state = _action_state(body)
        channel, thread = self._where(body)
        user = str(body["user"]["id"])
        origin = origin_of(_team(body), channel, thread=thread, response_url=body.get("response_url"))
        job = await self.flow.studio.job(state.job)
        if job is None or job.state.terminal:
            await self.flow.tell(origin, user, FINISHED)
            return
        client = self.flow.client(origin.workspace)
        if job.requester.user_id != user and not await self._is_admin(client, user):
            await self.flow.tell(origin, user, NOT_YOURS_CANCEL)
            return
        if not await self.flow.studio.cancel(job.id):
            await self.flow.tell(origin, user, FINISHED)

    async def _is_admin(self, client: WorkspaceClient, user: str) -> bool:
        return await self.flow.is_admin(client.team, user)

    async def on_edit_shortcut(self, ack: AsyncAck, shortcut: dict[str, Any]) -> None:
        """Edit image on any message with a picture: ask what to change, then post in its thread."""
        await ack()
        await open_for_image(self.flow, shortcut, edit_modal)

    async def on_edit_submitted(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """A bad instruction keeps the modal open with the reason; a good one closes it and queues the edit."""
        text = instruction_of(view)
        parsed = await parsed_or_refused(ack, lambda: parse_edit(text, b""))
        if parsed is None:
            return
        target = EditTarget.decode(str(view.get("private_metadata") or "{}"))
        user = str(body["user"]["id"])
        origin = origin_of(_team(body), target.channel, thread=target.thread or None)
        client = self.flow.client(origin.workspace)
        try:
            source = await source_of(self.flow, client, target)
            mask_file = mask_file_of(view)
            mask = None if mask_file is None else \
                (await self.flow.sources.for_file(self.flow.studio, client, SlackFile.from_api(mask_file))).image
        except StudioError as err:
            await self.flow.refuse(origin, user, err)
            return
        request: EditRequest = dataclasses.replace(parsed, image=source.image, mask=mask)
        key = dedupe_key("view", str(view.get("id")))
        await self.flow.submit(request, requester_of(body["user"]), origin, key=key, parent_id=source.parent_id)



async def source_of(flow: Flow, client: WorkspaceClient, target: EditTarget) -> Source:
    """The image a modal was opened for: one of our results (from disk), or a Slack file."""
    studio = flow.studio
    if target.job:
        job = await studio.job(target.job)
        result = None if job is None else await studio.result_of(job)
        if job is None or result is None:
            raise InputError(GONE)
        return Source(result.data, job.id)
    file = SlackFile(target.file_id, target.file_name, "image/", target.file_url, target.file_size)
    return await flow.sources.for_file(studio, client, file)


async def parsed_or_refused(ack: AsyncAck, parse: Callable[[], T | Help]) -> T | None:
    """Ack a modal submission: the parse's refusal (or a help request) keeps it open with one line, else it closes."""
    try:
        parsed = parse()
    except InputError as err:
        await ack(response_action="errors", errors={INSTRUCTION_BLOCK: err.user_message[:150]})
        return None
    if isinstance(parsed, Help):
        await ack(response_action="errors", errors={INSTRUCTION_BLOCK: parsed.text.splitlines()[0][:150]})
        return None
    await ack()
    return parsed


async def open_for_image(flow: Flow, shortcut: dict[str, Any],
                         modal: Callable[[EditTarget], dict[str, Any]]) -> None:
    """A message shortcut on a picture opens ``modal`` for it; on a message without one, say so."""
    target, problem = shortcut_target(shortcut)
    channel = str(shortcut["channel"]["id"])
    if problem == NO_IMAGE and target is not None and (job := await own_result(flow, shortcut)) is not None:
        target, problem = dataclasses.replace(target, job=job), ""  # our result: an image block, not a file
    origin = origin_of(_team(shortcut), channel, thread=target.thread if target else None,
                       response_url=shortcut.get("response_url"))
    if problem or target is None:
        await flow.tell(origin, str(shortcut["user"]["id"]), escape(problem))
        return
    await flow.client(origin.workspace).views_open(trigger_id=shortcut["trigger_id"], view=modal(target))


async def own_result(flow: Flow, shortcut: dict[str, Any]) -> str | None:
    """The job whose image this message shows (its metadata, else the journal), if it is one of ours."""
    message = shortcut.get("message") or {}
    payload = (message.get("metadata") or {}).get("event_payload") or {}
    job_id = payload.get("job_id") if isinstance(payload, dict) else None
    if job_id is None:
        ts = str(shortcut.get("message_ts") or message.get("ts", ""))
        job = await flow.studio.job_for_message(PLATFORM, ref(str(shortcut["channel"]["id"]), ts))
        job_id = job.id if job is not None else None
    return str(job_id) if job_id else None


def shortcut_target(shortcut: dict[str, Any]) -> tuple[EditTarget | None, str]:
    """Where a message shortcut's result goes (the message's thread) and its image; or why there is none."""
    channel = str(shortcut["channel"]["id"])
    message = shortcut.get("message") or {}
    ts = str(shortcut.get("message_ts") or message.get("ts", ""))
    thread = str(message.get("thread_ts") or ts)
    try:
        image = first_image(files_of(message))
    except InputError as err:
        return None, err.user_message
    if image is None:
        return EditTarget(channel=channel, thread=thread), NO_IMAGE
    return EditTarget(channel=channel, thread=thread, file_id=image.id, file_url=image.url, file_name=image.name,
                      file_size=image.size), ""


__all__ = ["Interactions"]
