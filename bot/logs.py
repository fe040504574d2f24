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


#: Longest log message kept; anything longer is cut (a library logging a whole request body).
MAX_MESSAGE = 2000
#: Library loggers that log request bodies (user ids, people's words): messages cut at the marker.
_BODY_LOGGERS = {
    # "Invalid request signature detected (signature: ..., timestamp: ..., body: ...)", at INFO,
    # for anyone who sends a forged request
    "slack_bolt.AsyncRequestVerification": " (",
    "slack_bolt.RequestVerification": " (",
}
#: Library loggers quietened whatever the level: their INFO/DEBUG carries payloads or URLs.
_QUIET = {
    "httpx": logging.WARNING,  # request URLs at INFO; Telegram's contain the bot token
    "httpcore": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    "telegram": logging.WARNING,  # updates at DEBUG
    "discord": logging.WARNING,  # gateway payloads at DEBUG
    "slack_bolt": logging.WARNING,  # request bodies at DEBUG/INFO
    "slack_sdk": logging.WARNING,  # API request and response bodies at DEBUG
    "townhall.slack.bolt": logging.WARNING,
    "sqlalchemy": logging.WARNING,  # statements and parameters at INFO
}


def redact(text: str) -> str:
    return _SECRETS.sub("[redacted]", text)


class _BodyFilter(logging.Filter):
    """Keeps only what comes before ``marker`` in a library's message (drops the body)."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        head, found, _ = message.partition(self.marker)
        if found:
            record.msg, record.args = head + " (details not logged)", None
        return True


class _ClientErrorFilter(logging.Filter):
    """aiohttp logs a traceback for every malformed HTTP request (a 400 for the client):
    keep one line, without the traceback or the request line it quotes."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and type(error).__module__ == "aiohttp.http_exceptions":
            record.msg, record.args = (
                f"malformed HTTP request refused ({type(error).__name__})",
                None,
            )
            record.exc_info = record.exc_text = None
        return True


def quiet_libraries(level: str | int = "INFO") -> None:
    """Raise the noisy library loggers to at least WARNING and strip bodies from the rest."""
    floor = logging.getLevelName(level) if isinstance(level, str) else level
    for name, minimum in _QUIET.items():
        logging.getLogger(name).setLevel(max(minimum, floor))
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, _ClientErrorFilter) for f in server.filters):
        server.addFilter(_ClientErrorFilter())
    for name, marker in _BODY_LOGGERS.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _BodyFilter) for f in logger.filters):
            logger.addFilter(_BodyFilter(marker))


def _redact_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if isinstance(value, str):
            event_dict[key] = redact(value)
    return event_dict


class _RedactingFilter(logging.Filter):
    """Masks secrets and cuts over-long messages (a library logging a whole body)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        try:
            message = record.getMessage()
        except Exception:  # a library's broken format string: keep the template only
            record.args = None
            message = str(record.msg)
        if len(message) > MAX_MESSAGE:
            record.msg, record.args = message[:MAX_MESSAGE] + " [cut]", None
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
    quiet_libraries(level)
