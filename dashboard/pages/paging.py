"""One GOV.UK pagination: page links around the current one, first and last, with gaps."""

from __future__ import annotations

from collections.abc import Callable


def govuk_pagination(
    page: int, total: int, per_page: int, href: Callable[[int], str], label: str
) -> dict[str, object] | None:
    """Parameters for the GOV.UK pagination macro, or None when one page holds everything."""
    last = max(1, -(-total // per_page))
    if last == 1:
        return None
    items: list[dict[str, object]] = []
    shown = 0
    for number in range(1, last + 1):
        if number in (1, last) or abs(number - page) <= 1:
            if shown and number - shown > 1:
                items.append({"ellipsis": True})
            items.append({"number": number, "href": href(number), "current": number == page})
            shown = number
    result: dict[str, object] = {"items": items, "landmarkLabel": label}
    if page > 1:
        result["previous"] = {"href": href(page - 1)}
    if page < last:
        result["next"] = {"href": href(page + 1)}
    return result
