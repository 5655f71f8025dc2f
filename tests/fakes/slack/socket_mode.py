"""The Socket Mode side of the fake: hello, envelopes out, acks back, disconnect on request.

``drop()`` closes the socket as Slack does on a server restart; events whose ack never arrived (and
any named as lost) are sent again on the next connection with ``retry_attempt`` + 1, as Slack retries.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from aiohttp import WSMsgType, web


class SocketModeServer:
    def __init__(self) -> None:
        self._sockets: list[web.WebSocketResponse] = []
        self._connected = asyncio.Event()
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._sent: dict[str, tuple[str, dict[str, Any], int]] = {}  # envelope id -> kind, payload, attempt
        self._redeliver: list[tuple[str, dict[str, Any], int]] = []
        self.redelivered: list[asyncio.Future[dict[str, Any]]] = []
        self.connections = 0

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self.connections += 1
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"},
                            "connection_info": {"app_id": "A0FAKE"}})
        pending, self._redeliver = self._redeliver, []
        for kind, payload, attempt in pending:  # before anyone else may send on this connection
            self.redelivered.append(await self._push(kind, payload, attempt + 1, None))
        self._connected.set()
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                ack = json.loads(msg.data)
                future = self._acks.get(ack.get("envelope_id", ""))
                if future is not None and not future.done():
                    future.set_result(ack)
        finally:
            self._sockets.remove(ws)
            if not self._sockets:
                self._connected.clear()
        return ws

    async def connected(self, timeout: float = 10) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def send(self, kind: str, payload: dict[str, Any], *, retry_attempt: int = 0,
                   envelope_id: str | None = None) -> asyncio.Future[dict[str, Any]]:
        """Push one envelope; the returned future resolves to the client's ack."""
        await self.connected()
        return await self._push(kind, payload, retry_attempt, envelope_id)

    async def _push(self, kind: str, payload: dict[str, Any], retry_attempt: int,
                    envelope_id: str | None) -> asyncio.Future[dict[str, Any]]:
        envelope_id = envelope_id or f"env-{next(self._ids)}"
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                                    "accepts_response_payload": kind != "events_api"}
        if kind == "events_api":
            envelope |= {"retry_attempt": retry_attempt, "retry_reason": "timeout" if retry_attempt else ""}
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        self._sent[envelope_id] = (kind, payload, retry_attempt)
        await self._sockets[-1].send_json(envelope)
        return future

    async def drop(self, *, lost: tuple[str, ...] = ()) -> None:
        """Close the connection; unacked envelopes, and those in ``lost`` (acked, but the ack was lost), come again."""
        for envelope_id, sent in self._sent.items():
            future = self._acks.get(envelope_id)
            if sent[0] == "events_api" and (envelope_id in lost or future is None or not future.done()):
                self._redeliver.append(sent)
        self._sent.clear()
        await self.close_all()

    async def close_all(self, _app: web.Application | None = None) -> None:
        for ws in list(self._sockets):
            await ws.close()
