"""A fake Slack: the Web API, private file downloads, the upload flow and the Socket Mode websocket."""

from tests.fakes.slack.signing import SIGNING_SECRET, SlackSender, sign
from tests.fakes.slack.web_api import APP_TOKEN, BOT_TOKEN, BOT_USER, TEAM, FakeSlack, Upload

__all__ = ["APP_TOKEN", "BOT_TOKEN", "BOT_USER", "SIGNING_SECRET", "TEAM", "FakeSlack", "SlackSender", "Upload",
           "sign"]
