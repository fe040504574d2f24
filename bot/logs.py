"""Structured logging that keeps secrets and citizens' words out of the logs."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Bot tokens and signing secrets look like these; mask them wherever they appear.
_SECRETS = re.compile(
    r"(xox[abpr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|\d{6,12}:[A-Za-z0-9_-]{30,}|"
    r"bot\d{6,12}:[A-Za-z0-9_-]+|[MN][A-Za-z\d]{23,25}\.[\w-]{6}\.[\w-]{27,})"
)


def redact(text: str) -> str:
    return _SECRETS.sub("[redacted]", text)


def _redact_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if isinstance(value, str):
            event_dict[key] = redact(value)
    return event_dict


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        return True


def configure(level: str = "INFO", fmt: str = "console") -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # HTTP client libraries log full request URLs at INFO; Telegram's contain the bot token.
    for noisy in ("httpx", "httpcore", "aiohttp.access", "telegram.ext", "discord.gateway"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
