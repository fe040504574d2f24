"""The consultations list (``/consultations``) and loading a consultation file from it.

The form takes the YAML file and the clause documents it names; they are checked by the same
loader as ``townhall consultation load`` (services/consultation_file.py), so every problem is
reported as ``FILE:LINE: what is wrong`` and nothing is written unless the whole file is right.
A clause document may only be one of the files sent with it: the uploaded files are put in an
empty folder of their own, and a ``document:`` naming anything outside it is refused.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import structlog
import yaml
from aiohttp import web
from aiohttp.web_request import FileField

from dashboard.core import DASHBOARD, Staff, require
from dashboard.pages.consultation import STATUS_NAMES, when
from services import consultations
from services.consultation_file import ConsultationFileError, ConsultationPlan, load_text

YAML_SUFFIXES = (".yaml", ".yml")
#: The HTTP server's limit on a request body (bot/http.py), told before the body is read.
MAX_REQUEST = 1024 * 1024
log = structlog.get_logger("townhall.dashboard")


def upload_name(filename: str) -> str:
    """The file's own name, whatever folder the browser says it came from."""
    return PurePosixPath(filename.replace("\\", "/")).name


def _document_problems(text: str, name: str, folder: Path) -> list[str]:
    """``document:`` values that would read a file outside ``folder`` (the uploaded files).

    A file that is not valid YAML is left to the loader, which says where it is wrong.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    problems = []
    for key, value in root.value:
        if key.value != "items" or not isinstance(value, yaml.SequenceNode):
            continue
        for entry in value.value:
            if not isinstance(entry, yaml.MappingNode):
                continue
            for field, named in entry.value:
                if field.value != "document":
                    continue
                # One file, or ``{en: ..., cy: ...}``: one per language (issue 18).
                documents = [named] if isinstance(named, yaml.ScalarNode) else []
                if isinstance(named, yaml.MappingNode):
                    documents = [v for _, v in named.value if isinstance(v, yaml.ScalarNode)]
                for document in documents:
                    if (folder / document.value).resolve().parent == folder:
                        continue
                    problems.append(
                        f"{name}:{document.start_mark.line + 1}: clauses: document "
                        f"{document.value} must be the name of a file uploaded with it "
                        "(no folders)"
                    )
    return problems


def read_upload(
    filename: str, content: bytes, documents: list[tuple[str, bytes]], now: datetime
) -> ConsultationPlan:
    """Check an uploaded consultation file as ``townhall consultation load`` checks one on disk;
    raises :class:`ConsultationFileError` with every problem."""
    name = upload_name(filename)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        problem = f"{name}:1: cannot read the file (UnicodeDecodeError)"
        raise ConsultationFileError([problem]) from None
    with tempfile.TemporaryDirectory(prefix="townhall-upload-") as tmp:
        folder = Path(tmp).resolve()
        for document_name, data in documents:
            own = upload_name(document_name)
            if own and not own.startswith("."):
                (folder / own).write_bytes(data)
        problems = _document_problems(text, name, folder)
        if problems:
            raise ConsultationFileError(problems)
        return load_text(text, name=name, base=folder, now=now)


async def render_list(
    request: web.Request,
    *,
    problems: list[str] | None = None,
    new_version: bool = False,
    status: int = 200,
) -> web.Response:
    dash = request.app[DASHBOARD]
    if problems:
        log.info("consultation file refused", problems=len(problems))
    async with dash.townhall.db.transaction() as session:
        rows = await consultations.listing(session, dash.townhall.clock())
    for row in rows:
        row["closes_text"] = when(datetime.fromisoformat(row["closes"])) if row["closes"] else ""
    problems = problems or []
    context: dict[str, Any] = {
        "title": "Consultations",
        "rows": rows,
        "status_names": STATUS_NAMES,
        "problems": problems,
        "error_summary": [{"text": p, "href": "#file"} for p in problems],
        "new_version": new_version,
    }
    return dash.render(request, "dashboard/consultations.html", context, status=status)


@require("policy")
async def consultation_list(request: web.Request, staff: Staff) -> web.StreamResponse:
    return await render_list(request)


def _files(form: Any, name: str) -> list[FileField]:
    return [f for f in form.getall(name, []) if isinstance(f, FileField) and f.filename]


@require("policy")
async def upload(request: web.Request, staff: Staff) -> web.StreamResponse:
    """Load the uploaded file: create, replace while unanswered, or (ticked) a new version."""
    dash = request.app[DASHBOARD]
    form = await request.post()
    new_version = form.get("new_version") == "yes"
    main = _files(form, "file")
    if not main or not main[0].filename.lower().endswith(YAML_SUFFIXES):
        problem = "Choose a consultation file (.yaml or .yml) to upload"
        return await render_list(request, problems=[problem], new_version=new_version, status=400)
    documents = [(f.filename, f.file.read()) for f in _files(form, "documents")]
    now = dash.townhall.clock()
    try:
        plan = await asyncio.to_thread(
            read_upload, main[0].filename, main[0].file.read(), documents, now
        )
    except ConsultationFileError as exc:
        return await render_list(
            request, problems=exc.problems, new_version=new_version, status=400
        )
    try:
        async with dash.townhall.db.transaction() as session:
            loaded = await consultations.load(
                session, plan, new_version=new_version, actor=staff.subject, now=now
            )
            version = loaded.version
    except consultations.ConsultationConflict as exc:
        hint = "To keep those answers and load the file as a new version, tick the box below."
        return await render_list(
            request, problems=[str(exc), hint], new_version=new_version, status=400
        )
    loaded_text = f"Loaded {plan.slug} (version {version}, {len(plan.items)} items)"
    dash.flash(request, f"{loaded_text} from {plan.source}.")
    return dash.redirect(request, f"/consultations/{plan.slug}")


async def upload_within_limit(request: web.Request) -> web.StreamResponse:
    """:func:`upload`, with a page rather than the server's bare refusal for a request that says
    it is over the size limit (a signed-in officer only: others are sent to sign in first)."""
    dash = request.app[DASHBOARD]
    size = request.content_length or 0
    if size > MAX_REQUEST and await dash.staff_for(request) is not None:
        log.info("consultation file refused: too large", size=size)
        return dash.error(
            request,
            413,
            "The files are too big",
            "The consultation file and its clause documents can be up to 1 MB in all. Go back "
            "and choose smaller files.",
        )
    return await upload(request)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/consultations", consultation_list),
        web.post("/consultations", upload_within_limit),
    ]
