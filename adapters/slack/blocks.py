"""Block Kit pieces: the buttons under a result and the modal that asks for an edit instruction.

Buttons carry their own state (the job id, and the file and message to delete) in ``value``, so
they keep working after a restart; the modal carries where to post in ``private_metadata``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

RETRY = "sb_retry"
EDIT = "sb_edit"
DELETE = "sb_delete"
EDIT_SHORTCUT = "edit_image"  # the message shortcut's callback_id (manifest.yml)
EDIT_MODAL = "sb_edit_modal"
INSTRUCTION_BLOCK = "instruction"
INSTRUCTION_ACTION = "instruction"

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


def result_buttons(state: ButtonState, *, image: bool) -> list[Block]:
    """Retry for every result; Edit only under images; Delete (the requester or an admin)."""
    value = state.encode()
    elements = [_button("Retry", RETRY, value)]
    if image:
        elements.append(_button("Edit", EDIT, value, "primary"))
    elements.append(_button("Delete", DELETE, value, "danger"))
    return [{"type": "actions", "block_id": "sb_result", "elements": elements}]


def edit_modal(target: EditTarget, *, hint: str = "") -> dict[str, Any]:
    """Asks what to change; the answer arrives as a ``view_submission`` for ``EDIT_MODAL``."""
    blocks: list[Block] = [{
        "type": "input", "block_id": INSTRUCTION_BLOCK,
        "label": {"type": "plain_text", "text": "What should change?"},
        "element": {"type": "plain_text_input", "action_id": INSTRUCTION_ACTION, "multiline": True,
                    "max_length": 2000,
                    "placeholder": {"type": "plain_text", "text": "e.g. make it night --aspect 16:9"}},
    }]
    if hint:
        blocks.append({"type": "context", "elements": [{"type": "plain_text", "text": hint[:150]}]})
    return {
        "type": "modal", "callback_id": EDIT_MODAL, "private_metadata": target.encode(),
        "title": {"type": "plain_text", "text": "Edit image"},
        "submit": {"type": "plain_text", "text": "Edit"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def instruction_of(view: dict[str, Any]) -> str:
    values = view.get("state", {}).get("values", {})
    value = values.get(INSTRUCTION_BLOCK, {}).get(INSTRUCTION_ACTION, {}).get("value")
    return str(value or "")
