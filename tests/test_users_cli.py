"""``townhall users`` as an administrator runs it: real processes, the test database."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select as io_select
import subprocess
import sys
import time

from sqlalchemy import select

from dashboard.passwords import verify_password
from storage.accounts import AccountRepository
from storage.db import Database
from storage.models import AuditEntry
from townhall.users_cli import email_problem

PASSWORD = "correct horse battery staple"


def townhall(db: Database, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    env.update(TOWNHALL_DATABASE_URL=db.url, TOWNHALL_SECRET_KEY="cli-test-secret-key-0123456789")
    return subprocess.run(
        [sys.executable, "-m", "townhall.cli", "users", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


async def test_add_list_set_password_remove(db: Database) -> None:
    added = townhall(db, "add", "Olivia@Example.gov.UK", "--role", "admin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert "olivia@example.gov.uk" in added.stdout

    listed = townhall(db, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["email"], r["role"], r["last_sign_in_at"]) for r in rows] == [
        ("olivia@example.gov.uk", "admin", None)
    ]
    async with db.transaction() as session:
        user = await AccountRepository(session).by_email("OLIVIA@example.gov.uk")
        assert user is not None and verify_password(user.password_hash, PASSWORD)

    changed = townhall(db, "set-password", "olivia@example.gov.uk", stdin="another long secret\n")
    assert changed.returncode == 0, changed.stderr
    async with db.transaction() as session:
        user = await AccountRepository(session).by_email("olivia@example.gov.uk")
        assert user is not None and verify_password(user.password_hash, "another long secret")

    last = townhall(db, "remove", "OLIVIA@example.gov.uk")
    assert last.returncode == 1 and last.stderr.count("\n") == 1
    assert "olivia@example.gov.uk is the last admin" in last.stderr
    removed = townhall(db, "remove", "OLIVIA@example.gov.uk", "--force")
    assert removed.returncode == 0, removed.stderr
    again = townhall(db, "remove", "olivia@example.gov.uk")
    assert again.returncode == 1 and again.stderr.count("\n") == 1
    assert json.loads(townhall(db, "list", "--json").stdout) == []

    async with db.transaction() as session:
        entries = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        log = [(e.actor, e.action, e.target, e.details) for e in entries]
    assert log == [
        ("cli", "user.add", "dashboard:olivia@example.gov.uk", {"role": "admin"}),
        ("cli", "user.password", "dashboard:olivia@example.gov.uk", {}),
        ("cli", "user.remove", "dashboard:olivia@example.gov.uk", {}),
    ]
    assert PASSWORD not in repr(log) and "another long secret" not in repr(log)


async def test_weak_password_duplicate_and_bad_email_are_refused(db: Database) -> None:
    weak = townhall(db, "add", "a@example.org", "--role", "policy", stdin="short\n")
    assert weak.returncode == 1
    assert weak.stderr.startswith("townhall: ") and weak.stderr.count("\n") == 1
    assert "12 characters" in weak.stderr

    assert townhall(db, "add", "a@example.org", "--role", "policy", stdin=PASSWORD).returncode == 0
    dup = townhall(db, "add", "A@Example.org", "--role", "moderator", stdin=PASSWORD + "\n")
    assert dup.returncode == 1 and dup.stderr.count("\n") == 1
    assert "already exists" in dup.stderr

    refused = townhall(db, "add", "a@localhost", "--role", "policy", stdin=PASSWORD + "\n")
    assert refused.returncode == 1 and "not a valid email address" in refused.stderr

    # With a second admin, the first can go without --force; the second then cannot.
    for address in ["b@example.org", "c@example.org"]:
        made = townhall(db, "add", address, "--role", "admin", stdin=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
    assert townhall(db, "remove", "b@example.org").returncode == 0
    assert "last admin" in townhall(db, "remove", "c@example.org").stderr
    assert townhall(db, "remove", "c@example.org", "--force").returncode == 0

    unknown = townhall(db, "set-password", "nobody@example.org", stdin=PASSWORD + "\n")
    assert unknown.returncode == 1 and "no account" in unknown.stderr

    async with db.transaction() as session:
        accounts = await AccountRepository(session).list()
        assert [(u.email, u.role) for u in accounts] == [("a@example.org", "policy")]


def test_emails_are_checked_loosely() -> None:
    for good in ["a@example.org", "olivia.smith+x@council.gov.uk"]:
        assert email_problem(good) is None
    for bad in ["no-at-sign", "two@@example.org", "a@localhost", "@example.org", "a b@x.org"]:
        assert email_problem(bad) is not None, bad
    assert email_problem("a@" + "x" * 250 + ".org") is not None


class Terminal:
    """``townhall users ...`` on a pseudo-terminal, typed at as a person would."""

    def __init__(self, db: Database, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
        env.update(
            TOWNHALL_DATABASE_URL=db.url, TOWNHALL_SECRET_KEY="cli-test-secret-key-0123456789"
        )
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "townhall.cli", "users", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, within: float = 60.0) -> str:
        """Read until ``text`` has appeared (bounded); everything read since the last one."""
        deadline = time.monotonic() + within
        start = len(self.seen)
        while text not in self.seen[start:]:
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {text!r}; got {self.seen[start:]!r}"
            ready, _, _ = io_select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the process ended and closed the terminal
                    chunk = b""
                assert chunk, f"ended before {text!r}; got {self.seen[start:]!r}"
                self.seen += chunk.decode("utf-8", "replace")
        return self.seen[start:]

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def finish(self) -> int:
        code = self.process.wait(timeout=60)
        with contextlib.suppress(OSError):
            self.seen += os.read(self.master, 65536).decode("utf-8", "replace")
        os.close(self.master)
        return code


async def test_add_checks_the_rule_before_the_repeat_and_asks_again(db: Database) -> None:
    term = Terminal(db, "add", "tess@example.gov.uk", "--role", "policy")
    try:
        assert "12 characters or more" in term.expect("Password: ")
        term.type("short")
        said = term.expect("Password: ")  # asked again at once, no repeat asked for
        assert "Password must be 12 characters or more. Try again." in said
        assert "Repeat" not in said
        term.type(PASSWORD)
        term.expect("Repeat the password: ")
        term.type("a different long password")
        assert "did not match. Try again." in term.expect("Password: ")
        term.type(PASSWORD)
        term.expect("Repeat the password: ")
        term.type(PASSWORD)
        assert term.finish() == 0, term.seen
    finally:
        if term.process.poll() is None:
            term.process.kill()
    assert "Added tess@example.gov.uk (policy)." in term.seen
    assert PASSWORD not in term.seen  # never echoed
    async with db.transaction() as session:
        user = await AccountRepository(session).by_email("tess@example.gov.uk")
        assert user is not None and verify_password(user.password_hash, PASSWORD)
