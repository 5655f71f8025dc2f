"""Capabilities in URLs a library logs (``-v``) never reach the log: interaction tokens, response_urls."""

from __future__ import annotations

from core.redact import MASK, Redactor

INTERACTION_TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDpzZWNyZXQ"


def test_an_interaction_token_in_a_webhook_or_callback_url_is_masked() -> None:
    redact = Redactor()
    for line in (f"Webhook ID 1234 with DELETE https://discord.com/api/v10/webhooks/1234/{INTERACTION_TOKEN}"
                 "/messages/@original has returned status code 204",
                 f"POST https://discord.com/api/v10/interactions/98765/{INTERACTION_TOKEN}/callback?with_response=1"):
        shown = redact(line)
        assert INTERACTION_TOKEN not in shown and MASK in shown
        assert "/messages/@original" in shown or "/callback" in shown  # what was done stays readable


def test_a_slack_response_url_is_masked() -> None:
    shown = Redactor()("posting to https://hooks.slack.com/commands/T0001/1234/abcdefSECRET failed")
    assert "abcdefSECRET" not in shown and shown.endswith(f"hooks.slack.com/{MASK} failed")
