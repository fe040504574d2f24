"""Per-feature routers with decorators and small composable filters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.context import Context
from bot.errors import UsageError, UserError
from bot.events import EventKind
from bot.grammar import CommandSpec, parse_args, split_command
from bot.grammar import check as check_command
from bot.i18n import N_

Handler = Callable[[Context], Awaitable[None]]


class Filter(Protocol):
    """Decides whether a handler may run; ``refusal`` is what the person is told if not."""

    @property
    def refusal(self) -> str: ...

    async def __call__(self, ctx: Context) -> bool: ...


@dataclass(frozen=True)
class has_role:
    """Passes when the actor holds any of the roles (admin holds them all)."""

    roles: tuple[str, ...]
    refusal: str = N_("Sorry, only the policy team can do that.")

    def __init__(self, *roles: str, refusal: str | None = None) -> None:
        object.__setattr__(self, "roles", roles)
        if refusal is None:
            names = " or ".join("the policy team" if r == "policy" else f"{r}s" for r in roles)
            refusal = f"Sorry, only {names} can do that."
        object.__setattr__(self, "refusal", refusal)

    async def __call__(self, ctx: Context) -> bool:
        return await ctx.has_role(*self.roles)


@dataclass
class Route:
    handler: Handler
    filters: Sequence[Filter] = ()
    spec: CommandSpec | None = None


@dataclass
class Router:
    """A feature's handlers. ``Dispatcher.include(router)`` wires it in."""

    name: str
    commands: dict[str, Route] = field(default_factory=dict)
    actions: dict[str, Route] = field(default_factory=dict)
    submits: dict[str, Route] = field(default_factory=dict)
    replies: list[Route] = field(default_factory=list)
    texts: list[Route] = field(default_factory=list)

    def command(
        self, spec: CommandSpec, *, filters: Sequence[Filter] = ()
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.commands[spec.name] = Route(handler, filters, spec)
            return handler

        return register

    def action(
        self, action_id: str, *, filters: Sequence[Filter] = ()
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.actions[action_id] = Route(handler, filters)
            return handler

        return register

    def submit(
        self, action_id: str, *, filters: Sequence[Filter] = ()
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.submits[action_id] = Route(handler, filters)
            return handler

        return register

    def reply(self, *, filters: Sequence[Filter] = ()) -> Callable[[Handler], Handler]:
        """Free text written in reply to (or in the thread of) one of the bot's messages."""

        def register(handler: Handler) -> Handler:
            self.replies.append(Route(handler, filters))
            return handler

        return register

    def text(self, *, filters: Sequence[Filter] = ()) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.texts.append(Route(handler, filters))
            return handler

        return register


class RouteTable:
    """All included routers, looked up by event kind."""

    def __init__(self, routers: Sequence[Router]) -> None:
        self.commands: dict[str, Route] = {}
        self.actions: dict[str, Route] = {}
        self.submits: dict[str, Route] = {}
        self.replies: list[Route] = []
        self.texts: list[Route] = []
        for router in routers:
            for table, new in (
                (self.commands, router.commands),
                (self.actions, router.actions),
                (self.submits, router.submits),
            ):
                clash = table.keys() & new.keys()
                if clash:
                    raise ValueError(f"router {router.name!r} redefines {sorted(clash)}")
                table.update(new)
            self.replies.extend(router.replies)
            self.texts.extend(router.texts)

    @property
    def specs(self) -> list[CommandSpec]:
        return [r.spec for r in self.commands.values() if r.spec is not None]

    async def handle(self, ctx: Context) -> bool:
        """Run the matching handler. False when nothing matched (e.g. chatter in a group)."""
        event = ctx.event
        route: Route | None
        if event.kind is EventKind.COMMAND:
            given = event.command
            name, rest = (given.name, "") if given is not None else split_command(event.text)
            route = self.commands.get(name)
            if route is None or route.spec is None:
                raise UsageError(
                    ctx.t("Unknown command {name!r}. Send help to see what I can do.", name=name)
                )
            ctx.command = (
                check_command(route.spec, given)
                if given is not None
                else parse_args(route.spec, rest)
            )
        elif event.kind is EventKind.ACTION:
            route = self.actions.get(event.action_id)
        elif event.kind is EventKind.SUBMIT:
            route = self.submits.get(event.action_id)
        elif event.kind is EventKind.REPLY:
            route = self.replies[0] if self.replies else None
        else:
            route = self.texts[0] if self.texts else None
        if route is None:
            if event.kind in (EventKind.ACTION, EventKind.SUBMIT):
                raise UserError(ctx.t("That button is no longer active."))
            return False
        for check in route.filters:
            if not await check(ctx):
                raise UserError(ctx.t(check.refusal))
        await route.handler(ctx)
        return True
