"""How the CLI prints listings and results: shared by the fast and the ordinary read paths, so
both print exactly the same thing (light to import: click and json only)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from services.results import ItemResults


def echo_listing(
    rows: Sequence[Mapping[str, Any]],
    as_json: bool,
    line: Callable[[Mapping[str, Any]], str],
    empty: str,
    *,
    ensure_ascii: bool = True,
) -> None:
    """Print a ``list`` command's rows: as one JSON array, or a line each (``empty`` if none)."""
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=ensure_ascii))
        return
    for row in rows:
        click.echo(line(row))
    if not rows:
        click.echo(empty)


def echo_items(rows: Sequence[Mapping[str, str]], as_json: bool) -> None:
    """``townhall list``: rows of id, kind, question, status."""
    echo_listing(
        rows,
        as_json,
        lambda row: f"{row['id']}  {row['kind']:<5} {row['status']:<6} {row['question']}",
        "No items yet.",
        ensure_ascii=False,
    )


def echo_results(res: ItemResults, as_json: bool) -> None:
    """``townhall results ID``: the documented JSON shape, or a short text summary."""
    if as_json:
        click.echo(json.dumps(res.to_json(), ensure_ascii=False))
        return
    click.echo(f"{res.question}  [{res.kind} {res.id}, {res.status}]")
    click.echo(f"participants: {res.participants}  responses: {res.responses}")
    for option in res.options:
        click.echo(f"  {option.votes:>6}  {option.percent:5.1f}%  {option.label}")
    if res.by_platform:
        click.echo("by platform: " + ", ".join(f"{p} {n}" for p, n in res.by_platform.items()))
    for answer in res.answers:
        click.echo(f"  - [{answer.platform}] {answer.text}")


def no_item(short_id: str) -> SystemExit:
    click.echo(f"townhall: no item with id {short_id!r}", err=True)
    return SystemExit(1)
