"""Every sentence a person reads from an adapter comes from the core's catalogue.

Adapters have no Context, so their own acknowledgements and apologies are declared in
``bot/messages.py`` and said through ``bot.messages.say`` (the translation hook): a second
language then needs no adapter edits. This check fails when an adapter passes an English
literal to a call that says something to a person.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADAPTERS = ROOT / "adapters"

#: Calls whose arguments reach a person (sending, replying, acknowledging, notices).
SAYING = frozenset(
    {
        "send",
        "send_message",
        "notify",
        "respond",
        "respond_messages",
        "reply",
        "ack",
        "answer_callback_query",
        "_answer",
        "_reply",
        "_reply_here",
        "post",
        "ephemeral",
        "chat_postEphemeral",
        "chat_postMessage",
        "Notice",
        "MessageParts",
        "Prompt",
        "add",  # a form field's error message (the web chat)
    }
)
#: Words, then a space or sentence punctuation, then more: a sentence, not an identifier.
SENTENCE = re.compile(r"[A-Za-z]+[ ,.;:!?…]+[A-Za-z]|^[A-Z][a-z]+[.!…]$")
#: (file relative to the repository, literal) pairs that are not for people to read.
ALLOWED: frozenset[tuple[str, str]] = frozenset()


def callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def literals(node: ast.AST, constants: dict[str, str]) -> Iterator[str]:
    """String literals in an argument, and the module's own string constants it names; not
    looking into other calls (they are checked, or translated, on their own)."""
    if isinstance(node, ast.Call):
        return
    if isinstance(node, ast.Name) and node.id in constants:
        yield constants[node.id]
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
        return
    if isinstance(node, ast.JoinedStr):
        yield "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
        return
    for child in ast.iter_child_nodes(node):
        yield from literals(child, constants)


def english_in(source: str, relative: str) -> list[str]:
    tree = ast.parse(source, filename=relative)
    constants = {
        target.id: "".join(literals(statement.value, {}))
        for statement in tree.body
        if isinstance(statement, ast.Assign)
        for target in statement.targets
        if isinstance(target, ast.Name) and target.id.isupper()
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or callee(node) not in SAYING:
            continue
        arguments = [*node.args, *(k.value for k in node.keywords)]
        for argument in arguments:
            for text in literals(argument, constants):
                if SENTENCE.search(text) and (relative, text) not in ALLOWED:
                    found.append(f"{relative}:{node.lineno}: {callee(node)}({text!r})")
    return found


def test_adapters_say_nothing_of_their_own() -> None:
    found = [
        hit
        for path in sorted(ADAPTERS.rglob("*.py"))
        for hit in english_in(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    ]
    assert found == [], "say these through bot.messages instead:\n" + "\n".join(found)


def test_the_check_sees_an_english_literal() -> None:
    """The check itself: a literal apology is found, a catalogue message is not."""
    probe = (
        "APOLOGY = 'Sorry, try again.'\n"
        "async def f(ack, say, OOPS):\n"
        "    await ack(text='Sorry, that failed.', response_type='ephemeral')\n"
        "    await ack(text=say(OOPS), response_type='ephemeral')\n"
        "    await ack(text=f'Sorry {OOPS}, no')\n"
        "    await ack(text=APOLOGY)\n"
    )
    assert english_in(probe, "adapters/probe.py") == [
        "adapters/probe.py:3: ack('Sorry, that failed.')",
        "adapters/probe.py:5: ack('Sorry , no')",
        "adapters/probe.py:6: ack('Sorry, try again.')",
    ]
