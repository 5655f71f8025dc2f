"""Block Kit pieces: the buttons under a result and the modal that asks for an edit instruction.

Buttons carry their own state (the job id, and the file and message to delete) in ``value``, so
they keep working after a restart; the modal carries where to post in ``private_metadata``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from core.creative import Buttons

RETRY = "sb_retry"
EDIT = "sb_edit"
DELETE = "sb_delete"
PICK = "sb_u"  # U1-U4 and V1-V4 are sb_u_<n> / sb_v_<n>: action ids are unique within a block
VARY = "sb_v"
UPSCALE = "sb_upscale"
EDIT_SHORTCUT = "edit_image"  # the message shortcuts' callback_ids (manifest.yml)
IMAGINE_SHORTCUT = "imagine_from_image"
EDIT_MODAL = "sb_edit_modal"
IMAGINE_MODAL = "sb_imagine_modal"
INSTRUCTION_BLOCK = "instruction"
INSTRUCTION_ACTION = "instruction"
MASK_BLOCK = "mask"
MASK_ACTION = "mask"
CANCEL = "sb_cancel"
USE_PARENT = "sb_use_parent"  # "/imagine in a thread": use the parent's image, or not
SKIP_PARENT = "sb_skip_parent"

Block = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ButtonState:
    job: str
    file: str = ""  # the uploaded file: deleting it removes its message
    channel: str = ""

    def encode(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> ButtonState:
        data = json.loads(value)
        return cls(job=str(data["job"]), file=str(data.get("file", "")), channel=str(data.get("channel", "")))


@dataclass(frozen=True, slots=True)
class EditTarget:
    """Where the modal's edit goes and what it edits: a journaled job's result, or a Slack file."""

    channel: str
    thread: str
    job: str = ""
    file_id: str = ""
    file_url: str = ""
    file_name: str = ""
    file_size: int = 0

    def encode(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> EditTarget:
        data = json.loads(value)
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id,
                     "value": value}
    if style:
        button["style"] = style
    return button


def result_buttons(state: ButtonState, *, image: bool, offer: Buttons | None = None) -> list[Block]:
    """Retry for every result (Re-roll under a grid); Edit, Vary and Upscale under one image; U1-U4 and
    V1-V4 under a grid; Delete (the requester or an admin)."""
    offer = offer or Buttons()
    value = state.encode()
    blocks: list[Block] = []
    if offer.cells:
        cells = range(1, offer.cells + 1)
        grid = [_button(f"U{n}", f"{PICK}_{n}", value) for n in cells]
        grid += [_button(f"V{n}", f"{VARY}_{n}", value) for n in cells]
        blocks.append({"type": "actions", "block_id": "sb_grid", "elements": grid})
    elements = [_button("Re-roll" if offer.reroll else "Retry", RETRY, value)]
    if image and not offer.cells:
        elements.append(_button("Edit", EDIT, value, "primary"))
    if offer.vary:
        elements.append(_button("Vary", VARY, value))
    if offer.upscale_to:
        elements.append(_button(f"Upscale to {offer.upscale_to}", UPSCALE, value))
    elements.append(_button("Delete", DELETE, value, "danger"))
    return [*blocks, {"type": "actions", "block_id": "sb_result", "elements": elements}]


def _text_input(label: str, placeholder: str) -> Block:
    return {"type": "input", "block_id": INSTRUCTION_BLOCK, "label": {"type": "plain_text", "text": label},
            "element": {"type": "plain_text_input", "action_id": INSTRUCTION_ACTION, "multiline": True,
                        "max_length": 2000, "placeholder": {"type": "plain_text", "text": placeholder}}}


def _modal(callback_id: str, target: EditTarget, title: str, submit: str, blocks: list[Block]) -> dict[str, Any]:
    return {"type": "modal", "callback_id": callback_id, "private_metadata": target.encode(),
            "title": {"type": "plain_text", "text": title}, "submit": {"type": "plain_text", "text": submit},
            "close": {"type": "plain_text", "text": "Cancel"}, "blocks": blocks}


def status_blocks(request_text: str, line: str, job_id: str) -> list[Block]:
    """The visible status of a job: what was asked, where it stands, and Cancel."""
    return [
        {"type": "section", "block_id": "sb_request", "text": {"type": "mrkdwn", "text": request_text[:3000]}},
        {"type": "context", "block_id": "sb_status", "elements": [{"type": "mrkdwn", "text": line[:300]}]},
        {"type": "actions", "block_id": "sb_progress",
         "elements": [_button("Cancel", CANCEL, ButtonState(job_id).encode(), "danger")]},
    ]


def result_blocks(request_text: str, state: ButtonState, *, image_file: str | None, alt: str,
                  offer: Buttons | None = None) -> list[Block]:
    """One tidy result: the request once, the image itself (an uploaded, unshared file), and its buttons."""
    blocks: list[Block] = [{"type": "section", "block_id": "sb_request",
                            "text": {"type": "mrkdwn", "text": request_text[:3000]}}]
    if image_file:
        blocks.append({"type": "image", "block_id": "sb_image", "slack_file": {"id": image_file},
                       "alt_text": alt[:2000] or "Generated image"})
    return blocks + result_buttons(state, image=image_file is not None, offer=offer)


def edit_modal(target: EditTarget) -> dict[str, Any]:
    """Asks what to change, and optionally for a mask; the answer is a ``view_submission`` for ``EDIT_MODAL``."""
    mask: Block = {
        "type": "input", "block_id": MASK_BLOCK, "optional": True,
        "label": {"type": "plain_text", "text": "Mask (optional)"},
        "hint": {"type": "plain_text", "text": "An image the same shape: white where it may change, black where "
                                               "it must stay as it is."},
        "element": {"type": "file_input", "action_id": MASK_ACTION, "filetypes": ["png", "jpg", "jpeg", "webp"],
                    "max_files": 1},
    }
    return _modal(EDIT_MODAL, target, "Edit image", "Edit",
                  [_text_input("What should change?", "e.g. make it night --aspect 16:9"), mask])


def imagine_modal(target: EditTarget) -> dict[str, Any]:
    """Asks for a prompt that uses the message's image as the reference."""
    return _modal(IMAGINE_MODAL, target, "Imagine from image", "Imagine",
                  [_text_input("What should I draw from it?", "e.g. the same cat as a knight --aspect 16:9")])


def instruction_of(view: dict[str, Any]) -> str:
    values = view.get("state", {}).get("values", {})
    value = values.get(INSTRUCTION_BLOCK, {}).get(INSTRUCTION_ACTION, {}).get("value")
    return str(value or "")


def mask_file_of(view: dict[str, Any]) -> dict[str, Any] | None:
    """The file uploaded through the modal's mask input, as Slack describes it (``url_private``…)."""
    values = view.get("state", {}).get("values", {})
    files = values.get(MASK_BLOCK, {}).get(MASK_ACTION, {}).get("files") or []
    return dict(files[0]) if files and isinstance(files[0], dict) else None


def parent_offer(prompt: str, offer: str) -> list[Block]:
    """``/imagine`` in a thread whose first message has an image: use it as the reference, or not."""
    question = f"This thread has an image. Use it as the reference for _{prompt}_?"
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": question}},
        {"type": "actions", "block_id": "sb_offer", "elements": [
            _button("Use the image", USE_PARENT, offer, "primary"), _button("Just the prompt", SKIP_PARENT, offer)]},
    ]
