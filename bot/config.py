"""Settings from ``TOWNHALL_*`` environment variables or a ``.env`` file (README: Configuration)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.i18n import N_, translator_for

DEV_SECRET = "development-only-secret-key-change-me"  # noqa: S105 - a documented placeholder


class ConfigError(Exception):
    """Settings could not be loaded; the message lists every bad value, one per line."""


#: Townhall's own privacy notice (a catalogue message: Welsh readers get its translation).
DEFAULT_PRIVACY_NOTICE = N_(
    "Townhall stores your answers for the policy team under a pseudonym, never your name. "
    "You can ask what we hold (mydata) or have it erased (forget) at any time."
)


class Settings(BaseSettings):
    """Everything Townhall reads from its environment, validated at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="TOWNHALL_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite+aiosqlite:///./townhall.db"
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    #: The language for a person who has not chosen one and whose platform does not say
    #: (issue 18; docs/translating.md).
    default_language: Literal["en", "cy"] = "en"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"
    #: /metrics on a listener of its own (not the public server) when a port is set ...
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    #: ... and/or behind ``Authorization: Bearer <token>``; with neither it is not served.
    metrics_token: SecretStr | None = None
    #: Reverse proxies (IPs or networks, comma-separated) whose X-Forwarded-For is believed.
    trusted_proxies: str = ""

    #: The externally visible base URL (e.g. https://townhall.example.gov.uk), for absolute
    #: links such as the web chat embed snippet; an https URL also makes cookies Secure.
    public_url: str | None = None
    #: GOV.UK Frontend's files (``npm ci``); default: ./node_modules/govuk-frontend/dist/govuk,
    #: else the same under the Townhall source directory.
    assets_dir: Path | None = None

    policy_team: str = ""
    moderators: str = ""

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    telegram_token: SecretStr | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"

    discord_token: SecretStr | None = None
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None
    discord_guild_ids: str = ""
    discord_policy_role: str | None = None
    discord_thread_answers: bool = False
    #: Discord gateway shards (Discord requires sharding from 2,500 servers). With more than
    #: one, each shard is a job of its own (a lease): several workers share the shards.
    discord_shards: int = Field(default=1, ge=1, le=1024)

    #: Live result cards are re-rendered at most this often (seconds): many votes, one edit.
    refresh_interval: float = Field(default=2.0, ge=0.0, le=3600)
    #: How often the scheduler looks for items past their deadline (seconds).
    scheduler_interval: float = Field(default=30.0, gt=0.0, le=3600)
    #: Hours before a consultation closes when those who started and did not finish get
    #: one private reminder.
    reminder_hours: float = Field(default=48.0, ge=0.0, le=24 * 365)
    #: Small-number suppression: a breakdown cell (e.g. votes by age band) below this is shown
    #: as "fewer than N", and others are withheld so it cannot be worked out from the totals.
    min_cell: int = Field(default=10, ge=2, le=1000)
    #: How long the outbox keeps retrying a message that fails transiently (seconds) before it
    #: gives up and tells whoever published it; rate limits (429) never count as failures.
    outbox_give_up_after: float = Field(default=86400.0, gt=0.0, le=30 * 86400)
    #: Run database migrations automatically on start (the embedded default needs no setup).
    auto_migrate: bool = True
    #: Redis (e.g. redis://127.0.0.1:6379/0) for state shared by several workers: the
    #: outbox's platform send rates, the web chat's form limits and private messages.
    redis_url: str | None = None
    #: Where the state several workers must share lives (the web chat's form limits and
    #: private messages, the outbox's send budgets): ``redis`` (needs TOWNHALL_REDIS_URL),
    #: ``database`` (needs PostgreSQL), ``memory`` (each process its own), or ``auto``: Redis
    #: when TOWNHALL_REDIS_URL is set, else the database when it is PostgreSQL, else memory.
    shared_state: Literal["auto", "memory", "database", "redis"] = "auto"
    #: Keep each platform's documented send rates in the outbox (Telegram 30/s overall, 1/s
    #: per private chat, 20/min per group; Discord; Slack). Switch off only for a bot with
    #: raised limits (e.g. Telegram's paid broadcasts) or in tests with simulated time.
    outbox_rate_limits: bool = True

    #: Privacy notice shown before a person's first stored answer, and where to read more.
    privacy_notice: str = DEFAULT_PRIVACY_NOTICE
    #: The notice in Welsh, for people reading Welsh (issue 18); when unset they read
    #: ``privacy_notice`` (Townhall's own default notice has its Welsh in the catalogue).
    privacy_notice_cy: str | None = None
    privacy_url: str = "https://www.gov.uk/help/privacy-notice"
    #: explicit: a first answer waits for "I agree"; notice: the notice comes with the first
    #: answer's confirmation. Default: explicit in production, notice elsewhere.
    consent: Literal["explicit", "notice"] | None = None
    #: Distinct reports that hide an answer pending review.
    report_threshold: int = Field(default=3, ge=1, le=100)
    #: Answers from one person within ten minutes that count as a flood.
    flood_limit: int = Field(default=5, ge=1, le=1000)

    @property
    def consent_mode(self) -> str:
        if self.consent is not None:
            return self.consent
        return "explicit" if self.env == "production" else "notice"

    @field_validator("database_url")
    @classmethod
    def _check_db_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (got "
                f"{value.split('://', 1)[0]!r})"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL, e.g. https://townhall.example")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        return value.strip().rstrip("/")

    @field_validator("assets_dir")
    @classmethod
    def _check_assets_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a directory (`npm ci` installs GOV.UK Frontend)")
        return value

    @property
    def govuk_assets(self) -> Path | None:
        """GOV.UK Frontend's directory: the setting, else the first default that exists."""
        if self.assets_dir is not None:
            return self.assets_dir
        source = Path(__file__).resolve().parent.parent
        for base in (Path.cwd(), source):
            candidate = base / "node_modules" / "govuk-frontend" / "dist" / "govuk"
            if candidate.is_dir():
                return candidate
        return None

    @property
    def base_url(self) -> str:
        """Where people reach this server: the public URL, else the configured host and port."""
        return self.public_url or f"http://{self.http_host}:{self.http_port}"

    @field_validator("policy_team", "moderators")
    @classmethod
    def _check_subjects(cls, value: str) -> str:
        for subject in _split(value):
            platform, sep, user = subject.partition(":")
            if not sep or not platform or not user:
                raise ValueError(f"expected comma-separated platform:user_id, got {subject!r}")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        from bot.forwarded import parse_networks

        parse_networks(value)  # raises ValueError naming the bad entry
        return value

    @field_validator("metrics_token")
    @classmethod
    def _check_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (e.g. openssl rand -hex 32)")
        return value

    @field_validator("secret_key")
    @classmethod
    def _check_secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        if self.env == "production" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("TOWNHALL_SECRET_KEY must be set when TOWNHALL_ENV=production")
        return self

    @model_validator(mode="after")
    def _check_telegram_webhook(self) -> Settings:
        # Telegram signs nothing: this shared secret is all that tells its webhook calls apart.
        secret = self.telegram_webhook_secret
        if self.telegram_webhook_url and secret is None:
            raise ValueError(
                "TOWNHALL_TELEGRAM_WEBHOOK_SECRET must be set when TOWNHALL_TELEGRAM_WEBHOOK_URL "
                "is set (1-256 characters: A-Z a-z 0-9 _ -)"
            )
        if secret is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", secret.get_secret_value()
        ):
            raise ValueError(
                "TOWNHALL_TELEGRAM_WEBHOOK_SECRET must be 1-256 characters: A-Z a-z 0-9 _ -"
            )
        return self

    @model_validator(mode="after")
    def _check_shared_state(self) -> Settings:
        if self.shared_state == "redis" and not self.redis_url:
            raise ValueError(
                "TOWNHALL_SHARED_STATE=redis needs TOWNHALL_REDIS_URL (e.g. "
                "redis://127.0.0.1:6379/0)"
            )
        if self.shared_state == "database" and self.is_sqlite:
            raise ValueError(
                "TOWNHALL_SHARED_STATE=database needs PostgreSQL (a postgresql+asyncpg:// "
                "TOWNHALL_DATABASE_URL); SQLite is one process, use memory or auto"
            )
        return self

    @property
    def shared_store(self) -> Literal["memory", "database", "redis"]:
        """Where shared state lives: TOWNHALL_SHARED_STATE with ``auto`` resolved."""
        if self.shared_state != "auto":
            return self.shared_state
        if self.redis_url:
            return "redis"
        return "memory" if self.is_sqlite else "database"

    @property
    def policy_subjects(self) -> list[str]:
        return _split(self.policy_team)

    @property
    def moderator_subjects(self) -> list[str]:
        return _split(self.moderators)

    @property
    def guild_ids(self) -> list[int]:
        return [int(g) for g in _split(self.discord_guild_ids) if g.isdigit()]

    def privacy_notice_in(self, language: str) -> str:
        """The privacy notice in ``language``: the operator's Welsh notice if set, our own
        default through the catalogue, else the operator's notice as written."""
        if language == "cy" and self.privacy_notice_cy:
            return self.privacy_notice_cy
        if self.privacy_notice == DEFAULT_PRIVACY_NOTICE:
            return translator_for(language)(DEFAULT_PRIVACY_NOTICE)
        return self.privacy_notice

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def load_settings(**overrides: object) -> Settings:
    """Load settings, turning pydantic's errors into one readable :class:`ConfigError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = "".join(str(p) for p in err["loc"][:1])
            name = f"TOWNHALL_{loc.upper()}" if loc else "settings"
            lines.append(f"{name}: {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
    except ValueError as exc:
        raise ConfigError(f"invalid configuration:\n  {exc}") from None
