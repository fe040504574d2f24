"""``townhall themes``: suggested themes for the answers to an open question (issue 19).

Read-only: suggestions are printed, never stored; the policy team accepts them as themes on the
dashboard (or tags answers by hand). The method and its figures are in docs/performance.md.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from townhall.cli import _item_or_exit, _run, _session, _settings

if TYPE_CHECKING:
    from services.themes import Suggestions


@click.group()
def themes() -> None:
    """Themes on the answers to open questions."""


@themes.command("suggest")
@click.argument("item_id")
@click.option(
    "--k", "k", type=click.IntRange(1, 30), help="How many themes (default: chosen from the data)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the documented JSON shape.")
def suggest(item_id: str, k: int | None, as_json: bool) -> None:
    """Suggest themes for ITEM_ID's visible answers: distinctive words, quotes and counts."""
    settings = _settings(quiet=True)

    async def go() -> tuple[Any, Suggestions]:
        from services import themes as themes_service

        async with _session(settings, read_only=True) as session:
            item = await _item_or_exit(session, item_id)
            if not themes_service.has_open_answers(item):
                click.echo(f"townhall: {item_id} is not an open question", err=True)
                raise SystemExit(1)
            return item, await themes_service.for_item(session, item, k)

    item, found = _run(go())
    if as_json:
        click.echo(json.dumps(found.as_json(item.short_id), ensure_ascii=False, indent=2))
        return
    total = sum(s.count for s in found.suggestions) + len(found.unassigned)
    click.echo(f"{item.short_id}: {item.question}")
    n = len(found.suggestions)
    click.echo(f"{n} suggested theme{'' if n == 1 else 's'} for {total} visible answers")
    click.echo(f"(method {found.method})")
    for s in found.suggestions:
        click.echo(f"\n{s.id}. {s.label}  [{s.count} answers]")
        click.echo(f"   words: {', '.join(s.words)}")
        for quote in s.quotes:
            click.echo(f"   “{_short(quote)}”")
    if found.unassigned:
        refs = ", ".join(f"A{i}" for i in found.unassigned[:20])
        more = f" and {len(found.unassigned) - 20} more" if len(found.unassigned) > 20 else ""
        n = len(found.unassigned)
        click.echo(f"\nFit no theme: {n} answer{'' if n == 1 else 's'} ({refs}{more})")


def _short(text: str, width: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
