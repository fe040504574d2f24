"""The command grammar and deadlines: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import UsageError, UserError
from bot.grammar import parse_args, split_command
from bot.timeparse import parse_deadline
from bot.views import Button
from handlers.polls import POLL

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "name", "rest"),
    [
        ('/poll@TownhallBot "Q?" "A"', "poll", '"Q?" "A"'),
        ("POLL x", "poll", "x"),
        ("  results   abc ", "results", "abc"),
        ("/help", "help", ""),
    ],
)
def test_split_command(text: str, name: str, rest: str) -> None:
    assert split_command(text) == (name, rest)


def test_quotes_flags_and_options() -> None:
    parsed = parse_args(
        POLL, "\"Open on Sundays?\" Yes 'Not sure' --multi --closes=2d --results CLOSED"
    )
    assert parsed.args == ("Open on Sundays?", "Yes", "Not sure")
    assert parsed.flags == {"multi"}
    assert parsed.options == {"closes": "2d", "results": "closed"}


def test_curly_quotes_from_phones_work() -> None:
    parsed = parse_args(POLL, "“Open on Sundays?” “Yes please” “No”")
    assert parsed.args == ("Open on Sundays?", "Yes please", "No")


@pytest.mark.parametrize(
    ("rest", "message"),
    [
        ('"Q? "A"', "check your quotes"),
        ('"Q?" A B --closes', "--closes needs a value"),
        ('"Q?" A B --nope', "Unknown option --nope"),
        ("", "Usage: poll"),
    ],
)
def test_usage_errors(rest: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_args(POLL, rest)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("30m", timedelta(minutes=30)),
        ("6h", timedelta(hours=6)),
        ("2d", timedelta(days=2)),
        ("1W", timedelta(weeks=1)),
    ],
)
def test_relative_deadlines(text: str, delta: timedelta) -> None:
    assert parse_deadline(text, NOW) == NOW + delta


def test_absolute_deadlines() -> None:
    assert parse_deadline("2026-12-01T12:00Z", NOW) == datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert parse_deadline("2026-12-01T12:00+01:00", NOW) == datetime(2026, 12, 1, 11, tzinfo=UTC)


@pytest.mark.parametrize("text", ["0h", "2020-01-01T00:00Z", "tomorrow", "400d"])
def test_bad_deadlines(text: str) -> None:
    with pytest.raises(UserError):
        parse_deadline(text, NOW)


def test_action_ids_fit_every_platform() -> None:
    assert len(Button("x", "vote", "abcdef:10").custom_id.encode()) <= 64
    with pytest.raises(ValueError, match="too long"):
        Button("x", "vote", "y" * 70)
