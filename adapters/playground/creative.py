"""The playground's creative controls: U/V/Re-roll/Vary/Upscale under results, and blending picked images.

``POST /api/jobs/{id}/actions`` takes ``{"action": "u"|"v"|"upscale"|"reroll", "n": 1-4}``;
``POST /api/blend`` takes ``{"sources": [entry ids, in order], "text": "optional instruction"}``.
The new entry is threaded under the result it came from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from core import creative
from core.errors import InputError, StudioError
from core.requests import BlendRequest, Request

if TYPE_CHECKING:
    from adapters.playground.routes import Routes

MAX_BLEND = 14  # the model's own limit is checked by the core; this only bounds the request


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise InputError("Send the request as a JSON object.")
    return body


class CreativeRoutes:
    def __init__(self, routes: Routes) -> None:
        self.routes = routes

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/api/jobs/{id}/actions", self.action)
        app.router.add_post("/api/blend", self.blend)

    async def action(self, request: web.Request) -> web.Response:
        studio = self.routes.studio
        job = await self.routes.playground_job(request.match_info["id"])
        if job is None:
            return _error("No such job.", 404)
        try:
            body = await _body(request)
            what = str(body.get("action", ""))
            n = body.get("n")
            if n is not None and (not isinstance(n, int) or isinstance(n, bool)):
                raise InputError("n is the grid cell, a number from 1 to 4.")
            made: Request
            if what == "u" and n is not None:
                made = await creative.pick(studio, job.id, n)
            elif what == "v":
                made = await creative.vary(studio, job.id, n)
            elif what == "upscale":
                made = await creative.upscale(studio, job.id)
            elif what == "reroll":
                made = job.request
            else:
                raise InputError("Unknown action: use u (with n), v, upscale or reroll.")
        except StudioError as err:
            return _error(err.user_message)
        return await self.routes.submit(lambda: made, {"reply_to": f"job:{job.id}"},
                                        job.parent_id if what == "reroll" else None)

    async def blend(self, request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            sources = body.get("sources")
            if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
                raise InputError("Pick the images to blend.")
            if len(sources) > MAX_BLEND:
                raise InputError(f"At most {MAX_BLEND} images can be blended at once.")
            text = body.get("text") or ""
            if not isinstance(text, str):
                raise InputError("The instruction must be text.")
            inputs = [await self.routes.source(s) for s in sources]
            names = [self._name(s, n) for n, s in enumerate(sources, start=1)]
        except StudioError as err:
            return _error(err.user_message)
        parents = tuple(creative.Parent(p) for _, p in inputs if p is not None)
        made = BlendRequest(images=tuple(data for data, _ in inputs), instruction=text.strip(), names=tuple(names),
                            size=body.get("size") if isinstance(body.get("size"), str) else None, parents=parents)
        return await self.routes.submit(lambda: made, {"reply_to": sources[0]} if sources else {})

    def _name(self, source: str, n: int) -> str:
        kind, _, ident = source.partition(":")
        upload = self.routes.uploads.get(ident) if kind == "upload" else None
        return upload.name if upload is not None else f"image {n}"
