"""Checking that platform JSON has the shape a library will assume, before the library reads it.

Platform libraries (python-telegram-bot, discord.py) trust the platform's types: a list where
an object belongs, or a null where a list belongs, fails deep inside them, sometimes in a task
of their own where no one can catch it. Adapters describe the fields they and their library
read as a small spec and ask :class:`Shape` where a payload differs. The answer is a path
(``update.message.chat.id: not an integer``), never the payload's content, so it can be logged.

A spec is a leaf type (``str``, ``bool``, ``dict``, ``int`` or one of the shape's own leaf
markers), a one-element list (a list of that), or a dict of field name to spec (an object).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Spec = dict[str, Any]
#: How deep a payload may nest before it is refused outright.
MAX_DEPTH = 8


class Shape:
    """One platform's rules: required fields per object spec, which nulls are allowed, what
    each leaf type accepts, and an optional rule of its own per object."""

    def __init__(
        self,
        *,
        required: Mapping[int, tuple[str, ...]],
        int_limit: int,
        nullable: Callable[[str], bool] = lambda _key: True,
        leaves: Mapping[object, Callable[[object], bool]] | None = None,
        rule: Callable[[Spec, dict[str, Any], str], str | None] | None = None,
    ) -> None:
        self.required = required
        self.nullable = nullable
        self.rule = rule
        self.leaves: dict[object, Callable[[object], bool]] = {
            int: lambda v: type(v) is int and -int_limit < v < int_limit,
            str: lambda v: type(v) is str,
            bool: lambda v: type(v) is bool,
            dict: lambda v: type(v) is dict,
            **(leaves or {}),
        }

    def problem(self, value: object, spec: Any, where: str, depth: int = 0) -> str | None:
        """Where ``value`` differs from ``spec`` (a path and what is wrong), or None.

        Every webhook request is checked, and nearly all fit: a first walk only says whether
        it does (no path strings built), and only a payload that does not is walked again
        to say where."""
        if self.fits(value, spec, depth):
            return None
        return self._problem(value, spec, where, depth)

    def fits(self, value: object, spec: Any, depth: int = 0) -> bool:
        """Whether ``value`` has the shape of ``spec`` (what :meth:`problem` checks)."""
        if depth > MAX_DEPTH:
            return False
        if isinstance(spec, list):
            if not isinstance(value, list):
                return False
            element = spec[0]
            return all(self.fits(v, element, depth + 1) for v in value)
        if not isinstance(spec, dict):
            return self.leaves[spec](value)
        if not isinstance(value, dict):
            return False
        for key in self.required.get(id(spec), ()):
            if value.get(key) is None:
                return False
        if self.rule is not None and self.rule(spec, value, ""):
            return False
        nullable = self.nullable
        for key, sub in spec.items():
            if key not in value:
                continue
            v = value[key]
            if v is None and nullable(key):
                continue
            if not self.fits(v, sub, depth + 1):
                return False
        return True

    def _problem(self, value: object, spec: Any, where: str, depth: int = 0) -> str | None:
        if depth > MAX_DEPTH:
            return f"{where}: nested too deep"
        if not isinstance(spec, dict | list):
            accepts = self.leaves[spec]
            return None if accepts(value) else f"{where}: not {_name(spec)}"
        if isinstance(spec, list):
            if not isinstance(value, list):
                return f"{where}: not a list"
            for n, element in enumerate(value):
                found = self._problem(element, spec[0], f"{where}[{n}]", depth + 1)
                if found:
                    return found
            return None
        if not isinstance(value, dict):
            return f"{where}: not an object"
        required = self.required.get(id(spec), ())
        for key in required:
            if value.get(key) is None:
                return f"{where}.{key}: missing"
        if self.rule is not None:
            found = self.rule(spec, value, where)
            if found:
                return found
        for key, sub in spec.items():
            if key not in value or (value[key] is None and self.nullable(key)):
                continue
            found = self._problem(value[key], sub, f"{where}.{key}", depth + 1)
            if found:
                return found
        return None


def _name(spec: object) -> str:
    if spec is int:
        return "an integer"
    return f"a {getattr(spec, '__name__', 'value').lower()}"
