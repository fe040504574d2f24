"""Issue 14's safety rails: hints that run as printed, a taken port, weak or changed secret
keys, the production privacy notice and a /metrics that is not public."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.config import DEV_SECRET, ConfigError, Settings
from bot.hints import townhall_program
from bot.safety import SecretKeyChanged, accept_new_key, start_problems
from storage.db import Database
from storage.models import AuditEntry
from tests.support import FakeClock
from townhall.app import Townhall

ROOT = Path(__file__).resolve().parent.parent
VENV_TOWNHALL = Path(sys.executable).parent / "townhall"
STRONG = "a-strong-secret-key-0123456789abcdef"
OTHER = "another-strong-secret-key-0123456789"


def _with(settings: Settings, **changes: Any) -> Settings:
    """A validated copy (model_copy would leave a plain str where a SecretStr belongs)."""
    return Settings(**{**settings.model_dump(), **changes, "_env_file": None})


def _env(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    env.update({"TOWNHALL_DATABASE_URL": db_url, "TOWNHALL_SECRET_KEY": STRONG, **extra})
    return env


def townhall(
    args: list[str], env: dict[str, str], stdin: str = "", cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "townhall.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


# -- 2. hints print the command as it can be run from here -------------------------------------


def test_hint_names_the_venv_script_unless_it_is_on_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "project" / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "townhall").write_text("#!/bin/sh\n")
    (bin_dir / "townhall").chmod(0o755)
    python = str(bin_dir / "python")
    project = str(tmp_path / "project")

    assert townhall_program(python, path="/usr/bin:/bin", cwd=project) == ".venv/bin/townhall"
    assert townhall_program(python, path=f"{bin_dir}:/usr/bin", cwd=project) == "townhall"
    assert townhall_program(python, path="/usr/bin", cwd=str(bin_dir)) == "./townhall"
    (tmp_path / "other").mkdir()
    elsewhere = townhall_program(python, path="/usr/bin", cwd=str(tmp_path / "other"))
    assert elsewhere == str(bin_dir / "townhall")
    assert townhall_program(str(tmp_path / "python"), path="/usr/bin", cwd=project) == "townhall"


@pytest.mark.parametrize("on_path", [False, True])
def test_users_list_hint_runs_as_printed(db_url: str, db: Database, on_path: bool) -> None:
    """The issue's newcomer ran .venv/bin/townhall; the hint said bare townhall."""
    path = f"{VENV_TOWNHALL.parent}:/usr/bin:/bin" if on_path else "/usr/bin:/bin"
    proc = subprocess.run(
        [str(VENV_TOWNHALL), "users", "list"],
        capture_output=True,
        text=True,
        env={**_env(db_url), "PATH": path},
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    expected = "townhall" if on_path else os.path.relpath(VENV_TOWNHALL, ROOT)
    assert f"Example: {expected} users add you@example.gov.uk --role admin" in proc.stdout


# -- 3. a taken port is one line ----------------------------------------------------------------


def test_run_with_the_port_taken_says_which_and_what_to_change(db_url: str, db: Database) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = townhall(["run"], _env(db_url, TOWNHALL_HTTP_PORT=str(port)))
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("townhall:")]
    assert errors == [
        f"townhall: 127.0.0.1:{port} is already in use (another Townhall or another program?); "
        "set TOWNHALL_HTTP_PORT to a free port (or TOWNHALL_HTTP_HOST to another address)."
    ]


async def test_a_taken_metrics_port_names_its_own_variable(
    settings: Settings, db: Database
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = _with(settings, http_port=0, metrics_port=taken.getsockname()[1])
        app = Townhall(busy, [], db=db)
        with pytest.raises(ConfigError, match="set TOWNHALL_METRICS_PORT to a free port"):
            await app.start(background=False)
        await app.stop()


# -- 4. no weak key once a platform is connected -------------------------------------------------


def test_placeholder_or_short_key_with_a_platform_token_is_refused() -> None:
    def problems(**values: object) -> list[str]:
        return start_problems(Settings(_env_file=None, **values))  # type: ignore[arg-type]

    assert problems() == []  # trying it out locally: the placeholder is fine
    (placeholder,) = problems(telegram_token="1:abc")
    assert "is the published placeholder while TOWNHALL_TELEGRAM_TOKEN is set" in placeholder
    (short,) = problems(discord_token="x", secret_key="only-twenty-characters")
    assert "is too short while TOWNHALL_DISCORD_TOKEN is set" in short
    assert "at least 32 bytes" in short
    assert problems(slack_bot_token="xoxb-1", secret_key=STRONG) == []


def test_run_refuses_the_placeholder_key_in_development(db_url: str, db: Database) -> None:
    env = _env(db_url, TOWNHALL_TELEGRAM_TOKEN="123:abc")
    del env["TOWNHALL_SECRET_KEY"]
    proc = townhall(["run"], env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "TOWNHALL_SECRET_KEY is the published placeholder" in proc.stderr
    assert "123:abc" not in proc.stderr + proc.stdout
    assert DEV_SECRET not in proc.stderr


# -- 5. the key this database was started with ---------------------------------------------------


async def test_a_changed_key_is_refused_until_accepted(settings: Settings, db: Database) -> None:
    clock = FakeClock()
    first = Townhall(_with(settings, secret_key=STRONG), [], db=db, clock=clock)
    await first.prepare()  # first start records the fingerprint
    await first.prepare()  # the same key again is fine
    changed = _with(settings, secret_key=OTHER)
    with pytest.raises(SecretKeyChanged, match="would count as new participants"):
        await Townhall(changed, [], db=db, clock=clock).prepare()

    assert await accept_new_key(db, changed, "cli", clock)
    assert not await accept_new_key(db, changed, "cli", clock)  # no change the second time
    await Townhall(changed, [], db=db, clock=clock).prepare()
    with pytest.raises(SecretKeyChanged):
        await first.prepare()  # and now the old key is the stranger
    async with db.transaction() as session:
        audit = (await session.execute(select(AuditEntry.action, AuditEntry.actor))).all()
    assert [tuple(row) for row in audit] == [("secret_key.replace", "cli")]


async def test_an_unmigrated_database_is_named_not_a_traceback(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=url, secret_key=STRONG, auto_migrate=False
    )
    app = Townhall(settings, [])
    with pytest.raises(ConfigError, match=r"TOWNHALL_AUTO_MIGRATE is off; run .*db upgrade"):
        await app.prepare()
    await app.stop()


def test_secret_key_commands(db_url: str, db: Database) -> None:
    """The issue's double count: a returning voter under a new key is refused, not re-counted."""
    officer = _env(db_url, TOWNHALL_POLICY_TEAM="console:olivia")
    made = townhall(["chat", "--as", "olivia"], officer, 'poll "Open on Sundays?" "Yes" "No"\n')
    assert made.returncode == 0, made.stderr
    moved = _env(db_url, TOWNHALL_SECRET_KEY=OTHER)
    refused = townhall(["chat", "--as", "bob"], moved, "help\n")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "is not the key this database was started with" in refused.stderr
    assert "secret-key accept-new" in refused.stderr
    assert OTHER not in refused.stderr and STRONG not in refused.stderr
    assert townhall(["secret-key", "check"], moved).returncode == 1
    assert townhall(["secret-key", "check"], _env(db_url)).returncode == 0

    declined = townhall(["secret-key", "accept-new"], moved, "n\n")
    assert declined.returncode == 1 and "count as new participants" in declined.stdout
    assert townhall(["secret-key", "check"], moved).returncode == 1
    accepted = townhall(["secret-key", "accept-new", "--yes"], moved)
    assert accepted.returncode == 0 and "now expects" in accepted.stdout
    assert townhall(["chat", "--as", "bob"], moved, "help\n").returncode == 0


# -- 6. production needs the operator's own privacy notice ---------------------------------------


def test_production_refuses_the_default_privacy_notice(db_url: str, db: Database) -> None:
    proc = townhall(["run"], _env(db_url, TOWNHALL_ENV="production"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "TOWNHALL_PRIVACY_URL must be set to your own privacy notice" in proc.stderr
    assert "TOWNHALL_PRIVACY_NOTICE must be set in production" in proc.stderr

    own = Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="production",
        secret_key=STRONG,
        privacy_url="https://townhall.example.gov.uk/privacy",
        privacy_notice="The Example Council keeps your answers for the high street review.",
    )
    assert start_problems(own) == []
    only_url = _with(own, privacy_notice=Settings.model_fields["privacy_notice"].default)
    assert [p.split(" ")[0] for p in start_problems(only_url)] == ["TOWNHALL_PRIVACY_NOTICE"]


# -- 7. /metrics is not public -------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _served(settings: Settings, db: Database) -> AsyncIterator[Townhall]:
    app = Townhall(_with(settings, http_port=0), [], db=db)
    await app.start(background=False)
    try:
        yield app
    finally:
        await app.stop()


async def _get(url: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        return response.status, await response.text()


async def test_metrics_are_off_the_public_server_by_default(
    settings: Settings, db: Database
) -> None:
    async with _served(settings, db) as app:
        status, _ = await _get(f"http://127.0.0.1:{app.http_port}/metrics")
        assert status == 404
        assert app.metrics_port is None


async def test_metrics_on_their_own_listener(settings: Settings, db: Database) -> None:
    private = _with(settings, metrics_port=0)
    async with _served(private, db) as app:
        assert app.metrics_port is not None and app.metrics_port != app.http_port
        status, _ = await _get(f"http://127.0.0.1:{app.http_port}/metrics")
        assert status == 404
        status, body = await _get(f"http://127.0.0.1:{app.metrics_port}/metrics")
        assert status == 200 and "townhall_events_total" in body


async def test_metrics_behind_a_bearer_token(settings: Settings, db: Database) -> None:
    token = "metrics-token-0123456789"
    guarded = _with(settings, metrics_token=token)
    async with _served(guarded, db) as app:
        url = f"http://127.0.0.1:{app.http_port}/metrics"
        assert (await _get(url))[0] == 401
        assert (await _get(url, token + "x"))[0] == 401
        status, body = await _get(url, token)
        assert status == 200 and "townhall_events_total" in body


# -- behind a reverse proxy: the visitor's address, not the proxy's ------------------------------


async def _remote_seen(settings: Settings, db: Database, forwarded: str) -> str:
    async def remote(request: web.Request) -> web.Response:
        return web.Response(text=request.remote or "")

    def extend(_app: Townhall, web_app: web.Application) -> None:
        web_app.router.add_get("/_remote", remote)

    app = Townhall(_with(settings, http_port=0), [], db=db, web_extensions=[extend])
    await app.start(background=False)
    try:
        url = f"http://127.0.0.1:{app.http_port}/_remote"
        headers = {"X-Forwarded-For": forwarded}
        async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
            return await response.text()
    finally:
        await app.stop()


async def test_trusted_proxies_give_the_visitors_address(settings: Settings, db: Database) -> None:
    proxied = _with(settings, trusted_proxies="10.0.0.0/8, 127.0.0.1")
    assert await _remote_seen(proxied, db, "198.51.100.1, 203.0.113.9") == "203.0.113.9"
    assert await _remote_seen(proxied, db, "not an address") == "127.0.0.1"
    elsewhere = _with(settings, trusted_proxies="10.0.0.0/8")
    assert await _remote_seen(elsewhere, db, "203.0.113.9") == "127.0.0.1"  # spoofing ignored
    assert await _remote_seen(settings, db, "203.0.113.9") == "127.0.0.1"  # none trusted
    with pytest.raises(ValueError, match="'localhost' is not an IP address or network"):
        _with(settings, trusted_proxies="127.0.0.1,localhost")
