"""The one settings object: environment variables and an optional ``.env``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_TTS_MODEL = "gemini-3.8-flash-tts"
DEFAULT_IMAGE_MODEL = "gemini-3.1-flash-image"


def _default_data_dir() -> Path:
    return Path.home() / ".studiobot"


def shard_plan(spec: str) -> tuple[list[int], int]:
    """``"0-3/8"`` → shards [0, 1, 2, 3] of 8; ``"5/8"`` → [5] of 8."""
    try:
        ids, total = spec.replace(" ", "").split("/")
        first, _, last = ids.partition("-")
        lo, hi, count = int(first), int(last or first), int(total)
    except ValueError:
        raise ValueError(f"shards look like 0-3/8 (ids/total), not {spec!r}") from None
    if not 0 <= lo <= hi < count:
        raise ValueError(f"shard ids {lo}-{hi} must lie within 0-{count - 1}")
    return list(range(lo, hi + 1)), count


class Settings(BaseSettings):
    """Built once in ``bots/`` and handed down; names here are the operator interface."""

    model_config = SettingsConfigDict(env_prefix="STUDIOBOT_", env_file=".env", extra="ignore", populate_by_name=True)

    # Gemini
    gemini_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("GEMINI_API_KEY", "GOOGLE_API_KEY", "gemini_api_key")
    )
    gemini_base_url: str | None = None
    tts_model: str = DEFAULT_TTS_MODEL
    image_model: str = DEFAULT_IMAGE_MODEL
    gemini_timeout_s: float = Field(90.0, gt=0)
    gemini_attempts: int = Field(4, ge=1, le=10)
    gemini_retry_base_s: float = Field(1.0, ge=0)
    offline: bool = False
    max_speech_chars: int = Field(20_000, ge=1)  # longer texts are refused; long ones are spoken in parts

    # Jobs and storage
    data_dir: Path = Field(default_factory=_default_data_dir)
    # postgresql://user:pass@host/db: the journal and community tables in PostgreSQL instead of data_dir's SQLite
    database_url: SecretStr | None = None
    speech_workers: int = Field(2, ge=1, le=1024)
    image_workers: int = Field(2, ge=1, le=1024)
    max_queue: int = Field(200, ge=1)
    user_requests_per_minute: int = Field(10, ge=0)
    default_count: int = Field(1, ge=1, le=4)  # /imagine candidates when count is not given (each is billed)

    # Limits on what users send (see README "Limits and safety")
    max_input_mb: float = Field(20.0, gt=0, le=200)  # one image file, upload or download
    download_timeout_s: float = Field(30.0, gt=0)  # whole download, however slowly it drips

    # Community limits (0 = unlimited; each server can override them in its settings) and prices
    server_requests_per_minute: int = Field(0, ge=0)
    user_requests_per_day: int = Field(0, ge=0)
    server_requests_per_day: int = Field(0, ge=0)
    user_cost_per_day: float = Field(0.0, ge=0)  # USD of estimated spend
    server_cost_per_day: float = Field(0.0, ge=0)
    price_tts_input_per_mtok: float | None = Field(None, ge=0)  # USD per 1M tokens; None = Gemini list price
    price_tts_output_per_mtok: float | None = Field(None, ge=0)
    price_image_input_per_mtok: float | None = Field(None, ge=0)
    price_image_output_per_mtok: float | None = Field(None, ge=0)

    # Operator's view: Prometheus /metrics, /healthz, /readyz (port 0 = off)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(9108, ge=0, le=65535)

    # Delivery, leases, shutdown, retention (see README "Delivery guarantees")
    shutdown_grace_s: float = Field(25.0, ge=0)  # SIGTERM: running jobs get this long to finish and post
    retention_days: float = Field(30.0, ge=0)  # results, inputs and journal rows older than this are pruned; 0 = keep
    progress_interval_s: float = Field(2.0, ge=0)  # at most one progress edit per message this often
    lease_s: float = Field(30.0, gt=0)  # a job owned by a process that stopped renewing it for this long is resumed
    delivery_deadline_s: float = Field(600.0, gt=0)  # transient posting failures are retried this long

    # Platforms (adapters read these; absent tokens mean the adapter is skipped)
    discord_token: SecretStr | None = Field(None, validation_alias=AliasChoices("DISCORD_TOKEN", "discord_token"))
    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    # Many workspaces: Bolt's OAuth flow installs the app anywhere (installations live in the journal DB)
    slack_client_id: str | None = Field(None, validation_alias=AliasChoices("SLACK_CLIENT_ID", "slack_client_id"))
    slack_client_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_CLIENT_SECRET", "slack_client_secret")
    )
    slack_redirect_uri: str | None = None  # e.g. https://bot.example.com/slack/oauth_redirect
    discord_api_base: str | None = None  # e.g. http://127.0.0.1:9000/api/v10 (tests, proxies)
    discord_gateway_url: str | None = None  # e.g. ws://127.0.0.1:9000/gateway
    discord_sharded: bool = False  # AutoShardedClient for bots in many servers
    discord_shards: str | None = None  # "0-3/8": this front end runs shards 0..3 of 8 (split across processes)
    discord_message_content: bool = False  # opt in when the privileged intent is enabled in the portal
    slack_port: int = Field(3000, ge=0, le=65535)
    slack_api_url: str | None = None  # e.g. http://127.0.0.1:9001/api/ (tests)
    media_hosts: Annotated[tuple[str, ...], NoDecode] = ()  # extra hosts attachments may come from
    playground_host: str = "127.0.0.1"
    playground_port: int = Field(8787, ge=0, le=65535)
    playground_token: SecretStr | None = None
    playground_allow_remote: bool = False

    @field_validator("discord_shards")
    @classmethod
    def _check_shards(cls, value: str | None) -> str | None:
        if value is not None:
            shard_plan(value)
        return value

    @field_validator("media_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(h.strip().lower() for h in value.split(",") if h.strip())
        return value

    @property
    def slack_oauth(self) -> bool:
        """Many-workspace mode: the app installs itself through OAuth instead of one SLACK_BOT_TOKEN."""
        return bool(self.slack_client_id and self.slack_client_secret and self.slack_client_secret.get_secret_value())

    @property
    def use_gemini(self) -> bool:
        return self.gemini_api_key is not None and bool(self.gemini_api_key.get_secret_value()) and not self.offline

    @property
    def max_input_bytes(self) -> int:
        return int(self.max_input_mb * 1024 * 1024)

    @property
    def database_url_value(self) -> str | None:
        """The PostgreSQL URL when one is set (it may hold a password, so it is kept as a secret)."""
        return self.database_url.get_secret_value() or None if self.database_url is not None else None

    @property
    def journal_path(self) -> Path:
        return self.data_dir / "journal.sqlite3"

    @property
    def results_dir(self) -> Path:
        return self.data_dir / "results"

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    def secrets(self) -> list[str]:
        """Every configured secret value, for redaction."""
        values = [self.gemini_api_key, self.discord_token, self.slack_bot_token, self.slack_app_token,
                  self.slack_signing_secret, self.slack_client_secret, self.playground_token, self.database_url]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
