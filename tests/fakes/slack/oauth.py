"""The fake's OAuth side: ``oauth.v2.access`` for install codes and refresh tokens, and more workspaces.

A test "approves" an install by calling ``grant(team)``: the returned code is what Slack would append
to the redirect URL. Each workspace gets its own bot token; with ``rotation`` on, tokens expire and come
with a refresh token, as with Slack's token rotation.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass
from typing import Any

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "test-client-secret"
ROTATED_LIFETIME_S = 43_200


@dataclass
class Workspace:
    team: str
    name: str
    installer: str
    bot_user: str


class OAuthMethods:
    """Mixed into FakeSlack: ``tokens`` maps every valid bot token to its team."""

    tokens: dict[str, str]
    workspaces: dict[str, Workspace]
    codes: dict[str, str]
    refresh_tokens: dict[str, str]
    rotation: bool
    token_lifetime_s: int

    def _oauth_init(self) -> None:
        self.tokens, self.workspaces, self.codes, self.refresh_tokens = {}, {}, {}, {}
        self.rotation = False
        self.token_lifetime_s = ROTATED_LIFETIME_S
        self._serial = itertools.count(1)

    def grant(self, team: str, *, name: str = "Second Team", installer: str = "UINSTALLER",
              bot_user: str = "UBOT2") -> str:
        """The user clicked Allow in ``team``: the code Slack adds to the redirect."""
        self.workspaces[team] = Workspace(team, name, installer, bot_user)
        code = f"code-{team}-{next(self._serial)}"
        self.codes[code] = team
        return code

    def revoke(self, team: str) -> None:
        """The workspace uninstalled the app: its tokens stop working."""
        for token in [t for t, owner in self.tokens.items() if owner == team]:
            del self.tokens[token]

    def token_of(self, team: str) -> str | None:
        return next((t for t, owner in reversed(self.tokens.items()) if owner == team), None)

    def _client_ok(self, args: dict[str, Any], authorization: str | None) -> bool:
        client_id, secret = args.get("client_id"), args.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        return (client_id, secret) == (CLIENT_ID, CLIENT_SECRET)

    def _new_token(self, team: str) -> dict[str, Any]:
        token = f"xoxb-{team}-{next(self._serial)}"
        self.tokens[token] = team
        fields: dict[str, Any] = {"access_token": token}
        if self.rotation:
            refresh = f"xoxe-1-{team}-{next(self._serial)}"
            self.refresh_tokens[refresh] = team
            fields |= {"refresh_token": refresh, "expires_in": self.token_lifetime_s}
        return fields

    def oauth_v2_access(self, args: dict[str, Any], authorization: str | None) -> dict[str, Any]:
        if not self._client_ok(args, authorization):
            return {"ok": False, "error": "invalid_client_id"}
        if args.get("grant_type") == "refresh_token":
            team = self.refresh_tokens.pop(str(args.get("refresh_token")), None)
            if team is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            self.revoke(team)  # the old token stops working once a new one is issued
            return {"ok": True, "token_type": "bot", "team": {"id": team}, **self._new_token(team)}
        team = self.codes.pop(str(args.get("code")), None)
        if team is None:
            return {"ok": False, "error": "invalid_code"}
        ws = self.workspaces[team]
        return {"ok": True, "app_id": "A0FAKE", "authed_user": {"id": ws.installer}, "token_type": "bot",
                "scope": "commands,chat:write,files:write", "bot_user_id": ws.bot_user,
                "team": {"id": team, "name": ws.name}, "enterprise": None, "is_enterprise_install": False,
                **self._new_token(team)}
