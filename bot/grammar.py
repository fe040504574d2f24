"""One command grammar for every platform: ``name arg "quoted arg" --flag --option value``."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.errors import UsageError
from bot.i18n import N_, Translator, identity_translator

# Phones and chat apps turn straight quotes into curly ones; people should not have to care.
#: A moderator's decisions on an answer; each is also a command (``approve A12``).
DECISIONS = ("approve", "hide", "redact", "escalate")

#: Parse errors, said in the person's language by the dispatcher (commands stay English).
UNKNOWN_OPTION = N_("Unknown option --{name}.\nUsage: {usage}")
NEEDS_VALUE = N_("--{name} needs a value.\nUsage: {usage}")
ONE_OF = N_("--{name} must be one of: {allowed}.")
USAGE = N_("Usage: {usage}")
UNREADABLE = N_("I couldn't read that: {problem} (check your quotes).")

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "«": '"', "»": '"'})


@dataclass(frozen=True, slots=True)
class Field:
    """One typed field of a command's form (Discord's ``/townhall`` subcommand options): which
    part of the parsed command it fills and how it is asked for.

    ``fills``: ``arg`` one argument; ``args`` several arguments given in one text separated by
    ``|``; ``flag`` a yes/no switch (``--multi``); ``option`` an option's value (``--closes``),
    chosen from the spec's allowed values when it has some. ``kind``: ``text`` (1 to ``limit``
    characters), ``number`` (a whole number from 1 to ``limit``) or ``yes/no`` (an option whose
    values are ``yes`` and ``no``, asked as a yes/no switch).
    """

    name: str  # the argument's name, or the flag's or option's name as typed
    description: str
    fills: Literal["arg", "args", "flag", "option"] = "arg"
    kind: Literal["text", "number", "yes/no"] = "text"
    required: bool = False
    limit: int = 40


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """What a command accepts; used to parse and to print help."""

    name: str
    usage: str
    summary: str
    flags: frozenset[str] = frozenset()
    #: option name -> allowed values (empty tuple: any value)
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    min_args: int = 0
    max_args: int | None = None
    staff_only: bool = False
    #: One short line for platform command menus (Telegram's); the summary when empty.
    menu: str = ""
    #: An example for one-line usage hints (Slack's slash-command hint); left out when empty.
    hint: str = ""
    #: The typed form of the command (Discord's subcommand options), in the order asked.
    fields: tuple[Field, ...] = ()
    #: The command posts a card where it is typed (its answer is for everyone there).
    publishes: bool = False
    #: The line a list of slash commands shows (Discord's); the menu line when empty.
    slash_help: str = ""
    #: Offered as a typed slash command (Discord's ``/townhall`` subcommands); Telegram's
    #: ``start`` is not.
    slash: bool = True


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    name: str
    args: tuple[str, ...] = ()
    flags: frozenset[str] = frozenset()
    options: Mapping[str, str] = field(default_factory=dict)


def split_command(text: str) -> tuple[str, str]:
    """``"/poll@Bot rest"`` or ``"poll rest"`` -> ``("poll", "rest")``; name lower-cased."""
    text = text.strip()
    if text.startswith("/"):
        text = text[1:]
    head, _, rest = text.partition(" ")
    name = head.split("@", 1)[0].lower()
    return name, rest.strip()


def plain_quotes(text: str) -> str:
    """Curly and angle quotes made straight, as the tokenizer reads them (so an item's text is
    the same whether it was typed in chat or entered in a form)."""
    return text.translate(_QUOTES)


def tokenize(text: str) -> list[str]:
    try:
        return shlex.split(plain_quotes(text), posix=True)
    except ValueError as exc:
        raise UsageError(
            N_("I couldn't read that: {problem} (check your quotes)."), problem=exc
        ) from None


def parse_args(spec: CommandSpec, rest: str) -> ParsedCommand:
    args: list[str] = []
    flags: set[str] = set()
    options: dict[str, str] = {}
    tokens = tokenize(rest)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token == "--":  # noqa: S105 - not a password
            # Not an "end of options" marker: it would turn --closes into a poll option.
            raise UsageError(
                N_(
                    "A lone -- is not understood: options such as --closes 2d go after the "
                    "arguments, without it.\nUsage: {usage}"
                ),
                usage=spec.usage,
            )
        if not token.startswith("--"):
            args.append(token)
            continue
        name, eq, value = token[2:].partition("=")
        name = name.lower()
        if name in spec.flags and not eq:
            flags.add(name)
            continue
        if name not in spec.options:
            raise UsageError(UNKNOWN_OPTION, name=name, usage=spec.usage)
        if not eq:
            if i >= len(tokens):
                raise UsageError(NEEDS_VALUE, name=name, usage=spec.usage)
            value = tokens[i]
            i += 1
        allowed = spec.options[name]
        if allowed and value.lower() not in allowed:
            raise UsageError(ONE_OF, name=name, allowed=", ".join(allowed))
        options[name] = value.lower() if allowed else value
    if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
        raise UsageError(USAGE, usage=spec.usage)
    return ParsedCommand(spec.name, tuple(args), frozenset(flags), options)


def check(spec: CommandSpec, command: ParsedCommand) -> ParsedCommand:
    """A command parsed elsewhere (a form, a slash command), held to the same rules as typed
    text: known flags and options, allowed values, the number of arguments."""
    for name in command.flags:
        if name not in spec.flags:
            raise UsageError(UNKNOWN_OPTION, name=name, usage=spec.usage)
    options: dict[str, str] = {}
    for name, value in command.options.items():
        if name not in spec.options:
            raise UsageError(UNKNOWN_OPTION, name=name, usage=spec.usage)
        allowed = spec.options[name]
        if allowed and value.lower() not in allowed:
            raise UsageError(ONE_OF, name=name, allowed=", ".join(allowed))
        options[name] = value.lower() if allowed else value
    count = len(command.args)
    if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
        raise UsageError(USAGE, usage=spec.usage)
    return ParsedCommand(spec.name, tuple(command.args), frozenset(command.flags), options)


def command_menu(specs: Sequence[CommandSpec]) -> list[tuple[str, str]]:
    """(name, description) per command, for a platform's command menu."""
    return [(spec.name, spec.menu or spec.summary) for spec in specs]


def usage_hint(specs: Sequence[CommandSpec]) -> str:
    """``poll "Question?" "Yes" "No" | ask "Question?" | ...`` from the specs' examples."""
    return " | ".join(spec.hint for spec in specs if spec.hint)


def help_text(
    specs: Sequence[CommandSpec], *, staff: bool, t: Translator = identity_translator
) -> str:
    """The commands this person may use; citizens' summaries (marked ``N_``) in their
    language, the commands themselves as typed (English words)."""
    lines = [t("Townhall commands:")]
    for spec in specs:
        if spec.staff_only and not staff:
            continue
        lines.append(f"  {spec.usage}\n      {t(spec.summary)}")
    return "\n".join(lines)
