"""The fast path of ``townhall results`` and ``list`` (bare drivers, no pydantic, no SQLAlchemy)
prints exactly what the ordinary path prints, for the same database; both refuse a database
that is not at the newest revision with one line. Speed is measured by bench/tally.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from services.exports import FORMATS
from storage import migrate
from storage.db import Database
from storage.models import ROLES
from tests.test_cli import env, ids_from, run  # noqa: F401  (env is a fixture)
from tests.test_cli_startup import fresh_url  # noqa: F401  (a fixture)
from townhall import cli
from townhall.cli_fast import quick_database_url

SLOW = "--no-fast-path"
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "dental-bill.yaml"


def both(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:  # noqa: F811
    fast = run(args, env, check=False)
    ordinary = run([*args, SLOW], env, check=False)
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        ordinary.returncode,
        ordinary.stdout,
        ordinary.stderr,
    ), args
    return fast.returncode, fast.stdout, fast.stderr


@pytest.mark.timeout(360)  # ~70 CLI processes: minutes on a loaded machine, not a hang
def test_fast_and_ordinary_paths_print_the_same(env: dict[str, str]) -> None:  # noqa: F811
    run(["db", "upgrade"], env)
    assert both(["list"], env) == (0, "No items yet.\n", "")
    made = run(
        ["chat", "--as", "olivia"],
        env,
        'poll "Library on Sundays?" "Yes" "No" "Only in winter"\n'
        'poll "Which days?" "Mon" "Tue" "Wed" --multi\n'
        'ask "What would make the high street better? ✓"\n'
        'scale "How safe do you feel?"\n',
    ).stdout
    poll, multi, question, scale = ids_from(made)
    run(["close", scale], env)
    script = (
        f"vote {poll} 1\nvote {multi} 1\nvote {multi} 2\nanswer {question} Benches — and shade\n"
        f":as bob\nvote {poll} 3\nvote {multi} 2\nvote {scale} 4\n"
        f"answer {question} mail me: jo@example.com\n"  # held for review: --include-hidden
        f":as carol\nvote {poll} 3\nanswer {question} Free parking\n"
    )
    run(["chat", "--as", "ann"], env, script)
    run(["consultation", "load", str(EXAMPLE)], env)
    listed = json.loads(both(["list", "--json"], env)[1])
    assert {poll, multi, question, scale} <= {row["id"] for row in listed}
    rating = next(row["id"] for row in listed if row["kind"] == "rating")
    for args in (["list"], ["list", "--status", "closed"], ["list", "--json", "--status", "open"]):
        both(args, env)
    for item in (poll, multi, question, scale, rating, f" {poll.upper()} "):
        for flags in ([], ["--json"], ["--include-hidden"], ["--json", "--include-hidden"]):
            both(["results", item, *flags], env)
    shown = json.loads(both(["results", question, "--json", "--include-hidden"], env)[1])
    assert [a["status"] for a in shown["answers"]] == ["visible", "held", "visible"]
    assert json.loads(both(["results", multi, "--json"], env)[1])["options"][1]["votes"] == 2
    assert both(["results", "nosuch"], env) == (1, "", "townhall: no item with id 'nosuch'\n")


def test_the_fast_path_imports_neither_sqlalchemy_nor_pydantic(
    env: dict[str, str],  # noqa: F811
) -> None:
    (poll,) = ids_from(run(["chat", "--as", "olivia"], env, 'poll "Q?" "A" "B"\n').stdout)
    probe = (
        "import json, sys\nfrom townhall.cli import main\n"
        "for args in sys.argv[1:]:\n"
        "    main(args.split(), standalone_mode=False)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.check_output(
        [sys.executable, "-c", probe, f"results {poll} --json", "list --json"], env=env, text=True
    )
    loaded = set(json.loads(out.splitlines()[-1]))
    assert loaded & {"sqlalchemy", "pydantic", "pydantic_settings", "structlog", "alembic"} == set()


async def test_a_database_behind_the_code_gets_one_line_and_is_not_migrated(
    fresh_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    clean.update(TOWNHALL_DATABASE_URL=fresh_url, TOWNHALL_SECRET_KEY="cli-test-secret-0123456")
    for args in (["list", "--json"], ["results", "abc123", "--json"]):
        code, out, err = both(args, clean)
        assert (code, out) == (2, "")
        assert err.startswith("townhall: the database has no Townhall schema yet; run `")
        assert err.count("\n") == 1 and "db upgrade" in err
    db = Database(fresh_url)
    try:
        await migrate.upgrade(db, "0001")
        code, _, err = both(["results", "abc123"], clean)
        assert code == 2 and "is at revision 0001, this version of Townhall needs " in err
        assert await migrate.current(db) == "0001"  # read-only: nothing was migrated
        await migrate.upgrade(db)
        assert both(["list"], clean) == (0, "No items yet.\n", "")
    finally:
        await db.dispose()


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    clean["TOWNHALL_DATABASE_URL"] = f"sqlite+aiosqlite:///{missing}"
    proc = run(["list"], clean, check=False)
    assert proc.returncode == 2 and "no Townhall schema yet" in proc.stderr
    assert not missing.exists()


PLAIN = {
    "TOWNHALL_DATABASE_URL": "postgresql+asyncpg://u:p@db:5432/townhall",
    "TOWNHALL_SECRET_KEY": "x" * 16,
    "TOWNHALL_ENV": "production",
    "TOWNHALL_POLICY_TEAM": "slack:U1, console:olivia",
    "TOWNHALL_MODERATORS": "",
    "TOWNHALL_HTTP_PORT": "8080",
    "TOWNHALL_AUTO_MIGRATE": "false",
    "TOWNHALL_TELEGRAM_TOKEN": "123:abc",
    "TOWNHALL_LOG_FORMAT": "json",
    "PATH": "/usr/bin",
}


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"TOWNHALL_HTTP_PORT": "eighty"},
        {"TOWNHALL_HTTP_PORT": "65536"},
        {"TOWNHALL_HTTP_PORT": "080"},
        {"TOWNHALL_DATABASE_URL": "mysql://x"},
        {"TOWNHALL_POLICY_TEAM": "alice"},
        {"TOWNHALL_MODERATORS": "slack:"},
        {"TOWNHALL_SECRET_KEY": "short"},
        {"TOWNHALL_SECRET_KEY": None},  # production needs one
        {"TOWNHALL_ENV": "staging"},
        {"TOWNHALL_LOG_LEVEL": "INFO"},  # may log: the ordinary path
        {"TOWNHALL_LOG_LEVEL": "ERROR"},
        {"TOWNHALL_AUTO_MIGRATE": "maybe"},
        {"TOWNHALL_TRUSTED_PROXIES": "10.0.0.0/8"},  # not checked here: pydantic decides
        {"TOWNHALL_TELEGRAM_WEBHOOK_URL": "https://x.example/tg"},
        {"townhall_database_url": "sqlite+aiosqlite:///x.db"},  # the same setting twice
        {"TOWNHALL_UNKNOWN_THING": "1"},
        {"TOWNHALL_SHARED_STATE": "memory"},
        {"TOWNHALL_SHARED_STATE": "redis"},  # needs TOWNHALL_REDIS_URL: pydantic refuses
        {"TOWNHALL_SHARED_STATE": "database", "TOWNHALL_DATABASE_URL": "sqlite+aiosqlite:///x"},
    ],
)
def test_the_quick_settings_check_accepts_only_what_pydantic_accepts(
    change: dict[str, str | None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = {k: v for k, v in {**PLAIN, **change}.items() if v is not None}
    quick = quick_database_url(environ, tmp_path)
    for key in [k for k in os.environ if k.upper().startswith("TOWNHALL_")]:
        monkeypatch.delenv(key)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    try:
        settings = load_settings()
    except ConfigError:
        assert quick is None  # the ordinary path reports it, with pydantic's words
        return
    assert quick in (None, settings.database_url)
    if change in ({}, {"TOWNHALL_LOG_LEVEL": "ERROR"}, {"TOWNHALL_SHARED_STATE": "memory"}):
        assert quick == settings.database_url


def test_a_dotenv_file_takes_the_ordinary_path(tmp_path: Path) -> None:
    assert quick_database_url({}, tmp_path) == "sqlite+aiosqlite:///./townhall.db"
    (tmp_path / ".env").write_text("TOWNHALL_HTTP_PORT=eighty\n", encoding="utf-8")
    assert quick_database_url({}, tmp_path) is None


def test_the_cli_spells_roles_and_formats_as_the_models_do() -> None:
    assert cli.ROLES == ROLES and cli.EXPORT_FORMATS == FORMATS
