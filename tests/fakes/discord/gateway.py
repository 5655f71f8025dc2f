"""The gateway websocket: HELLO, heartbeats, IDENTIFY -> READY + GUILD_CREATE, and dispatching events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord.state import MESSAGE_CONTENT, State


@dataclass
class Session:
    ws: web.WebSocketResponse
    seq: int = 0
    intents: int = 0
    identified: bool = False
    shard: tuple[int, int] = (0, 1)  # (id, count) from IDENTIFY

    def serves(self, guild_id: str | None) -> bool:
        """Discord's routing: a guild's events go to shard (guild_id >> 22) % count; DMs go to shard 0."""
        shard_id, count = self.shard
        return shard_id == (0 if guild_id is None else (int(guild_id) >> 22) % count)

    async def send(self, op: int, d: Any, t: str | None = None) -> None:
        s = None
        if op == 0:
            self.seq += 1
            s = self.seq
        await self.ws.send_str(json.dumps({"op": op, "d": d, "s": s, "t": t}))


class Gateway:
    def __init__(self, state: State, url: Any) -> None:
        self.state = state
        self.url = url
        self.sessions: list[Session] = []
        self.identifies: list[dict[str, Any]] = []

    @property
    def content_intent(self) -> bool:
        live = [s for s in self.sessions if s.identified]
        return bool(live) and all(s.intents & MESSAGE_CONTENT for s in live)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        session = Session(ws)
        self.sessions.append(session)
        try:
            await session.send(10, {"heartbeat_interval": 41250})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                await self._on_frame(session, frame)
        finally:
            self.sessions.remove(session)
        return ws

    async def _on_frame(self, session: Session, frame: dict[str, Any]) -> None:
        op, d = frame.get("op"), frame.get("d") or {}
        if op == 1:
            await session.send(11, None)
        elif op == 2:
            self.identifies.append(d)
            if d.get("token") != self.state.token:
                await session.ws.close(code=4004, message=b"Authentication failed.")
                return
            session.intents = int(d.get("intents", 0))
            shard = d.get("shard") or [0, 1]
            session.shard = (int(shard[0]), int(shard[1]))
            mine = session.serves(self.state.guild_id)
            await session.send(0, {
                "v": 10, "user": self.state.bot,
                "guilds": [{"id": self.state.guild_id, "unavailable": True}] if mine else [],
                "session_id": "fake-session", "resume_gateway_url": str(self.url), "shard": shard,
                "application": {"id": self.state.app_id, "flags": 0}, "private_channels": [],
                "relationships": [],
            }, "READY")
            if mine:
                await session.send(0, self.state.guild(), "GUILD_CREATE")
            session.identified = True
            self.state.touch()
        elif op == 6:
            await session.send(0, {}, "RESUMED")

    async def dispatch(self, t: str, d: dict[str, Any]) -> None:
        for session in list(self.sessions):
            if session.identified and session.serves(d.get("guild_id")):
                await session.send(0, d, t)

    async def close_all(self) -> None:
        for session in list(self.sessions):
            await session.ws.close()
