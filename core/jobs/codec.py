"""Requests to JSON and back; bytes become blob references so the journal stays small."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from core.jobs.files import BlobStore
from core.jobs.model import ResultRef
from core.requests import REQUEST_TYPES, Origin, Parent, Request, Requester, Speaker


def _dump_value(value: Any, blobs: BlobStore) -> Any:
    if isinstance(value, bytes):
        return {"$blob": blobs.put(value)}
    if isinstance(value, tuple | list):
        return [_dump_value(v, blobs) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _dump_value(getattr(value, f.name), blobs) for f in dataclasses.fields(value)}
    return value


def _load_value(value: Any, blobs: BlobStore) -> Any:
    if isinstance(value, dict) and set(value) == {"$blob"}:
        return blobs.get(value["$blob"])
    if isinstance(value, list):
        return tuple(_load_value(v, blobs) for v in value)
    return value


def dump_request(request: Request, blobs: BlobStore) -> str:
    return json.dumps(_dump_value(request, blobs), separators=(",", ":"))


def load_request(kind: str, text: str, blobs: BlobStore) -> Request:
    data = {k: _load_value(v, blobs) for k, v in json.loads(text).items()}
    if kind == "speak":
        data["speakers"] = tuple(Speaker(**s) if isinstance(s, dict) else s for s in data.get("speakers", ()))
    if "parents" in data:
        data["parents"] = tuple(Parent(**p) if isinstance(p, dict) else p for p in data["parents"])
    return REQUEST_TYPES[kind](**data)


def dump_plain(value: Requester | Origin) -> str:
    return json.dumps(dataclasses.asdict(value), separators=(",", ":"))


def load_requester(text: str) -> Requester:
    data = json.loads(text)
    data["roles"] = tuple(data.get("roles", ()))
    return Requester(**data)


def load_origin(text: str) -> Origin:
    return Origin(**json.loads(text))


def dump_result(ref: ResultRef | None) -> str | None:
    return None if ref is None else json.dumps(dataclasses.asdict(ref), separators=(",", ":"))


def load_result(text: str | None) -> ResultRef | None:
    return None if text is None else ResultRef(**json.loads(text))
