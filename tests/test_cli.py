"""The command line as a user runs it: real processes, real database files."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

import pytest

TOWNHALL = [sys.executable, "-m", "townhall.cli"]


def run(
    args: list[str], env: dict[str, str], stdin: str = "", check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*TOWNHALL, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"townhall {args} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    clean.update(
        TOWNHALL_DATABASE_URL=db_url,
        TOWNHALL_SECRET_KEY="cli-test-secret-key-0123456789",
        TOWNHALL_POLICY_TEAM="console:olivia",
    )
    if "postgresql" in db_url:  # share the session database: start from empty tables
        import asyncio

        from sqlalchemy import text

        from storage.db import Database
        from storage.models import Base

        async def truncate() -> None:
            db = Database(db_url)
            async with db.transaction() as session:
                names = ", ".join(t.name for t in Base.metadata.sorted_tables)
                await session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            await db.dispose()

        asyncio.run(truncate())
    return clean


def ids_from(output: str) -> list[str]:
    return re.findall(r"Published \w+ (\w{6})", output)


def test_piped_chat_script_end_to_end(env: dict[str, str]) -> None:
    """The issue's done-when: officer creates, three citizens vote/answer, results agree."""
    officer = run(
        ["chat", "--as", "olivia"],
        env,
        'poll "Should the library open on Sundays?" "Yes" "No" "Only in winter"\n'
        'ask "What would make the high street better?"\n',
    )
    poll, question = ids_from(officer.stdout)
    assert "[vote " in officer.stdout and "Should the library open on Sundays?" in officer.stdout
    script = (
        f"vote {poll} 1\n"
        f":as bob\nvote {poll} 2\nvote {poll} 3\n"
        f"answer {question} More benches, fewer empty shops\n"
        f":as carol\nvote {poll} 3\nanswer {question} Free parking on Saturdays\n"
        f'poll "Can I?" "A" "B"\n'
    )
    citizens = run(["chat", "--as", "ann"], env, script)
    assert citizens.stdout.count("recorded") == 5
    assert "Your vote is now “Only in winter”" in citizens.stdout
    assert "only the policy team" in citizens.stdout

    poll_json = json.loads(run(["results", poll, "--json"], env).stdout)
    assert poll_json == {
        "id": poll,
        "kind": "poll",
        "question": "Should the library open on Sundays?",
        "status": "open",
        "participants": 3,
        "responses": 3,
        "options": [
            {"label": "Yes", "votes": 1},
            {"label": "No", "votes": 0},
            {"label": "Only in winter", "votes": 2},
        ],
        "by_platform": {"console": 3},
        "answers": [],
    }
    ask_json = json.loads(run(["results", question, "--json"], env).stdout)
    assert ask_json["kind"] == "ask" and ask_json["options"] == []
    assert ask_json["answers"] == [
        {
            "text": "More benches, fewer empty shops",
            "platform": "console",
            "status": "visible",
            "language": "en",
        },
        {
            "text": "Free parking on Saturdays",
            "platform": "console",
            "status": "visible",
            "language": "en",
        },
    ]
    listed = json.loads(run(["list", "--json"], env).stdout)
    assert {row["id"] for row in listed} == {poll, question}
    assert set(listed[0]) == {"id", "kind", "question", "status"}

    closing = run(["chat", "--as", "olivia"], env, f"close {poll}\nresults {poll}\n")
    assert "Results: Should the library open on Sundays?" in closing.stdout
    assert json.loads(run(["results", poll, "--json"], env).stdout)["status"] == "closed"


def test_exports(env: dict[str, str], tmp_path: Path) -> None:
    out = run(["chat", "--as", "olivia"], env, 'ask "Ideas?"\n').stdout
    (question,) = ids_from(out)
    run(["chat", "--as", "zed"], env, f"answer {question} =cmd|' /C calc'!A0 is not a formula\n")
    csv_path = tmp_path / "answers.csv"
    run(["export", question, "--format", "csv", "-o", str(csv_path)], env)
    content = csv_path.read_text()
    assert content.splitlines()[0].startswith("item,kind,question,participant")
    assert "'=cmd" in content  # spreadsheet formulas neutralised
    assert "zed" not in content  # pseudonymous ids only
    data = json.loads(run(["export", question, "--format", "json"], env).stdout)
    assert data["item"]["responses"] == 1 and len(data["responses"][0]["participant"]) == 16


def test_roles_and_unknown_items(env: dict[str, str]) -> None:
    assert "Granted policy to slack:U1" in run(["roles", "grant", "slack:U1", "policy"], env).stdout
    assert "No change" in run(["roles", "grant", "slack:U1", "policy"], env).stdout
    roles = json.loads(run(["roles", "list", "--json"], env).stdout)
    assert {"subject": "slack:U1", "role": "policy", "source": "database"} in roles
    assert "Revoked" in run(["roles", "revoke", "slack:U1", "policy"], env).stdout
    bad = run(["roles", "grant", "nocolon", "policy"], env, check=False)
    assert bad.returncode == 2 and "platform:user_id" in bad.stderr
    missing = run(["results", "nosuch", "--json"], env, check=False)
    assert missing.returncode == 1 and "no item with id 'nosuch'" in missing.stderr
    from storage.migrate import head

    assert f"revision {head()}" in run(["db", "upgrade"], env).stdout


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TOWNHALL_HTTP_PORT", "eighty", "TOWNHALL_HTTP_PORT"),
        (
            "TOWNHALL_DATABASE_URL",
            "mysql://x",
            "TOWNHALL_DATABASE_URL: Value error, must start with",
        ),
        ("TOWNHALL_POLICY_TEAM", "alice", "TOWNHALL_POLICY_TEAM"),
        ("TOWNHALL_SECRET_KEY", "short", "at least 16 characters"),
    ],
)
def test_bad_settings_are_reported_clearly(
    env: dict[str, str], name: str, value: str, message: str
) -> None:
    proc = run(["list"], {**env, name: value}, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_production_requires_a_secret_key(env: dict[str, str]) -> None:
    env = {k: v for k, v in env.items() if k != "TOWNHALL_SECRET_KEY"}
    proc = run(["list"], {**env, "TOWNHALL_ENV": "production"}, check=False)
    assert proc.returncode == 2 and "TOWNHALL_SECRET_KEY must be set" in proc.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Said:
    """A process's stdout, read on a thread as it comes (a readline on the pipe itself could
    wait for ever): :meth:`wait_for` a line within a bounded time, :attr:`seen` all so far."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self.seen: list[str] = []
        self._new = threading.Condition()
        self._ended = False
        self._thread = threading.Thread(target=self._pump, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _pump(self, stdout: IO[str]) -> None:
        for line in stdout:
            with self._new:
                self.seen.append(line)
                self._new.notify_all()
        with self._new:
            self._ended = True
            self._new.notify_all()

    def wait_for(self, text: str, within: float = 60) -> bool:
        with self._new:
            return self._new.wait_for(
                lambda: self._ended or any(text in line for line in self.seen), within
            ) and any(text in line for line in self.seen)

    def all(self, within: float = 30) -> str:
        """Everything once the process closed its stdout."""
        self._thread.join(within)
        with self._new:
            return "".join(self.seen)


def test_run_with_no_platform_serves_healthz_and_stops_cleanly(env: dict[str, str]) -> None:
    made = run(["chat", "--as", "olivia"], env, 'poll "Open on Sundays?" "Yes" "No"\n').stdout
    found = re.search(r"Published poll (\w{6})", made)
    assert found, made
    port, metrics_port = free_port(), free_port()
    proc = subprocess.Popen(
        [*TOWNHALL, "run"],
        env={**env, "TOWNHALL_HTTP_PORT": str(port), "TOWNHALL_METRICS_PORT": str(metrics_port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        said = Said(proc)
        assert said.wait_for("Townhall is running"), "townhall run did not say it was running"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            body = json.loads(r.read())
        loop = {"alive": True, "stuck": False, "failures": 0}
        assert body == {
            "status": "ok",
            "database": "ok",
            "adapters": ["web"],
            "loops": {"leases": loop, "outbox": loop, "scheduler": loop},
        }
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
            ready = json.loads(r.read())
        assert ready["status"] == "ready" and ready["adapters"] == {"web": True}
        # /metrics is on its own listener, not on the public server
        metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        with urllib.request.urlopen(metrics, timeout=2) as r:
            assert b"townhall_events_total" in r.read()
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)
        # The web chat serves the item from the app's database.
        chat = f"http://127.0.0.1:{port}/c/{found.group(1)}"
        with urllib.request.urlopen(chat, timeout=5) as r:
            assert "Open on Sundays?" in r.read().decode()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.stderr is not None
        err = proc.stderr.read()  # until the process closes it
        proc.wait(timeout=30)
        out = said.all()
    assert proc.returncode == 0, err
    assert "telegram: off (TOWNHALL_TELEGRAM_TOKEN not set)" in out
    assert "slack: off (TOWNHALL_SLACK_BOT_TOKEN and TOWNHALL_SLACK_SIGNING_SECRET not set)" in out
    assert f"Metrics: http://127.0.0.1:{metrics_port}/metrics" in out
    assert "cli-test-secret" not in out + err


def test_screen_reads_stdin_and_scores_the_labelled_set(env: dict[str, str]) -> None:
    lines = "Longer opening hours please\nmail me: jo@example.com\nmail me: jo@example.com\n"
    out = run(["screen", "--json"], env, lines).stdout.splitlines()
    verdicts = [json.loads(line) for line in out]
    assert [v["verdict"] for v in verdicts] == ["ok", "flag", "flag"]
    assert verdicts[1]["reasons"] == ["personal:email"]
    # each plain line is an answer from a different person: no repeat across people
    assert verdicts[2]["reasons"] == ["personal:email"]
    data = Path(__file__).parent / "data" / "screening.csv"
    report = json.loads(run(["screen", "--evaluate", str(data), "--json"], env).stdout)
    assert report["texts"] >= 80
    for category in ("abuse", "personal", "spam"):
        assert report["categories"][category]["precision"] >= 0.85
        assert report["categories"][category]["recall"] >= 0.85


def test_purge_command(env: dict[str, str]) -> None:
    assert "identities of 0 participants" in run(["purge", "--older-than", "365d"], env).stdout
    bad = run(["purge", "--older-than", "a year"], env, check=False)
    assert bad.returncode == 2 and "365d" in bad.stderr


def test_doctor_checks_and_recounts_the_vote_counters(env: dict[str, str]) -> None:
    import asyncio

    from sqlalchemy import update

    from storage.db import Database
    from storage.models import OptionTally

    poll = ids_from(run(["chat", "--as", "olivia"], env, stdin='poll "Q?" "Yes" "No"\n').stdout)
    run(["chat", "--as", "ann"], env, stdin=f"vote {poll[0]} 1\n")
    assert "ok" in run(["doctor"], env).stdout

    async def spoil() -> None:
        db = Database(env["TOWNHALL_DATABASE_URL"])
        async with db.transaction() as session:
            await session.execute(update(OptionTally).values(votes=7))
        await db.dispose()

    asyncio.run(spoil())
    bad = run(["doctor"], env, check=False)
    assert bad.returncode == 1 and "counter 7, recount 1" in bad.stdout
    assert "fixed 1 counter(s)" in run(["doctor", "--fix"], env).stdout
    assert "ok" in run(["doctor"], env).stdout
