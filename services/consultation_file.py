"""Read a consultation file (YAML, docs/consultations.md) into the items it expands to.

Everything wrong is refused as ``FILE:LINE: what is wrong``, all problems at once, before
anything is written. PyYAML's composer keeps each node's line; pydantic checks the shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bot.i18n import N_
from services.limits import MAX_SEEDS, MAX_STATEMENT
from services.profile import BUILT_IN, KEY_PATTERN, ProfileQuestion

# Option labels are stored in English and shown through the translator (catalogue messages).
SCALE = (
    N_("Strongly disagree"),
    N_("Disagree"),
    N_("Neither agree nor disagree"),
    N_("Agree"),
    N_("Strongly agree"),
)
RATING = (N_("Improve"), N_("Keep as is"), N_("Scrap"))
STANCES = (N_("Agree"), N_("Needs changes"), N_("Disagree"))
QUESTION_MAX = 300
_RELATIVE = re.compile(r"^(\d{1,3})\s*([dhw])$")
_HEADING = re.compile(
    r"^(?:clause\s+)?(?P<number>\d+[a-z]?)\s*(?:[.:)\u2014\u2013-]\s*)?(?P<title>.*)$",
    re.IGNORECASE,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=100)]
When = str | datetime | date


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class BilingualQuestion(_Strict):
    """``{en: ..., cy: ...}``: a question in English and Welsh (issue 18)."""

    en: Question
    cy: Question | None = None


class BilingualLabel(_Strict):
    en: Label
    cy: Label | None = None


class BilingualText(_Strict):
    """A longer text (an introduction, a privacy notice, a summary) in English and Welsh."""

    en: str = ""
    cy: str | None = None


class BilingualDocument(_Strict):
    """A clauses document (a file, or the text itself) in English and Welsh."""

    en: Text
    cy: Text | None = None


#: A plain string (one language), or ``{en: ..., cy: ...}``.
AnyQuestion = Question | BilingualQuestion
AnyLabel = Label | BilingualLabel
AnyText = str | BilingualText
AnyDocument = Text | BilingualDocument


_Any = str | BilingualQuestion | BilingualLabel | BilingualText | BilingualDocument


def _en(text: _Any) -> str:
    return text if isinstance(text, str) else text.en


def _cy(text: _Any) -> str | None:
    cy = None if isinstance(text, str) else text.cy
    return cy.strip() or None if cy is not None else None


class ProfileSpec(_Strict):
    """A custom "about you" question: single choice, asked once per person."""

    key: Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
    question: AnyQuestion
    options: list[AnyLabel] = Field(min_length=2, max_length=10)


BuiltInProfile = Literal["age", "region", "respondent"]


class _ItemSpec(_Strict):
    #: "About you" questions asked just before this item (its first, for clauses and ratings).
    profile: list[BuiltInProfile | ProfileSpec] = Field(default_factory=list, max_length=10)


class ScaleSpec(_ItemSpec):
    kind: Literal["scale"]
    statement: AnyQuestion


class PollSpec(_ItemSpec):
    kind: Literal["poll", "multi"]
    question: AnyQuestion
    options: list[AnyLabel] = Field(min_length=2, max_length=10)


class AskSpec(_ItemSpec):
    kind: Literal["ask"]
    question: AnyQuestion


class StatementsSpec(_ItemSpec):
    kind: Literal["statements"]
    question: AnyQuestion
    #: Seed statements people agree, disagree or pass on (issue 20).
    statements: list[
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_STATEMENT)
        ]
    ] = Field(default_factory=list, max_length=MAX_SEEDS)


class RegulationSpec(_Strict):
    title: AnyQuestion
    summary: AnyText = ""


class RatingSpec(_ItemSpec):
    kind: Literal["rating"]
    regulations: list[RegulationSpec] = Field(min_length=1)


class ClausesSpec(_ItemSpec):
    kind: Literal["clauses"]
    document: AnyDocument | None = None
    text: AnyDocument | None = None


ItemSpec = Annotated[
    ScaleSpec | PollSpec | AskSpec | RatingSpec | ClausesSpec | StatementsSpec,
    Field(discriminator="kind"),
]


class FileSpec(_Strict):
    slug: Slug
    title: AnyQuestion
    introduction: AnyText = ""
    privacy: AnyText = ""
    closes: When
    opens: When | None = None
    topics: list[Label] = Field(default_factory=list)
    moderation: Literal["strict", "lazy"] = "strict"
    profile: list[BuiltInProfile | ProfileSpec] = Field(default_factory=list, max_length=10)
    items: list[ItemSpec] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class PlannedItem:
    """One ordinary item a consultation expands to, in order."""

    kind: str  # poll, multi, scale, ask, rating, clause
    question: str
    options: tuple[str, ...] = ()
    clause_number: str | None = None
    clause_title: str | None = None
    clause_text: str | None = None
    regulation_title: str | None = None
    regulation_summary: str | None = None
    #: "About you" questions asked just before this item.
    profile: tuple[ProfileQuestion, ...] = ()
    #: A statements item's seed statements.
    statements: tuple[str, ...] = ()
    #: The Welsh (issue 18): the question, and each option's (all or none).
    question_cy: str | None = None
    options_cy: tuple[str, ...] = ()
    clause_title_cy: str | None = None
    clause_text_cy: str | None = None
    regulation_summary_cy: str | None = None


@dataclass(frozen=True, slots=True)
class ConsultationPlan:
    slug: str
    title: str
    introduction: str
    privacy: str
    opens_at: datetime
    closes_at: datetime
    topics: list[str]
    moderation: str
    source: str
    items: list[PlannedItem] = field(default_factory=list)
    slug_line: int = 1  # where ``slug`` is written, for refusals that concern the file
    #: "About you" questions asked once per person before the items (services/profile.py).
    profile: list[ProfileQuestion] = field(default_factory=list)
    #: The Welsh of the title, introduction and privacy text, when the file gives it.
    title_cy: str | None = None
    introduction_cy: str | None = None
    privacy_cy: str | None = None


class ConsultationFileError(Exception):
    """Every problem found, each ``FILE:LINE: what is wrong``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Lines:
    """Line numbers (1-based) of the nodes of a composed YAML document, found by path."""

    def __init__(self, root: yaml.Node) -> None:
        self.root = root

    def find(self, path: tuple[Any, ...]) -> int:
        node, line = self.root, self.root.start_mark.line + 1
        for part in path:
            child = self._child(node, part)
            if child is None:  # a pydantic union tag, or a key that is missing: stop here
                continue
            line, node = child
        return line

    @staticmethod
    def _child(node: yaml.Node, part: Any) -> tuple[int, yaml.Node] | None:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    return key.start_mark.line + 1, value
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if 0 <= part < len(node.value) else None
            return None if child is None else (child.start_mark.line + 1, child)
        return None


def _structure_problems(name: str, root: yaml.Node) -> list[str]:
    """Keys given twice (YAML would keep the last silently) and aliases (``*name``: a file
    that repeats a node by reference can expand without bound), each with its line."""
    problems: list[str] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            line = node.start_mark.line + 1
            problems.append(f"{name}:{line}: anchors and aliases (&name, *name) are not allowed")
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value in keys:
                    line = key.start_mark.line + 1
                    problems.append(f"{name}:{line}: {key.value}: given twice")
                keys.add(key.value if isinstance(key, yaml.ScalarNode) else "")
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return sorted(problems, key=lambda p: int(p[len(name) + 1 :].split(":", 1)[0]))


def _where(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _shape_problems(name: str, lines: _Lines, exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if error["type"].startswith("union_tag"):
            loc += ("kind",)
            kinds = "scale, clauses, rating, poll, multi, ask, statements"
            message = f"unknown or missing kind; use one of {kinds}"
        elif "profile" in loc and error["type"] in ("literal_error", "model_type"):
            if error["type"] == "model_type" or isinstance(error.get("input"), dict):
                continue  # said once: by the literal's error, or by the mapping's own
            loc = loc[: loc.index("profile") + 2]
            message = "use a built-in (age, region, respondent) or key, question and options"
        else:
            message = error["msg"]
            if error["type"] == "string_pattern_mismatch" and loc[-1:] == ("key",):
                message = "key may hold only a-z, 0-9, - and _, starting with a letter (e.g. ward)"
            if error["type"] == "string_pattern_mismatch" and loc == ("slug",):
                message = "slug may hold only a-z, 0-9 and single hyphens (e.g. dental-bill)"
        shown = tuple(p for p in loc if isinstance(p, int) or _is_key(p))
        problems.append(f"{name}:{lines.find(loc)}: {_where(shown) or 'file'}: {message}")
    return problems


def _is_key(part: Any) -> bool:
    """Whether ``part`` of an error's location is a key of the file, not a pydantic union tag."""
    return part not in {
        "str",
        "datetime",
        "date",
        "poll",
        "multi",
        "scale",
        "ask",
        "rating",
        "clauses",
        "ProfileSpec",
        "BilingualQuestion",
        "BilingualLabel",
        "BilingualText",
        "BilingualDocument",
        "literal['age','region','respondent']",
    }


def _moment(value: When, now: datetime, what: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59), UTC)
    match = _RELATIVE.match(value.strip())
    if match:
        n, unit = int(match.group(1)), match.group(2)
        return (
            now + {"d": timedelta(days=n), "h": timedelta(hours=n), "w": timedelta(weeks=n)}[unit]
        )
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"{what} must be an ISO time (2027-01-31T17:00Z) or a span such as 14d, not {value!r}"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_clauses(markdown: str) -> list[tuple[str, str, str, int]]:
    """(number, title, text, line) per ``## `` heading, in order; text before the first is not
    a clause (a title, a preamble). Headings without a number are numbered by their place."""
    clauses: list[tuple[str, str, list[str], int]] = []
    for n, line in enumerate(markdown.splitlines(), 1):
        if line.startswith("## "):
            heading = line[3:].strip()
            match = _HEADING.match(heading)
            number = match.group("number") if match else ""
            title = (match.group("title") if match else heading).strip() or heading
            clauses.append((number or str(len(clauses) + 1), title, [], n))
        elif clauses:
            clauses[-1][2].append(line)
    return [(num, title, "\n".join(body).strip(), n) for num, title, body, n in clauses]


def _clip(text: str, limit: int = QUESTION_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _read_clauses(
    document: str | None, text: str | None, base: Path, name: str, line: int, problems: list[str]
) -> tuple[str, list[tuple[str, str, str, int]]] | None:
    """Where the clauses are written (for refusals) and the clauses; None when refused."""
    where = "text"
    if document is not None:
        path = (base / document).resolve()
        where = document
        try:
            markdown = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = "not found" if isinstance(exc, FileNotFoundError) else "cannot be read"
            problems.append(f"{name}:{line}: clauses: document {document} {reason}")
            return None
    else:
        markdown = text or ""
    clauses = parse_clauses(markdown)
    if not clauses:
        problems.append(
            f"{name}:{line}: clauses: {where} has no clause; each clause starts with a line "
            '"## " (e.g. "## 1. Duty to commission")'
        )
        return None
    return where, clauses


def _expand_clauses(
    spec: ClausesSpec, base: Path, name: str, line: int, problems: list[str]
) -> list[PlannedItem]:
    if (spec.document is None) == (spec.text is None):
        problems.append(f"{name}:{line}: clauses: give either document (a file) or text, not both")
        return []
    doc, text = spec.document, spec.text
    read = _read_clauses(
        None if doc is None else _en(doc),
        None if text is None else _en(text),
        base,
        name,
        line,
        problems,
    )
    if read is None:
        return []
    where, clauses = read
    welsh: list[tuple[str, str, str, int]] = []
    doc_cy, text_cy = (None if doc is None else _cy(doc)), (None if text is None else _cy(text))
    if doc_cy or text_cy:  # the Welsh: the same clauses, in the same order
        read_cy = _read_clauses(doc_cy, text_cy, base, name, line, problems)
        if read_cy is not None and len(read_cy[1]) != len(clauses):
            problems.append(
                f"{name}:{line}: clauses: the Welsh ({read_cy[0]}) has {len(read_cy[1])} "
                f"clauses and the English ({where}) {len(clauses)}; give the same clauses"
            )
        elif read_cy is not None:
            welsh = read_cy[1]
    out = []
    for index, (number, title, body, md_line) in enumerate(clauses):
        if not body:
            problems.append(
                f"{name}:{line}: clauses: clause {number} ({where} line {md_line}) has no text"
            )
            continue
        _, title_cy, body_cy, _ = welsh[index] if welsh else ("", "", "", 0)
        out.append(
            PlannedItem(
                "clause",
                _clip(f"Clause {number}: {title}"),
                STANCES,
                clause_number=number[:20],
                clause_title=_clip(title),
                clause_text=body,
                question_cy=_clip(f"Cymal {number}: {title_cy}") if title_cy else None,
                clause_title_cy=_clip(title_cy) if title_cy else None,
                clause_text_cy=body_cy or None,
            )
        )
    return out


def _expand(spec: Any, base: Path, name: str, line: int, problems: list[str]) -> list[PlannedItem]:
    if isinstance(spec, ScaleSpec):
        return [PlannedItem("scale", _en(spec.statement), SCALE, question_cy=_cy(spec.statement))]
    if isinstance(spec, PollSpec):
        welsh = [_cy(o) for o in spec.options]
        if any(welsh) and not all(welsh):
            problems.append(
                f"{name}:{line}: options: give every option in Welsh ({{en: ..., cy: ...}}) or none"
            )
        return [
            PlannedItem(
                spec.kind,
                _en(spec.question),
                tuple(_en(o) for o in spec.options),
                question_cy=_cy(spec.question),
                options_cy=tuple(w for w in welsh if w) if all(welsh) else (),
            )
        ]
    if isinstance(spec, AskSpec):
        return [PlannedItem("ask", _en(spec.question), question_cy=_cy(spec.question))]
    if isinstance(spec, StatementsSpec):
        seeds = tuple(" ".join(s.split()) for s in spec.statements)
        return [
            PlannedItem(
                "statements", _en(spec.question), question_cy=_cy(spec.question), statements=seeds
            )
        ]
    if isinstance(spec, RatingSpec):
        return [
            PlannedItem(
                "rating",
                _en(r.title),
                RATING,
                regulation_title=_en(r.title),
                regulation_summary=_en(r.summary).strip(),
                question_cy=_cy(r.title),
                regulation_summary_cy=_cy(r.summary),
            )
            for r in spec.regulations
        ]
    return _expand_clauses(spec, base, name, line, problems)


def _custom_profile(
    entry: ProfileSpec, where: tuple[Any, ...], name: str, lines: _Lines, problems: list[str]
) -> ProfileQuestion:
    welsh = [_cy(o) for o in entry.options]
    if any(welsh) and not all(welsh):
        problems.append(
            f"{name}:{lines.find((*where, 'options'))}: {_where(where)}.options: give every "
            "option in Welsh ({en: ..., cy: ...}) or none"
        )
    return ProfileQuestion(
        entry.key,
        _en(entry.question),
        tuple(_en(o) for o in entry.options),
        question_cy=_cy(entry.question),
        options_cy=tuple(w for w in welsh if w) if all(welsh) else (),
    )


def _profile(
    entries: list[Any],
    where: tuple[Any, ...],
    asked: list[ProfileQuestion],
    name: str,
    lines: _Lines,
    problems: list[str],
) -> list[ProfileQuestion]:
    """The "about you" questions of the file or of an item; a key asked twice is refused."""
    out: list[ProfileQuestion] = []
    label = _where(where)
    for index, entry in enumerate(entries):
        question = (
            BUILT_IN[entry]
            if isinstance(entry, str)
            else _custom_profile(entry, (*where, index), name, lines, problems)
        )
        if not isinstance(entry, str) and entry.key in BUILT_IN:
            line = lines.find((*where, index, "key"))
            problems.append(
                f"{name}:{line}: {label}[{index}].key: {entry.key} is a built-in question; "
                "write it alone (- age) or choose another key"
            )
        elif question.key in {q.key for q in [*asked, *out]}:
            line = lines.find((*where, index))
            problems.append(f"{name}:{line}: {label}[{index}]: {question.key} is asked twice")
        out.append(question)
    return out


def load_text(text: str, *, name: str, base: Path, now: datetime) -> ConsultationPlan:
    """Check and expand a consultation file's text; ``base`` resolves clause documents."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConsultationFileError([f"{name}:{line}: not valid YAML: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise ConsultationFileError([f"{name}:1: not valid YAML: {exc}"]) from None
    if root is None or not isinstance(data, dict):
        raise ConsultationFileError([f"{name}:1: expected a mapping of keys (slug, title, ...)"])
    structure = _structure_problems(name, root)
    if structure:
        raise ConsultationFileError(structure)
    lines = _Lines(root)
    try:
        spec = FileSpec.model_validate(data)
    except ValidationError as exc:
        raise ConsultationFileError(_shape_problems(name, lines, exc)) from None
    problems: list[str] = []
    opens = closes = now
    try:
        opens = _moment(spec.opens, now, "opens") if spec.opens is not None else now
    except ValueError as exc:
        problems.append(f"{name}:{lines.find(('opens',))}: opens: {exc}")
    try:
        closes = _moment(spec.closes, opens, "closes")
        if closes <= max(opens, now):
            problems.append(
                f"{name}:{lines.find(('closes',))}: closes: must be in the future and after opens"
            )
    except ValueError as exc:
        problems.append(f"{name}:{lines.find(('closes',))}: closes: {exc}")
    profile = _profile(spec.profile, ("profile",), [], name, lines, problems)
    items: list[PlannedItem] = []
    asked = list(profile)
    for index, item in enumerate(spec.items):
        expanded = _expand(item, base, name, lines.find(("items", index)), problems)
        own = _profile(item.profile, ("items", index, "profile"), asked, name, lines, problems)
        asked += own
        if expanded and own:
            expanded[0] = replace(expanded[0], profile=tuple(own))
        items.extend(expanded)
    if problems:
        raise ConsultationFileError(problems)
    return ConsultationPlan(
        spec.slug,
        _en(spec.title),
        _en(spec.introduction).strip(),
        _en(spec.privacy).strip(),
        opens,
        closes,
        list(spec.topics),
        spec.moderation,
        name,
        items,
        lines.find(("slug",)),
        profile,
        title_cy=_cy(spec.title),
        introduction_cy=_cy(spec.introduction),
        privacy_cy=_cy(spec.privacy),
    )


def load_file(path: Path, *, now: datetime) -> ConsultationPlan:
    """:func:`load_text` of a file; an unreadable file is refused the same way."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConsultationFileError(
            [f"{path}:1: cannot read the file ({type(exc).__name__})"]
        ) from None
    return load_text(text, name=str(path), base=path.parent, now=now)
