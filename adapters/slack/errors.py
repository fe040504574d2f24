"""Slack Web API failures -> :class:`bot.errors.DeliveryError` with the right retry advice."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import DeliveryError

RATE_LIMITED = frozenset({"ratelimited", "rate_limited"})
#: Errors that retrying cannot fix: wrong channel, no access, a message we may not touch.
PERMANENT = frozenset(
    {
        "access_denied",
        "account_inactive",
        "cannot_reply_to_message",
        "cant_update_message",
        "channel_not_found",
        "edit_window_closed",
        "ekm_access_denied",
        "invalid_arguments",
        "invalid_auth",
        "invalid_blocks",
        "invalid_blocks_format",
        "is_archived",
        "message_not_found",
        "missing_scope",
        "msg_too_long",
        "no_permission",
        "no_text",
        "not_allowed_token_type",
        "not_authed",
        "not_in_channel",
        "org_login_required",
        "restricted_action",
        "restricted_action_non_threadable_channel",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "team_access_not_granted",
        "token_expired",
        "token_revoked",
        "too_many_attachments",
        "user_not_found",
    }
)
DEFAULT_RETRY_AFTER = 1.0


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list | tuple) else value)
    return None


def retry_after(headers: Mapping[str, Any] | None) -> float:
    raw = _header(headers, "Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


def delivery_error(exc: BaseException) -> DeliveryError:
    """Classify a failed Web API call: wait (rate limit), give up (permanent), or retry."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        error = str(response.get("error") or "unknown_error")
        status = int(getattr(response, "status_code", 200) or 200)
        if status == 429 or error in RATE_LIMITED:
            return DeliveryError(
                f"slack: {error}",
                retry_after=retry_after(getattr(response, "headers", None)),
                code=error,
            )
        if error in PERMANENT:
            return DeliveryError(f"slack: {error}", permanent=True, code=error)
        return DeliveryError(f"slack: {error} (HTTP {status})", code=error)
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError | SlackClientError):
        return DeliveryError(f"slack: {type(exc).__name__}", code=type(exc).__name__)
    return DeliveryError(f"slack: unexpected {type(exc).__name__}")
