"""Start-up safety rails: refuse to start with a weak or changed secret key, or, in
production, with the default privacy notice (issue 14).

Every pseudonym is ``HMAC(secret_key, platform:user_id)``: a published or guessable key lets
anyone recompute who said what, and a changed key turns every returning person into a new
participant. So the key is checked against a fingerprint recorded at first start.
"""

from __future__ import annotations

import hashlib
import hmac

from bot.config import DEV_SECRET, ConfigError, Settings
from bot.context import Clock, utc_now
from bot.hints import townhall_command
from storage.db import Database
from storage.instance import InstanceSettings, is_migrated
from storage.ledger import AuditLog

#: The smallest secret key accepted once a chat platform is connected.
MIN_KEY_BYTES = 32
FINGERPRINT = "secret_key_fingerprint"
_LABEL = b"townhall secret key fingerprint v1"
_PLATFORM_TOKENS = (
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
    "telegram_token",
    "discord_token",
)


class SecretKeyChanged(ConfigError):
    """The database was started with a different TOWNHALL_SECRET_KEY."""


def key_fingerprint(secret_key: str) -> str:
    """An HMAC of a fixed label under the key: tells keys apart without revealing them."""
    return hmac.new(secret_key.encode(), _LABEL, hashlib.sha256).hexdigest()


def start_problems(settings: Settings) -> list[str]:
    """What must be fixed before Townhall may start, one sentence each (empty: all good)."""
    problems: list[str] = []
    key = settings.secret_key.get_secret_value()
    tokens = [f"TOWNHALL_{n.upper()}" for n in _PLATFORM_TOKENS if getattr(settings, n)]
    if tokens and (key == DEV_SECRET or len(key.encode()) < MIN_KEY_BYTES):
        why = "is the published placeholder" if key == DEV_SECRET else "is too short"
        problems.append(
            f"TOWNHALL_SECRET_KEY {why} while {tokens[0]} is set: people's pseudonyms would be "
            f"guessable. Set a random key of at least {MIN_KEY_BYTES} bytes once "
            "(e.g. openssl rand -hex 32), keep it and back it up."
        )
    if settings.env == "production":
        defaults = Settings.model_fields
        if settings.privacy_url == defaults["privacy_url"].default:
            problems.append(
                "TOWNHALL_PRIVACY_URL must be set to your own privacy notice in production "
                "(the default is GOV.UK's site-wide notice, which does not cover this service)."
            )
        if settings.privacy_notice == defaults["privacy_notice"].default:
            problems.append(
                "TOWNHALL_PRIVACY_NOTICE must be set in production: a sentence or two saying "
                "who holds people's answers, for what, and how to have them erased."
            )
    return problems


def check_settings(settings: Settings) -> None:
    """Raise :class:`ConfigError` listing every start-up problem, if any."""
    problems = start_problems(settings)
    if problems:
        raise ConfigError("refusing to start:\n  " + "\n  ".join(problems))


async def check_secret_key(db: Database, settings: Settings, clock: Clock = utc_now) -> None:
    """Record the key's fingerprint at first start; refuse a different key afterwards."""
    mine = key_fingerprint(settings.secret_key.get_secret_value())
    if not await is_migrated(db):
        raise ConfigError(
            "refusing to start: the database schema is out of date and TOWNHALL_AUTO_MIGRATE is "
            f"off; run `{townhall_command('db upgrade')}` first."
        )
    async with db.transaction() as session:
        stored = await InstanceSettings(session).set_if_missing(FINGERPRINT, mine, clock())
    if not hmac.compare_digest(stored, mine):
        raise SecretKeyChanged(
            "refusing to start: TOWNHALL_SECRET_KEY is not the key this database was started "
            "with. Every participant's pseudonym comes from the key, so with a new key people "
            "who took part before would count as new participants (and could vote again). "
            "Restore the original key; if it is lost for good, run "
            f"`{townhall_command('secret-key accept-new')}` to start counting afresh."
        )


async def accept_new_key(db: Database, settings: Settings, actor: str, clock: Clock) -> bool:
    """Make the current key the one this database expects; True when it was a change."""
    mine = key_fingerprint(settings.secret_key.get_secret_value())
    now = clock()
    async with db.transaction() as session:
        previous = await InstanceSettings(session).replace(FINGERPRINT, mine, now)
        changed = previous is not None and not hmac.compare_digest(previous, mine)
        if changed:
            await AuditLog(session).record(actor, "secret_key.replace", "instance", now)
    return changed
