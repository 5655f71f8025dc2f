"""A server's own rules, checked before anything is accepted: command on/off, channels, roles, blocklist."""

from __future__ import annotations

from core.community.blocklist import Blocklist
from core.community.model import ServerSettings
from core.errors import NotAllowed
from core.requests import (
    BlendRequest,
    EditRequest,
    ImagineRequest,
    Origin,
    Request,
    Requester,
    SpeakRequest,
    VaryRequest,
)

# Which command's rules a request follows: grid picks, variations and upscales come from /imagine.
COMMAND_OF = {"speak": "speak", "imagine": "imagine", "pick": "imagine", "vary": "imagine", "upscale": "imagine",
              "edit": "edit", "blend": "edit"}
BLOCKED = ("Your prompt uses a word this server doesn't allow, so I didn't send it. "
           "Please rephrase it and try again.")


def prompt_text(request: Request) -> str:
    """Everything a member wrote that goes to the model."""
    if isinstance(request, SpeakRequest):
        return "\n".join(filter(None, [request.text, request.style]))
    if isinstance(request, ImagineRequest | VaryRequest):
        return request.prompt
    if isinstance(request, EditRequest | BlendRequest):
        return request.instruction
    return ""


def units(request: Request) -> int:
    """How many generations a request costs against request limits: a grid counts each candidate."""
    if request.kind == "pick":
        return 0  # cuts a cell out of a grid already paid for
    return max(1, getattr(request, "count", None) or 1)


def check(server: ServerSettings, request: Request, requester: Requester, origin: Origin,
          *, channel_word: str = "channel") -> None:
    """Raise ``NotAllowed`` with the reason in plain words; the blocked term itself is never repeated."""
    kind = COMMAND_OF.get(request.kind, request.kind)
    rules = server.rules(kind)
    if not rules.enabled:
        raise NotAllowed("disabled", f"/{kind} is turned off on this server.")
    if rules.channels and (origin.channel or "") not in rules.channels:
        where = ", ".join(_channel_ref(origin.platform, c) for c in rules.channels[:5])
        raise NotAllowed("channel", f"/{kind} isn't allowed in this {channel_word}. Try {where}.")
    if rules.roles and not requester.admin and not set(requester.roles) & set(rules.roles):
        raise NotAllowed("role", f"/{kind} is only for members with {_roles(origin.platform, rules.roles)}.")
    if server.blocklist and Blocklist(server.blocklist).matches(prompt_text(request)):
        raise NotAllowed("blocklist", BLOCKED)


def _channel_ref(platform: str, channel: str) -> str:
    return f"<#{channel}>" if platform in ("discord", "slack") else channel


def _roles(platform: str, roles: tuple[str, ...]) -> str:
    if platform == "discord":
        names = [f"<@&{r}>" for r in roles[:5]]
    elif platform == "slack":
        names = [f"<!subteam^{r}>" for r in roles[:5]]
    else:
        names = list(roles[:5])
    return "one of these roles: " + ", ".join(names) if len(names) > 1 else f"the role {names[0]}"
