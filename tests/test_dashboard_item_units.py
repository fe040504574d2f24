"""The item page's pure view models: chart geometry, time buckets, paging, the embed snippet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard.pages.item_charts import (
    CHART_WIDTH,
    COLUMNS_HEIGHT,
    VALUE_ROOM,
    bar_chart,
    choose_bucket,
    column_chart,
    embed_snippet,
    fill_gaps,
    pagination,
    query_string,
)

T0 = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)


def test_bars_are_proportional_to_the_share() -> None:
    chart = bar_chart([("Yes", 3, 75.0), ("No", 1, 25.0), ("Unsure", 0, 0.0)])
    track = CHART_WIDTH - VALUE_ROOM
    assert [b.width for b in chart.bars] == [track * 0.75, track * 0.25, 0.0]
    assert [b.bar_y for b in chart.bars] == sorted(b.bar_y for b in chart.bars)
    assert chart.height >= chart.bars[-1].bar_y + chart.bar_height
    assert all(b.value_x > b.width for b in chart.bars)
    assert chart.summary == (
        "Bar chart of results. Yes: 3 votes (75%); No: 1 votes (25%); Unsure: 0 votes (0%)"
    )


def test_bar_labels_are_shortened_and_shares_clamped() -> None:
    chart = bar_chart([("x" * 200, 5, 140.0)])
    assert len(chart.bars[0].label) <= 70 and chart.bars[0].label.endswith("…")
    assert chart.bars[0].width == CHART_WIDTH - VALUE_ROOM
    assert bar_chart([]).bars == []


def test_bucket_is_hours_for_young_items() -> None:
    assert choose_bucket(T0, T0 + timedelta(hours=47)) == "hour"
    assert choose_bucket(T0, T0 + timedelta(days=2)) == "day"


def test_gaps_are_filled_with_zero() -> None:
    points = [(T0, 2), (T0 + timedelta(days=3), 1)]
    filled = fill_gaps(points, "day")
    assert [c for _, c in filled] == [2, 0, 0, 1]
    assert fill_gaps([], "hour") == []
    far = [(T0, 1), (T0 + timedelta(days=1000), 1)]
    assert fill_gaps(far, "day") == far  # too many buckets: left as they are


def test_columns_scale_to_the_busiest_bucket() -> None:
    chart = column_chart([(T0, 4), (T0 + timedelta(hours=2), 2)], "hour")
    assert [c.count for c in chart.columns] == [4, 0, 2]
    assert [c.height for c in chart.columns] == [COLUMNS_HEIGHT, 0.0, COLUMNS_HEIGHT / 2]
    assert all(c.y + c.height == chart.baseline for c in chart.columns)
    assert chart.columns[0].label == "28 Nov 2026 00:00"
    assert "6 in all, at most 4 in one hour" in chart.summary
    assert column_chart([], "day").summary == "No responses yet."


def test_embed_snippet_is_escaped_and_has_no_style() -> None:
    snippet = embed_snippet("https://consult.example/", "k3m9xq", 'Say "hi" <b>')
    assert snippet == (
        '<iframe src="https://consult.example/c/k3m9xq" title="Say &quot;hi&quot; &lt;b&gt;" '
        'width="100%" height="520" loading="lazy"></iframe>'
    )


def test_query_strings_keep_filters() -> None:
    params: dict[str, str | int | None] = {"q": "bus stop", "platform": "", "page": 2}
    assert query_string(params) == "?q=bus+stop&page=2"
    assert query_string(params, page=None) == "?q=bus+stop"
    assert query_string({}) == ""


def test_pagination_shows_neighbours_and_ends() -> None:
    assert pagination("/items/x", {}, 1, 20, 20) is None
    paging = pagination("/items/x", {"q": "a"}, 5, 200, 20)
    assert paging is not None
    numbers = [i.get("number", "…") for i in paging["items"]]  # type: ignore[attr-defined]
    assert numbers == [1, "…", 4, 5, 6, "…", 10]
    assert paging["previous"] == {"href": "/items/x?q=a&page=4"}
    assert paging["next"] == {"href": "/items/x?q=a&page=6"}
