"""Pure view models for the item page: SVG chart geometry, time buckets, paging, the embed snippet.

Geometry is given as SVG attributes (the CSP blocks style attributes); colours come from classes
in ``dashboard/static/item.css``. Every chart sits beside a table of the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Literal
from urllib.parse import urlencode

from bot.views import ResultBar, clip
from dashboard.pages.paging import govuk_pagination

Bucket = Literal["hour", "day"]

CHART_WIDTH = 600
ROW_HEIGHT = 46
LABEL_CHARS = 70
BAR_HEIGHT = 20
VALUE_ROOM = 90  # room right of the longest bar for its figure
COLUMNS_HEIGHT = 160
AXIS_ROOM = 24
MAX_FILLED_BUCKETS = 400
EMBED_HEIGHT = 520


@dataclass(frozen=True, slots=True)
class Bar(ResultBar):
    """A result bar placed on the dashboard's chart (its label possibly shortened: the table
    beside the chart has the full text)."""

    label_y: int
    bar_y: int
    width: float
    value_x: float
    value_y: int


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    track: int  # the length of a 100% bar
    bar_height: int
    bars: list[Bar]
    summary: str


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return clip(text, limit)


def _num(value: float) -> float:
    return round(value, 1)


def bar_chart(options: Sequence[tuple[str, int, float]], *, noun: str = "votes") -> BarChart:
    """Horizontal bars, one per (label, votes, percent); bar length is the share out of 100%."""
    track = CHART_WIDTH - VALUE_ROOM
    bars: list[Bar] = []
    for n, (label, votes, percent) in enumerate(options):
        top = n * ROW_HEIGHT
        width = _num(track * max(0.0, min(percent, 100.0)) / 100)
        bars.append(
            Bar(
                label=_short(label),
                votes=votes,
                percent=percent,
                label_y=top + 14,
                bar_y=top + 20,
                width=width,
                value_x=_num(width + 6),
                value_y=top + 20 + BAR_HEIGHT - 5,
            )
        )
    parts = [f"{label}: {votes} {noun} ({percent:g}%)" for label, votes, percent in options]
    summary = "Bar chart of results. " + ("; ".join(parts) if parts else "No options.")
    height = max(ROW_HEIGHT * len(bars), ROW_HEIGHT)
    return BarChart(CHART_WIDTH, height, track, BAR_HEIGHT, bars, summary)


def choose_bucket(created_at: datetime, now: datetime) -> Bucket:
    """By hour while the item is younger than two days, by day after that."""
    return "hour" if now - created_at < timedelta(days=2) else "day"


def _step(bucket: Bucket) -> timedelta:
    return timedelta(hours=1) if bucket == "hour" else timedelta(days=1)


def fill_gaps(points: Sequence[tuple[datetime, int]], bucket: Bucket) -> list[tuple[datetime, int]]:
    """Zero counts for the empty buckets between the first and the last (bounded)."""
    if not points:
        return []
    step = _step(bucket)
    counts = dict(points)
    start, end = points[0][0], points[-1][0]
    if (end - start) / step > MAX_FILLED_BUCKETS:
        return list(points)
    out: list[tuple[datetime, int]] = []
    at = start
    while at <= end:
        out.append((at, counts.get(at, 0)))
        at += step
    return out


def bucket_label(at: datetime, bucket: Bucket) -> str:
    if bucket == "hour":
        return f"{at.day} {at:%b %Y %H:%M}"
    return f"{at.day} {at:%b %Y}"


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class ColumnChart:
    width: int
    height: int
    baseline: int
    columns: list[Column]
    peak: int
    first_label: str
    last_label: str
    summary: str


def column_chart(points: Sequence[tuple[datetime, int]], bucket: Bucket) -> ColumnChart:
    """Vertical columns of responses per bucket, scaled to the busiest bucket."""
    filled = fill_gaps(points, bucket)
    peak = max((count for _, count in filled), default=0)
    slot = CHART_WIDTH / max(len(filled), 1)
    gap = min(2.0, slot / 4)
    columns: list[Column] = []
    for n, (at, count) in enumerate(filled):
        height = _num(COLUMNS_HEIGHT * count / peak) if peak else 0.0
        columns.append(
            Column(
                label=bucket_label(at, bucket),
                count=count,
                x=_num(n * slot + gap / 2),
                y=_num(COLUMNS_HEIGHT - height),
                width=_num(max(slot - gap, 0.5)),
                height=height,
            )
        )
    total = sum(c.count for c in columns)
    per = "hour" if bucket == "hour" else "day"
    if columns:
        summary = (
            f"Responses per {per} from {columns[0].label} to {columns[-1].label}: "
            f"{total} in all, at most {peak} in one {per}."
        )
    else:
        summary = "No responses yet."
    return ColumnChart(
        width=CHART_WIDTH,
        height=COLUMNS_HEIGHT + AXIS_ROOM,
        baseline=COLUMNS_HEIGHT,
        columns=columns,
        peak=peak,
        first_label=columns[0].label if columns else "",
        last_label=columns[-1].label if columns else "",
        summary=summary,
    )


def embed_snippet(base_url: str, short_id: str, title: str) -> str:
    """The iframe another website pastes (shown as text on the page, never as live HTML)."""
    src = escape(f"{base_url.rstrip('/')}/c/{short_id}", quote=True)
    return (
        f'<iframe src="{src}" title="{escape(title, quote=True)}" width="100%" '
        f'height="{EMBED_HEIGHT}" loading="lazy"></iframe>'
    )


def query_string(params: Mapping[str, str | int | None], **changes: str | int | None) -> str:
    """``?a=1&b=2`` from the non-empty values, with ``changes`` applied ("" when nothing)."""
    merged = {**params, **changes}
    kept = [(k, str(v)) for k, v in merged.items() if v not in (None, "")]
    return "?" + urlencode(kept) if kept else ""


#: What a screen reader calls the answers' page links.
LABEL = "Answers pages"


def pagination(
    path: str, params: Mapping[str, str | int | None], page: int, total: int, per_page: int
) -> dict[str, object] | None:
    """Parameters for the GOV.UK pagination macro, or None when one page holds everything."""
    return govuk_pagination(
        page, total, per_page, lambda number: path + query_string(params, page=number), LABEL
    )
