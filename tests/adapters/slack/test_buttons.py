"""The buttons under a result: Retry, Edit (a modal), Delete (the requester or a workspace admin)."""

from __future__ import annotations

import json

from adapters.slack.interactions import NOT_YOURS
from core.requests import EditRequest, ImagineRequest
from tests.adapters.slack.conftest import ALICE, BOB, CHANNEL, Rig, image_of
from tests.fakes.slack import Upload


async def _imagined(slack: Rig, prompt: str = "a lighthouse --aspect 4:3") -> tuple[Upload, dict[str, object]]:
    await slack.slash("/imagine", prompt)
    upload = await slack.fake.next_upload()
    return upload, await slack.buttons_under(upload)


async def test_retry_makes_the_same_request_again_in_the_same_place(slack: Rig) -> None:
    first, buttons = await _imagined(slack)
    status, _, _ = await slack.click("sb_retry", buttons, user=BOB)
    assert status == 200
    again = await slack.fake.next_upload(2)
    assert again.channel == CHANNEL and again.thread_ts is None
    assert await slack.request_shown(again) == await slack.request_shown(first)
    original, retried = await slack.jobs()
    assert retried.request == original.request and retried.requester.user_id == BOB


async def test_edit_opens_a_modal_and_posts_the_edit_under_the_result(slack: Rig) -> None:
    first, buttons = await _imagined(slack)
    await slack.click("sb_edit", buttons)
    opened = await slack.opened_view()
    view = opened["view"]
    assert view["callback_id"] == "sb_edit_modal" and opened["trigger_id"].startswith("trig.")

    status, _, body = await slack.submit_view(view, "make it night --aspect 16:9")
    assert (status, body) == (200, "")  # the modal closes
    edited = await slack.fake.next_upload(2)
    assert edited.thread_ts == first.ts
    assert image_of(edited.content).width > image_of(edited.content).height
    imagine, edit = await slack.jobs()
    assert edit.parent_id == imagine.id
    assert isinstance(edit.request, EditRequest) and edit.request.instruction == "make it night"


async def test_an_empty_instruction_keeps_the_modal_open_with_the_reason(slack: Rig) -> None:
    _, buttons = await _imagined(slack)
    await slack.click("sb_edit", buttons)
    status, _, body = await slack.submit_view((await slack.opened_view())["view"], "--aspect 16:9")
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors" and "what to change" in answer["errors"]["instruction"]
    assert len(await slack.jobs()) == 1


async def test_delete_by_a_stranger_is_refused(slack: Rig) -> None:
    upload, buttons = await _imagined(slack)
    await slack.click("sb_delete", buttons, user=BOB)
    note = await slack.fake.next_ephemeral()
    assert note["user"] == BOB and note["text"] == NOT_YOURS
    assert slack.fake.calls_to("files.delete") == [] and slack.fake.calls_to("chat.delete") == []
    assert any(m["ts"] == upload.ts for m in slack.fake.channels[CHANNEL])


async def test_delete_by_the_requester_removes_the_result_and_its_buttons(slack: Rig) -> None:
    upload, buttons = await _imagined(slack)
    await slack.click("sb_delete", buttons, user=ALICE)
    await slack.fake.wait_for(lambda: slack.fake.calls_to("chat.delete"))
    assert slack.fake.calls_to("files.delete")[0].args["file"] == upload.file_id
    assert slack.fake.channels[CHANNEL] == []


async def test_a_workspace_admin_may_delete_anyones_result(slack: Rig) -> None:
    slack.fake.admins.add(BOB)
    _, buttons = await _imagined(slack)
    await slack.click("sb_delete", buttons, user=BOB)
    await slack.fake.wait_for(lambda: slack.fake.calls_to("chat.delete"))
    assert slack.fake.channels[CHANNEL] == []


async def test_retry_of_a_speech_result_keeps_its_voice(slack: Rig) -> None:
    await slack.slash("/speak", "--voice Kore hello there")
    upload = await slack.fake.next_upload()
    await slack.click("sb_retry", await slack.buttons_under(upload))
    await slack.fake.next_upload(2)
    first, second = await slack.jobs()
    assert second.request == first.request and not isinstance(second.request, ImagineRequest)
