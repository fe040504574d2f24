"""Consultation files: the example loads; each kind of bad file is refused with file and line."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.consultation_file import (
    RATING,
    STANCES,
    ConsultationFileError,
    load_file,
    load_text,
    parse_clauses,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GOOD = """\
slug: ok
title: A consultation
closes: 14d
items:
  - kind: ask
    question: What else?
"""


def refused(text: str, tmp_path: Path, name: str = "c.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConsultationFileError) as caught:
        load_file(path, now=NOW)
    return caught.value.problems


def test_the_example_expands_to_ordinary_items_in_order() -> None:
    plan = load_file(EXAMPLES / "dental-bill.yaml", now=NOW)
    assert plan.slug == "dental-bill" and plan.topics == ["health"]
    assert plan.closes_at == datetime(2027, 1, 31, 17, 0, tzinfo=UTC)
    kinds = [item.kind for item in plan.items]
    assert kinds == ["scale", *["clause"] * 8, *["rating"] * 4, "poll", "ask"]
    first = plan.items[1]
    assert (first.clause_number, first.clause_title) == ("1", "Duty to commission")
    assert first.clause_text is not None and first.clause_text.startswith("(1) Each integrated")
    assert first.options == STANCES
    rating = plan.items[9]
    assert rating.options == RATING == ("Improve", "Keep as is", "Scrap")
    assert rating.regulation_title == "The Dental Records (Retention) Regulations 2009"
    assert rating.regulation_summary == "Practices must keep records for 11 years."
    assert plan.items[10].regulation_summary == ""  # a regulation without a summary


def test_clause_headings_give_number_and_title() -> None:
    clauses = parse_clauses(
        "# The Bill\npreamble\n## 1. Duty to commission\nOne.\n## Clause 2 — Charges\nTwo.\n"
        "## 3A: Transitional provision\nThree A.\n## Interpretation\nFour.\n"
    )
    assert [(n, t, body) for n, t, body, _ in clauses] == [
        ("1", "Duty to commission", "One."),
        ("2", "Charges", "Two."),
        ("3A", "Transitional provision", "Three A."),
        ("4", "Interpretation", "Four."),
    ]


def test_relative_and_iso_closing_times() -> None:
    plan = load_text(GOOD, name="c.yaml", base=Path("."), now=NOW)
    assert plan.closes_at == NOW + timedelta(days=14) and plan.opens_at == NOW
    iso = GOOD.replace("closes: 14d", "closes: 2027-01-31T17:00:00Z\nopens: 2027-01-01T09:00Z")
    plan = load_text(iso, name="c.yaml", base=Path("."), now=NOW)
    assert plan.closes_at == datetime(2027, 1, 31, 17, 0, tzinfo=UTC)
    assert plan.opens_at == datetime(2027, 1, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("slug: ok", "slug: Dental Bill"), "c.yaml:1: slug: slug may hold only"),
        (GOOD.replace("kind: ask", "kind: survey"), "c.yaml:5: items[0].kind: unknown"),
        (GOOD.replace("    question: What else?\n", ""), "c.yaml:5: items[0].question: Field"),
        (GOOD.replace("closes: 14d", "closes: next tuesday"), "c.yaml:3: closes: closes must be"),
        (GOOD.replace("closes: 14d", "closes: 2020-01-01T00:00Z"), "c.yaml:3: closes: must be"),
        (GOOD.replace("closes: 14d\n", ""), "c.yaml:1: closes: Field required"),
        (GOOD + "  - kind: clauses\n    document: missing.md\n", "c.yaml:7: clauses: document"),
        (GOOD + "  - kind: clauses\n    text: |\n      No heading.\n", "c.yaml:7: clauses: text"),
        (
            GOOD + "  - kind: poll\n    question: Q\n    options: [one]\n",
            "c.yaml:9: items[1].options",
        ),
        (GOOD + "  - kind: rating\n    regulations: []\n", "c.yaml:8: items[1].regulations"),
        (GOOD + "colour: blue\n", "c.yaml:7: colour: Extra inputs"),
        (GOOD.replace("moderation", "x") + "moderation: sometimes\n", "c.yaml:7: moderation"),
        ("slug: [unclosed\n", "c.yaml:2: not valid YAML"),
        ("- just a list\n", "c.yaml:1: expected a mapping"),
        (GOOD + "slug: again\n", "c.yaml:7: slug: given twice"),
        (GOOD + "  - &q {kind: ask, question: Q}\n  - *q\n", "c.yaml:7: anchors and aliases"),
        (GOOD + "profile: [age, shoe-size]\n", "c.yaml:7: profile[1]"),
        (GOOD + "profile: [age, age]\n", "c.yaml:7: profile[1]: age is asked twice"),
        (
            GOOD + "profile:\n  - key: age\n    question: Age?\n    options: [Young, Old]\n",
            "c.yaml:8: profile[0].key: age is a built-in",
        ),
        (
            GOOD + "profile:\n  - key: Pets!\n    question: Pets?\n    options: [Cat, Dog]\n",
            "c.yaml:8: profile[0].key",
        ),
    ],
)
def test_bad_files_are_refused_with_file_and_line(text: str, expected: str, tmp_path: Path) -> None:
    problems = refused(text, tmp_path)
    assert any(p.startswith(str(tmp_path / expected)) for p in problems), problems


def test_a_clause_document_with_no_heading_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bill.md").write_text("# A Bill\n\nJust prose, no clauses.\n", encoding="utf-8")
    problems = refused(GOOD + "  - kind: clauses\n    document: bill.md\n", tmp_path)
    assert problems == [
        f"{tmp_path / 'c.yaml'}:7: clauses: bill.md has no clause; each clause starts with a "
        'line "## " (e.g. "## 1. Duty to commission")'
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("slug: ok", "slug: Not OK") + "  - kind: nope\n  - kind: ask\n"
    problems = refused(text, tmp_path)
    assert [p.split(": ")[0].rsplit(":", 1)[1] for p in problems] == ["1", "7", "8"]


def test_clause_documents_resolve_relative_to_the_file(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "dental-bill.md", tmp_path / "bill.md")
    (tmp_path / "sub").mkdir()
    text = GOOD + "  - kind: clauses\n    document: ../bill.md\n"
    (tmp_path / "sub" / "c.yaml").write_text(text, encoding="utf-8")
    plan = load_file(tmp_path / "sub" / "c.yaml", now=NOW)
    assert sum(1 for i in plan.items if i.kind == "clause") == 8


def test_profile_questions_built_in_and_custom() -> None:
    text = (
        GOOD
        + "profile:\n  - region\n  - key: ward\n    question: Ward?\n    options: [North, South]\n"
    )
    plan = load_text(text, name="c.yaml", base=Path("."), now=NOW)
    assert [q.key for q in plan.profile] == ["region", "ward"]
    assert "Wales" in plan.profile[0].options and plan.profile[1].options == ("North", "South")


def test_an_item_may_ask_its_own_profile_questions(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    question: What else?\n", "    question: What else?\n    profile: [age]\n"
    )
    plan = load_text(text, name="c.yaml", base=Path("."), now=NOW)
    assert plan.profile == [] and [q.key for q in plan.items[0].profile] == ["age"]
    problems = refused(text + "profile: [age]\n", tmp_path)
    assert any("items[0].profile[0]: age is asked twice" in p for p in problems), problems


def test_a_statements_item_keeps_its_seed_statements(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        GOOD
        + "  - kind: statements\n    question: What should the town centre become?\n"
        + "    statements:\n      - More  trees\n      - A weekly market\n",
        encoding="utf-8",
    )
    (_, item) = load_file(path, now=NOW).items
    assert (item.kind, item.statements) == ("statements", ("More trees", "A weekly market"))
    long = GOOD + "  - kind: statements\n    question: Q?\n    statements:\n      - " + "x" * 281
    assert refused(long + "\n", tmp_path)


def test_questions_and_options_in_english_and_welsh(tmp_path: Path) -> None:
    """Issue 18: ``{en: ..., cy: ...}`` where a plain string goes; plain strings still work."""
    text = """\
slug: bilingual
title: A consultation
closes: 14d
items:
  - kind: poll
    question: {en: "Open on Sundays?", cy: "Agor ar y Sul?"}
    options: [{en: "Yes", cy: Ie}, {en: "No", cy: Na}]
  - kind: scale
    statement: {en: Fines should go, cy: Dylai dirwyon fynd}
  - kind: ask
    question: What else?
"""
    poll, scale, ask = load_text(text, name="c.yaml", base=tmp_path, now=NOW).items
    assert (poll.question, poll.question_cy) == ("Open on Sundays?", "Agor ar y Sul?")
    assert (poll.options, poll.options_cy) == (("Yes", "No"), ("Ie", "Na"))
    assert (scale.question, scale.question_cy) == ("Fines should go", "Dylai dirwyon fynd")
    assert (ask.question, ask.question_cy, ask.options_cy) == ("What else?", None, ())
    half = text.replace('{en: "No", cy: Na}', '"No"')
    assert any("give every option in Welsh" in p for p in refused(half, tmp_path))


def test_a_consultations_own_text_in_english_and_welsh(tmp_path: Path) -> None:
    """Issue 18: title, introduction, privacy, a regulation, clauses and a custom "about you"
    question take ``{en: ..., cy: ...}``; the Welsh clauses must be the same clauses."""
    plan = load_file(EXAMPLES.parent / "tests" / "data" / "consultation-cy.yaml", now=NOW)
    assert (plan.title, plan.title_cy) == ("Bus Routes Plan", "Cynllun Llwybrau Bysiau")
    assert plan.introduction_cy == "Dywedwch wrthym sut y dylai'r bysiau redeg."
    assert (plan.privacy, plan.privacy_cy) == (
        "We keep your answers for 12 months.",
        "Rydym yn cadw eich atebion am 12 mis.",
    )
    travel = plan.profile[1]
    assert (travel.question_cy, travel.options_cy) == (
        "Sut ydych chi'n teithio fel arfer?",
        ("Ar y bws", "Mewn ffordd arall"),
    )
    rating, clause = plan.items
    assert (rating.question, rating.question_cy) == ("Night buses", "Bysiau nos")
    assert rating.regulation_summary_cy == "Mae bysiau'n rhedeg tan hanner nos."
    assert (clause.question_cy, clause.clause_title_cy) == ("Cymal 1: Prisiau", "Prisiau")
    assert clause.clause_text_cy == "Mae prisiau'n aros yn ddwy bunt."
    assert load_text(GOOD, name="c.yaml", base=tmp_path, now=NOW).title_cy is None

    text = (EXAMPLES.parent / "tests" / "data" / "consultation-cy.yaml").read_text()
    extra = text.replace("## 1. Prisiau", "## 1. Prisiau\n        Ie.\n        ## 2. Arall")
    assert any("the Welsh (text) has 2 clauses" in p for p in refused(extra, tmp_path))
    half = text.replace("{en: Another way, cy: Mewn ffordd arall}", "Another way")
    assert any("profile[1].options: give every option" in p for p in refused(half, tmp_path))
