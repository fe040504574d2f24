"""``townhall consultation``: load a consultation file, list and show consultations.

The file format is in docs/consultations.md. Publishing in chat comes later; loading checks the
file, writes the consultation and its items, and prints what was loaded.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from townhall.cli_output import echo_listing
from townhall.users_cli import _fail, _in_session, utc_now


@click.group()
def consultation() -> None:
    """Consultations: several items in order, loaded from a file (docs/consultations.md)."""


def _print(shown: dict[str, Any]) -> None:
    click.echo(f"{shown['slug']}  {shown['title']}  [{shown['status']}, closes {shown['closes']}]")
    click.echo(f"participants: {shown['participants']}  completed: {shown['completed']}")
    for item in shown["items"]:
        click.echo(f"  {item['position']:>3}. {item['id']}  {item['kind']:<6} {item['question']}")


@consultation.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the loaded consultation as JSON.")
@click.option(
    "--new-version",
    is_flag=True,
    help="Once people have answered: keep their answers with the old version and start anew.",
)
def load(file: Path, as_json: bool, new_version: bool) -> None:
    """Create a consultation from FILE, or replace it while no one has answered yet."""
    from services import consultations
    from services.consultation_file import ConsultationFileError, load_file

    now = utc_now()
    try:
        plan = load_file(file, now=now)
    except ConsultationFileError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise SystemExit(1) from None

    async def work(session: Any) -> dict[str, Any] | str:
        try:
            loaded = await consultations.load(
                session, plan, new_version=new_version, actor="cli", now=now
            )
        except consultations.ConsultationConflict as exc:
            return str(exc)
        return await consultations.show(session, loaded, now)

    shown = _in_session(work)
    if isinstance(shown, str):
        click.echo(shown, err=True)
        raise SystemExit(1)
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False))
        return
    click.echo(f"Loaded {shown['slug']} (version {shown['version']}, {len(shown['items'])} items)")
    _print(shown)


@consultation.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_consultations(as_json: bool) -> None:
    """List consultations (the newest version of each)."""
    from services import consultations

    async def work(session: Any) -> list[dict[str, Any]]:
        return await consultations.listing(session, utc_now())

    echo_listing(
        _in_session(work),
        as_json,
        lambda row: (
            f"{row['slug']:<24} {row['status']:<10} {row['items']:>3} items  "
            f"{row['participants']:>5} took part  {row['completed']:>5} completed  {row['title']}"
        ),
        "No consultations yet.",
        ensure_ascii=False,
    )


@consultation.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print the documented JSON shape.")
def show(slug: str, as_json: bool) -> None:
    """Show a consultation and its items in order."""
    from services import consultations
    from storage.consultations import ConsultationRepository

    async def work(session: Any) -> dict[str, Any] | None:
        found = await ConsultationRepository(session).latest(slug)
        return None if found is None else await consultations.show(session, found, utc_now())

    shown = _in_session(work)
    if shown is None:
        raise _fail(f"no consultation {slug!r}")
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False))
        return
    _print(shown)


async def export_consultation(
    session: AsyncSession,
    name: str,
    fmt: str,
    out: IO[bytes],
    *,
    include_hidden: bool,
    at: datetime,
    by: tuple[str, int] | None = None,
) -> bool:
    """``townhall export SLUG``: export the consultation ``name`` when no item has that id;
    False when there is an item of that id or no consultation of that name."""
    from services import consultation_exports
    from storage.consultations import ConsultationRepository
    from storage.items import ItemRepository

    if await ItemRepository(session).by_short_id(name) is not None:
        return False
    repo = ConsultationRepository(session)
    found = await repo.latest(name)
    if found is None:
        return False
    items = await repo.items(found)
    await consultation_exports.write(
        session, found, items, fmt, out, include_hidden=include_hidden, at=at, by=by
    )
    return True
