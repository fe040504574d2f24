"""Exports (CSV, JSON, ODS; one item or all) on SQLite and PostgreSQL, read back and checked."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from odf.namespaces import OFFICENS, TABLENS
from odf.opendocument import load
from odf.table import Table, TableCell, TableRow
from odf.teletype import extractText
from odf.text import P
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncSession

from services import exports, results
from services.exports_ods import PERCENT_STYLE
from storage import migrate
from storage.db import Database
from storage.items import ItemRepository, NewItem
from storage.models import Answer, Base, Item, Participant, Vote
from storage.people import ParticipantRepository
from storage.themes import ThemeRepository
from townhall.cli import main

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
SECRET = "export-test-secret-0123456789abcdef"
RAW_IDS = ["URAWALICE0001", "URAWBOB00002", "URAWCAROL003"]
INJECTION = "=cmd|' /C calc'!A0"
SPACED = "  two  spaces\tand a tab\nnew line & <b>tags</b> “quotes” "


@dataclass
class Seeded:
    ask: Item
    poll: Item
    empty: Item
    people: list[Participant]
    answer_ids: list[int]  # visible injection, visible spaced, held, hidden


async def seed(db: Database) -> Seeded:
    async with db.transaction() as session:
        items = ItemRepository(session)
        ask = await items.create(NewItem("ask", "=Ideas for the park?", [], "test:o", T0))
        poll = await items.create(
            NewItem("poll", "Sunday opening?", ["Yes", "No"], "test:o", T0 + timedelta(minutes=1))
        )
        empty = await items.create(
            NewItem("scale", "How safe?", ["1", "2", "3", "4", "5"], "test:o", T0)
        )
        repo = ParticipantRepository(session, SECRET)
        people = [await repo.ensure("slack", raw, T0) for raw in RAW_IDS]
        texts = [(INJECTION, "visible"), (SPACED, "visible"), ("Held one", "held")]
        texts.append(("Hidden one", "hidden"))
        answers = [
            Answer(
                item_id=ask.id,
                participant_id=people[i % 3].id,
                platform="slack",
                text=text,
                status=status,
                flags=[],
                created_at=T0 + timedelta(minutes=i, microseconds=250),
            )
            for i, (text, status) in enumerate(texts)
        ]
        session.add_all(answers)
        for i, (who, position) in enumerate([(0, 1), (1, 2), (2, 1)]):
            session.add(
                Vote(
                    item_id=poll.id,
                    option_id=poll.options[position - 1].id,
                    participant_id=people[who].id,
                    multi=False,
                    platform="telegram",
                    created_at=T0 + timedelta(hours=1, minutes=i),
                )
            )
        await session.flush()
        themes = ThemeRepository(session)
        parking = await themes.create(ask, "parking", "dashboard:o@example.gov.uk", T0)
        bins = await themes.create(ask, "Bins", "dashboard:o@example.gov.uk", T0)
        for theme in (parking, bins):
            await themes.tag(answers[0].id, theme.id, "dashboard:o@example.gov.uk", T0)
        await themes.tag(answers[3].id, bins.id, "dashboard:o@example.gov.uk", T0)
        return Seeded(ask, poll, empty, people, [a.id for a in answers])


async def export(db: Database, items: list[Item], fmt: str, **kw: Any) -> bytes:
    async with db.transaction() as session:
        return await exports.build(session, items, fmt, include_hidden=False, **kw)


def assert_pseudonymous(data: bytes, world: Seeded) -> None:
    text = data.decode("utf-8") if not data.startswith(b"PK") else _ods_text(data)
    for raw in RAW_IDS:
        assert raw not in text
    for person in world.people:
        assert person.pseudonym not in text  # only the 16-character prefix


def _ods_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


async def test_csv_one_item_neutralises_formulas_and_hides_held(db: Database) -> None:
    world = await seed(db)
    data = await export(db, [world.ask], "csv")
    table = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert table[0] == exports.COLUMNS
    assert table[0][:9] == [
        *("item", "kind", "question", "participant", "platform", "created_at"),
        *("option", "text", "status"),
    ]
    records = [dict(zip(table[0], row, strict=True)) for row in table[1:]]
    assert [r["text"] for r in records] == ["'" + INJECTION, SPACED]
    assert {r["question"] for r in records} == {"'=Ideas for the park?"}
    assert [r["answer"] for r in records] == [f"A{i}" for i in world.answer_ids[:2]]
    assert [r["themes"] for r in records] == ["Bins; parking", ""]
    assert [r["status"] for r in records] == ["visible", "visible"]
    assert records[0]["created_at"] == (T0 + timedelta(microseconds=250)).isoformat()
    assert {len(r["participant"]) for r in records} == {16}
    assert_pseudonymous(data, world)

    async with db.transaction() as session:
        full = await exports.build(session, [world.ask], "csv", include_hidden=True)
    statuses = [r["status"] for r in csv.DictReader(io.StringIO(full.decode("utf-8")))]
    assert statuses == ["visible", "visible", "held", "hidden"]


async def test_csv_all_items_is_one_table(db: Database) -> None:
    world = await seed(db)
    data = await export(db, [world.ask, world.poll, world.empty], "csv")
    records = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert [r["item"] for r in records] == [world.ask.short_id] * 2 + [world.poll.short_id] * 3
    assert [r["option"] for r in records[2:]] == ["Yes", "No", "Yes"]
    assert {(r["answer"], r["themes"], r["platform"]) for r in records[2:]} == {
        ("", "", "telegram")
    }
    assert_pseudonymous(data, world)


async def expected_json(session: AsyncSession, item: Item, include_hidden: bool) -> dict[str, Any]:
    summary = await results.compute(session, item, include_hidden=include_hidden)
    rows = await exports.rows(session, item, include_hidden=include_hidden)
    return {"item": summary.to_json(), "responses": rows}


async def test_json_one_item_keeps_the_documented_shape(db: Database) -> None:
    world = await seed(db)
    for item in (world.ask, world.poll, world.empty):
        for hidden in (False, True):
            async with db.transaction() as session:
                data = await exports.build(session, [item], "json", include_hidden=hidden)
                expected = await expected_json(session, item, hidden)
            # byte for byte what `json.dumps(..., indent=2)` of the whole object gives
            assert data.decode() == json.dumps(expected, ensure_ascii=False, indent=2)
    parsed = json.loads(await export(db, [world.ask], "json"))
    assert set(parsed) == {"item", "responses"}
    assert parsed["item"]["responses"] == 2
    assert [r["text"] for r in parsed["responses"]] == [INJECTION, SPACED]  # JSON is not a sheet
    assert parsed["responses"][0]["themes"] == ["Bins", "parking"]
    assert parsed["responses"][0]["answer"] == f"A{world.answer_ids[0]}"
    assert_pseudonymous(await export(db, [world.poll], "json"), world)


async def test_json_all_items(db: Database) -> None:
    world = await seed(db)
    items = [world.ask, world.poll, world.empty]
    at = T0 + timedelta(days=1)
    async with db.transaction() as session:
        data = await exports.build(session, items, "json", include_hidden=True, at=at)
        expected = {
            "exported_at": at.isoformat(),
            "items": [await expected_json(session, item, True) for item in items],
        }
        single = await exports.build(session, [world.poll], "json", include_hidden=False, many=True)
        nothing = await exports.build(session, [], "json", include_hidden=False, at=at)
    assert data.decode() == json.dumps(expected, ensure_ascii=False, indent=2)
    assert [e["item"]["id"] for e in json.loads(single)["items"]] == [world.poll.short_id]
    assert json.loads(nothing) == {"exported_at": at.isoformat(), "items": []}
    assert_pseudonymous(data, world)


def sheet(doc: Any, name: str) -> list[list[TableCell]]:
    (table,) = [
        t for t in doc.spreadsheet.getElementsByType(Table) if t.getAttribute("name") == name
    ]
    return [row.getElementsByType(TableCell) for row in table.getElementsByType(TableRow)]


def text_of(cell: Any) -> str:
    return "\n".join(extractText(p) for p in cell.getElementsByType(P))


def value_type(cell: Any) -> str | None:
    return cell.attributes.get((OFFICENS, "value-type"))  # type: ignore[no-any-return]


async def test_ods_all_items_read_back_cell_by_cell(db: Database) -> None:
    world = await seed(db)
    items = [world.ask, world.poll, world.empty]
    data = await export(db, items, "ods")
    assert_pseudonymous(data, world)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert z.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    assert data[30:38] == b"mimetype"  # the first local header names it, as ODF requires

    doc = load(io.BytesIO(data))
    async with db.transaction() as session:
        expected = [r for item in items for r in await exports.rows(session, item)]
    rows = sheet(doc, "Responses")
    assert [text_of(c) for c in rows[0]] == exports.COLUMNS
    assert len(rows) == 1 + len(expected) == 6
    for row, record in zip(rows[1:], expected, strict=True):
        assert len(row) == len(exports.COLUMNS)
        for column, cell in zip(exports.COLUMNS, row, strict=True):
            value = record[column]
            if column == "created_at":
                assert value_type(cell) == "date"
                stamp = datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
                assert cell.attributes[(OFFICENS, "date-value")] == stamp.isoformat()
                assert text_of(cell) == value
                continue
            shown = "; ".join(value) if isinstance(value, list) else value
            assert text_of(cell) == shown, column  # exact text: spaces, tabs, new lines kept
            assert value_type(cell) == ("string" if shown else None)
    assert text_of(rows[1][7]) == INJECTION  # a string cell is never evaluated
    assert text_of(rows[2][7]) == SPACED

    summary = sheet(doc, "Summary")
    assert [text_of(c) for c in summary[0]] == [
        "item",
        "kind",
        "question",
        "option",
        "count",
        "share",
    ]
    got = []
    for row in summary[1:]:
        count, share = row[4], row[5]
        assert value_type(count) == "float"
        assert value_type(share) in ("percentage", None)
        got.append(
            (
                *(text_of(c) for c in row[:4]),
                float(count.attributes[(OFFICENS, "value")]),
                share.attributes.get((OFFICENS, "value")),
            )
        )
        assert share.attributes.get((TABLENS, "style-name")) == (
            PERCENT_STYLE if value_type(share) else None
        )
    ask, poll, scale = world.ask, world.poll, world.empty
    assert got == [
        (ask.short_id, "ask", ask.question, "", 2.0, None),
        (ask.short_id, "ask", ask.question, "Theme: Bins", 1.0, "0.5"),
        (ask.short_id, "ask", ask.question, "Theme: parking", 1.0, "0.5"),
        (poll.short_id, "poll", poll.question, "Yes", 2.0, "0.667"),
        (poll.short_id, "poll", poll.question, "No", 1.0, "0.333"),
        *[(scale.short_id, "scale", scale.question, str(n), 0.0, "0.0") for n in range(1, 6)],
    ]


async def test_ods_one_item_with_hidden(db: Database) -> None:
    world = await seed(db)
    async with db.transaction() as session:
        data = await exports.build(session, [world.ask], "ods", include_hidden=True)
    doc = load(io.BytesIO(data))
    rows = sheet(doc, "Responses")
    assert [text_of(r[8]) for r in rows[1:]] == ["visible", "visible", "held", "hidden"]
    assert [text_of(r[10]) for r in rows[1:]] == ["Bins; parking", "", "", "Bins"]
    summary = sheet(doc, "Summary")
    assert [(text_of(r[3]), text_of(r[4])) for r in summary[1:]] == [
        ("", "4"),
        ("Theme: Bins", "2"),
        ("Theme: parking", "1"),
    ]


SOFFICE = shutil.which("soffice")
#: LibreOffice's CSV filter: comma, double quote, UTF-8, from row 1, cells as shown, one file
#: per sheet (-1).
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


@pytest.mark.skipif(
    SOFFICE is None and not os.environ.get("CI"),
    reason="LibreOffice (soffice) is not installed; .ci/run installs it",
)
async def test_ods_opens_in_libreoffice_calc(db: Database, tmp_path: Path) -> None:
    """A spreadsheet program reads every cell back as written, and evaluates no formula."""
    assert SOFFICE, "CI must have LibreOffice: apt-get install libreoffice-calc-nogui"
    world = await seed(db)
    items = [world.ask, world.poll, world.empty]
    async with db.transaction() as session:
        data = await exports.build(session, items, "ods", include_hidden=True)
        expected = [
            r for item in items for r in await exports.rows(session, item, include_hidden=True)
        ]
    (tmp_path / "export.ods").write_bytes(data)
    process = await asyncio.create_subprocess_exec(
        SOFFICE,
        f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
        "--headless",
        "--convert-to",
        CSV_FILTER,
        "--outdir",
        str(tmp_path / "out"),
        str(tmp_path / "export.ods"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, (out, err)

    def read(name: str) -> list[list[str]]:
        path = tmp_path / "out" / f"export-{name}.csv"
        with path.open(encoding="utf-8", newline="") as f:
            return list(csv.reader(f))

    responses = read("Responses")
    assert responses[0] == exports.COLUMNS
    assert len(responses) == 1 + len(expected) == 8
    for shown, record in zip(responses[1:], expected, strict=True):
        for column, cell in zip(exports.COLUMNS, shown, strict=True):
            value = record[column]
            if column == "created_at":  # a real date cell, shown to the second
                stamp = datetime.fromisoformat(value).astimezone(UTC)
                assert cell == f"{stamp:%Y-%m-%d %H:%M:%S}"
            else:
                # Calc keeps a tab as <text:tab/> in its own files, but its CSV filter drops it.
                written = "; ".join(value) if isinstance(value, list) else value
                assert cell == written.replace("\t", ""), column
    texts = [row[7] for row in responses[1:]]
    assert INJECTION in texts  # kept as text, never evaluated
    assert "  two  spacesand a tab\nnew line" in texts[1]  # two lines in one cell

    summary = read("Summary")
    assert summary[0] == ["item", "kind", "question", "option", "count", "share"]
    poll = [row[3:] for row in summary[1:] if row[0] == world.poll.short_id]
    assert poll == [["Yes", "2", "66.7%"], ["No", "1", "33.3%"]]


async def test_rows_stream_in_batches_with_progress(db: Database, monkeypatch: Any) -> None:
    world = await seed(db)
    monkeypatch.setattr(exports, "BATCH", 2)
    items = [world.ask, world.poll, world.empty]
    for fmt in exports.FORMATS:
        seen: list[int] = []
        async with db.transaction() as session:
            await exports.build(session, items, fmt, include_hidden=True, progress=seen.append)
            total = await exports.count(session, items, include_hidden=True)
        assert seen == [2, 2, 2, 1] and sum(seen) == total == 7, fmt
    async with db.transaction() as session:
        assert await exports.count(session, items, include_hidden=False) == 5
        assert await exports.count(session, [], include_hidden=False) == 0


def test_filenames_and_content_types() -> None:
    item = Item(short_id="abc123")
    at = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    assert exports.filename(item, "ods", at) == "townhall-abc123-20260304-0506.ods"
    assert exports.filename(None, "csv", at) == "townhall-all-20260304-0506.csv"
    assert set(exports.CONTENT_TYPES) == set(exports.FORMATS)
    assert exports.CONTENT_TYPES["ods"] == "application/vnd.oasis.opendocument.spreadsheet"


# -- the command line ------------------------------------------------------------------------


@pytest.fixture
def cli_env(db_url: str) -> Iterator[tuple[dict[str, str], Seeded]]:
    """A seeded database the CLI reaches through its environment (fresh tables on PostgreSQL)."""

    async def prepare() -> Seeded:
        database = Database(db_url)
        try:
            if database.is_sqlite:
                await migrate.upgrade(database)
            else:
                async with database.transaction() as session:
                    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
                    await session.execute(sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return await seed(database)
        finally:
            await database.dispose()

    world = asyncio.run(prepare())
    env = {
        "TOWNHALL_DATABASE_URL": db_url,
        "TOWNHALL_SECRET_KEY": SECRET,
        "TOWNHALL_POLICY_TEAM": "console:olivia",
    }
    yield env, world


def townhall(env: dict[str, str], *args: str) -> Result:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result


def test_cli_formats_one_item_and_all(
    cli_env: tuple[dict[str, str], Seeded], tmp_path: Path
) -> None:
    env, world = cli_env
    out = townhall(env, "export", world.ask.short_id)  # csv by default, to stdout
    assert out.exit_code == 0, out.stderr
    records = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["text"] for r in records] == ["'" + INJECTION, SPACED]
    assert out.stderr == ""  # no progress bar off a terminal

    hidden = townhall(env, "export", world.ask.short_id, "--format", "json", "--include-hidden")
    data = json.loads(hidden.stdout)
    assert set(data) == {"item", "responses"}
    assert [r["status"] for r in data["responses"]] == ["visible", "visible", "held", "hidden"]

    everything = json.loads(townhall(env, "export", "--all", "--format", "json").stdout)
    assert set(everything) == {"exported_at", "items"}
    assert [e["item"]["id"] for e in everything["items"]] == [
        world.ask.short_id,
        world.empty.short_id,
        world.poll.short_id,
    ]  # oldest first (the scale and the question share a creation time)
    table = list(csv.DictReader(io.StringIO(townhall(env, "export", "--all").stdout)))
    assert len(table) == 5 and {r["item"] for r in table} == {
        world.ask.short_id,
        world.poll.short_id,
    }

    target = tmp_path / "all.ods"
    written = townhall(
        env, "export", "--all", "--format", "ods", "-o", str(target), "--no-progress"
    )
    assert written.exit_code == 0 and f"Wrote {target}" in written.stderr
    doc = load(str(target))
    assert len(sheet(doc, "Responses")) == 6
    piped = townhall(env, "export", world.poll.short_id, "--format", "ods")
    assert piped.exit_code == 0 and piped.stdout_bytes.startswith(b"PK")
    assert len(sheet(load(io.BytesIO(piped.stdout_bytes)), "Responses")) == 4
    for output in (out.stdout, hidden.stdout, target.read_bytes().decode("latin-1")):
        assert not any(raw in output for raw in RAW_IDS)


def test_cli_refuses_ambiguous_requests(cli_env: tuple[dict[str, str], Seeded]) -> None:
    env, world = cli_env
    both = townhall(env, "export", world.ask.short_id, "--all")
    assert both.exit_code == 2 and "ITEM_ID or --all" in both.stderr
    neither = townhall(env, "export")
    assert neither.exit_code == 2
    missing = townhall(env, "export", "nosuch")
    assert missing.exit_code == 1 and "no item with id 'nosuch'" in missing.stderr
    bad = townhall(env, "export", world.ask.short_id, "--format", "xlsx")
    assert bad.exit_code == 2
