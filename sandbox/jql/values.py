"""Resolve JQL operands into the plain values the compiled closures compare against.

Every operand a clause names (literal, EMPTY, function call) is turned into comparable values here,
once per query: names lower-cased, users to account ids, status categories to their keys, dates to
UTC instants or calendar days, numbers to floats, issue keys upper-cased. This is also where every
"does not exist" / "is invalid" error about a value is raised, before any issue is looked at.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date, datetime, tzinfo
from typing import TypeVar

from sandbox.jql.context import JqlContext
from sandbox.jql.errors import JqlError
from sandbox.jql.fields import FieldDef, Kind
from sandbox.jql.functions import (
    DATE_FUNCTIONS,
    as_utc,
    check_arity,
    date_function,
    date_value,
    local_date,
    minute,
    zone,
)
from sandbox.jql.nodes import Empty, FieldRef, FunctionCall, Literal, Operand, ValueList

T = TypeVar("T")
Item = Literal | Empty | FunctionCall
_UserTables = tuple[dict[str, set[str]], dict[str, set[str]], dict[str, str]]

_STATUS_CATEGORIES = {
    "to do": "new", "new": "new", "2": "new",
    "in progress": "indeterminate", "indeterminate": "indeterminate", "4": "indeterminate",
    "done": "done", "3": "done",
}
PRIORITY_RANK = {"lowest": 1, "low": 2, "medium": 3, "high": 4, "highest": 5}
_USER_FUNCTIONS = frozenset({"currentuser", "membersof"})
ALL_FUNCTIONS = DATE_FUNCTIONS | _USER_FUNCTIONS


def key_parts(key: str) -> tuple[str, int]:
    """`ABC-12` -> ("ABC", 12): Jira orders keys by project, then numerically."""
    project, _, number = key.rpartition("-")
    if project and number.isdigit():
        return project.upper(), int(number)
    return key.upper(), 0


def looks_like_key(text: str) -> bool:
    """A well-formed issue key: letters/digits/underscore starting with a letter, '-', digits."""
    project, _, number = text.rpartition("-")
    return (
        bool(project)
        and project[0].isalpha()
        and all(c.isalnum() or c == "_" for c in project)
        and number.isdigit()
        and number.isascii()
    )


def is_issue_id(text: str) -> bool:
    """A numeric issue id as JQL accepts it for `key`: ASCII digits only (`isdigit` alone admits ²)."""
    return text.isdigit() and text.isascii()


def render(operand: Operand) -> str:
    """An operand as Jira echoes it back in error messages."""
    if isinstance(operand, Literal):
        return operand.text
    if isinstance(operand, Empty):
        return "EMPTY"
    if isinstance(operand, FunctionCall):
        return f"{operand.name}({', '.join(operand.args)})"
    return "(" + ", ".join(render(item) for item in operand.items) + ")"


class Operands:
    """Turns the operands of one query's clauses into values, for one `JqlContext`."""

    def __init__(self, ctx: JqlContext) -> None:
        """Resolve what every clause shares: time zone, clock, known values. The user lookup
        tables wait for the first user value that needs them (most queries name no user)."""
        self.ctx = ctx
        self.tz: tzinfo = zone(ctx.time_zone)
        self.now = as_utc(ctx.now)
        self.referenced_keys: list[tuple[str, str]] = []  # (key as typed, field as typed)
        self._known = {name.lower(): {v.lower() for v in values} for name, values in ctx.known_values.items()}
        self._user_tables: _UserTables | None = None

    # --- shapes and functions -------------------------------------------------------------------

    def items(self, ref: FieldRef, op: str, operand: Operand) -> list[Item]:
        """The operand as a list of items, refusing shapes the operator does not take."""
        if op in ("is", "is not"):
            if not isinstance(operand, Empty):
                raise JqlError(f"The operator '{op}' only supports searching for EMPTY or NULL values.")
            return [operand]
        if op in ("in", "not in", "was in", "was not in"):
            if isinstance(operand, ValueList):
                return list(operand.items)
            if isinstance(operand, FunctionCall):
                return [operand]
            raise JqlError(
                f"Operator '{op}' does not support the non-list value '{render(operand)}' "
                f"for field '{ref.name}'."
            )
        if isinstance(operand, ValueList):
            raise JqlError(
                f"Operator '{op}' does not support the list value '{render(operand)}' "
                f"for field '{ref.name}'."
            )
        return [operand]

    @staticmethod
    def check_function(call: FunctionCall) -> str:
        """The function's lower-case name, or Jira's error for a function it does not know."""
        name = call.name.lower()
        if name not in ALL_FUNCTIONS:
            raise JqlError(f"Unable to find JQL function '{call.name}()'.")
        return name

    def not_for_field(self, call: FunctionCall, ref: FieldRef) -> JqlError:
        """A known function used on a field it does not serve (an unknown one raises its own error)."""
        self.check_function(call)
        return JqlError(f"Function '{call.name}' is not supported by the field '{ref.name}'.")

    # --- the one collection loop ----------------------------------------------------------------

    def values(
        self,
        ref: FieldRef,
        items: list[Item],
        literal: Callable[[str], Iterable[T]],
        function: Callable[[FunctionCall], Iterable[T]] | None = None,
    ) -> tuple[frozenset[T], bool]:
        """The values the items name, and whether EMPTY is among them.

        `literal` converts (and checks) a literal's text; `function` a function call, and when it is
        None the field takes no function at all. Both return several values because one user name
        can match several accounts (and `currentUser()` none). Items are converted in order, so the
        first bad one is the one reported.
        """
        values: set[T] = set()
        include_empty = False
        for item in items:
            if isinstance(item, Empty):
                include_empty = True
            elif isinstance(item, FunctionCall):
                if function is None:
                    raise self.not_for_field(item, ref)
                values.update(function(item))
            else:
                values.update(literal(item.text))
        return frozenset(values), include_empty

    # --- per-kind converters --------------------------------------------------------------------

    def names(self, definition: FieldDef, ref: FieldRef, items: list[Item]) -> tuple[frozenset[str], bool]:
        """Lower-cased names (projects, statuses, labels...) and whether EMPTY is among them."""
        if definition.canonical == "resolution":
            # Jira's pseudo-value for "no resolution" is EMPTY under another name.
            items = [
                Empty() if isinstance(item, Literal) and item.text.lower() == "unresolved" else item
                for item in items
            ]
        known = self._known.get(definition.canonical.lower())

        def name(text: str) -> tuple[str]:
            """Refuse values outside `ctx.known_values` for this field, when the caller supplied them."""
            if known is not None and text.lower() not in known:
                raise self._does_not_exist(text, ref)
            return (text.lower(),)

        return self.values(ref, items, name)

    def users(self, ref: FieldRef, items: list[Item]) -> tuple[frozenset[str], bool]:
        """Account ids named by accountId, email or display name, currentUser() or membersOf()."""

        def user(text: str) -> set[str]:
            """The accounts a literal names; naming none is an error."""
            found = self._user(text)
            if not found:
                raise self._does_not_exist(text, ref)
            return found

        def user_function(call: FunctionCall) -> set[str]:
            """currentUser() (nobody when anonymous) or membersOf(group)."""
            name = self.check_function(call)
            if name == "currentuser":
                check_arity(call.name, call.args, 0, 0)
                return set() if self.ctx.current_user is None else {self.ctx.current_user}
            if name == "membersof":
                check_arity(call.name, call.args, 1, 1)
                return self._members_of(call.name, call.args[0])
            raise self.not_for_field(call, ref)

        return self.values(ref, items, user, user_function)

    def categories(self, ref: FieldRef, items: list[Item]) -> tuple[frozenset[str], bool]:
        """Status category names ("To Do"), keys ("new") or ids ("2") to keys."""

        def category(text: str) -> tuple[str]:
            """One category's key; runs of spaces are ignored as Jira does."""
            key = _STATUS_CATEGORIES.get(" ".join(text.split()).lower())
            if key is None:
                raise self._does_not_exist(text, ref)
            return (key,)

        return self.values(ref, items, category)

    def minutes(self, ref: FieldRef, items: list[Item]) -> tuple[frozenset[datetime], bool]:
        """Date-time operands truncated to the minute (`=` on a timestamp matches within the minute)."""
        return self.values(
            ref,
            items,
            lambda text: (minute(self._date_literal(ref, text)),),
            lambda call: (minute(self._date_function(ref, call)),),
        )

    def days(self, ref: FieldRef, items: list[Item]) -> tuple[frozenset[date], bool]:
        """Date operands as calendar days in the context's zone (for date-only fields)."""
        return self.values(
            ref,
            items,
            lambda text: (local_date(self._date_literal(ref, text), self.tz),),
            lambda call: (local_date(self._date_function(ref, call), self.tz),),
        )

    def numbers(self, ref: FieldRef, items: list[Item]) -> tuple[frozenset[float], bool]:
        """Numeric operands (custom fields)."""
        return self.values(ref, items, lambda text: (self.number(ref, text),))

    def keys(
        self, definition: FieldDef, ref: FieldRef, items: list[Item]
    ) -> tuple[frozenset[str], frozenset[str], bool]:
        """Upper-cased issue keys, numeric ids (as canonical digits) and whether EMPTY is among them.
        Keys named on `issuekey` are recorded, so `search` can check they exist as Jira does."""

        def target(text: str) -> tuple[tuple[bool, str]]:
            """(is an id, value): tagged so keys and ids stay two sets however they look."""
            if is_issue_id(text):
                return ((True, str(int(text))),)
            return ((False, self.key(ref, text, record=definition.kind is Kind.KEY)),)

        tagged, include_empty = self.values(ref, items, target)
        keys = frozenset(value for is_id, value in tagged if not is_id)
        ids = frozenset(value for is_id, value in tagged if is_id)
        return keys, ids, include_empty

    # --- single operands ------------------------------------------------------------------------

    def instant(self, ref: FieldRef, item: Item) -> datetime:
        """One date operand (literal or date function) as aware UTC."""
        if isinstance(item, Empty):
            raise JqlError(f"The operator does not support searching for EMPTY values on field '{ref.name}'.")
        if isinstance(item, FunctionCall):
            return self._date_function(ref, item)
        return self._date_literal(ref, item.text)

    def number(self, ref: FieldRef, text: str) -> float:
        """One numeric literal; Python's extras (inf, nan, 1_000) are not JQL numbers."""
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or "_" in text:
            raise JqlError(f"The value '{text}' for field '{ref.name}' is invalid - please specify a number.")
        return value

    def priority_rank(self, ref: FieldRef, text: str) -> int:
        """A priority name's rank, for `priority > Medium`."""
        rank = PRIORITY_RANK.get(text.lower())
        if rank is None:
            raise self._does_not_exist(text, ref)
        return rank

    def key(self, ref: FieldRef, text: str, record: bool) -> str:
        """A well-formed issue key, upper-cased; `record` notes it among the referenced keys."""
        if not looks_like_key(text):
            raise JqlError(f"The issue key '{text}' for field '{ref.name}' is invalid.")
        if record:
            self.referenced_keys.append((text, ref.name))
        return text.upper()

    # --- helpers --------------------------------------------------------------------------------

    @staticmethod
    def _does_not_exist(text: str, ref: FieldRef) -> JqlError:
        """Jira's error for a value the field does not have."""
        return JqlError(f"The value '{text}' does not exist for the field '{ref.name}'.")

    def _date_literal(self, ref: FieldRef, text: str) -> datetime:
        """An absolute or relative date literal as aware UTC."""
        return date_value(text, ref.name, self.now, self.tz)

    def _date_function(self, ref: FieldRef, call: FunctionCall) -> datetime:
        """now() / startOfX() / endOfX() as aware UTC; other functions do not serve date fields."""
        name = self.check_function(call)
        if name not in DATE_FUNCTIONS:
            raise self.not_for_field(call, ref)
        return date_function(call.name, call.args, self.now, self.tz)

    def _lookups(self) -> _UserTables:
        """Account ids by folded email and display name, and by their folded id or DC user name.

        The last table is what names a user on its own in this deployment: the accountId on Cloud,
        the user name (login) on Data Center.
        """
        if self._user_tables is None:
            by_email: dict[str, set[str]] = {}
            by_name: dict[str, set[str]] = {}
            by_handle: dict[str, str] = {}
            cloud = self.ctx.deployment == "cloud"
            for account_id, user in self.ctx.users.items():
                by_email.setdefault(user.email.lower(), set()).add(account_id)
                by_name.setdefault(user.display_name.lower(), set()).add(account_id)
                by_handle[(account_id if cloud else user.login).lower()] = account_id
            self._user_tables = (by_email, by_name, by_handle)
        return self._user_tables

    def _user(self, text: str) -> set[str]:
        """Accounts a user value names: accountId (Cloud) or user name (DC), else email, else display name."""
        folded = text.lower()
        by_email, by_name, by_handle = self._lookups()
        if folded in by_handle:
            return {by_handle[folded]}
        return by_email.get(folded) or by_name.get(folded) or set()

    def _members_of(self, display: str, group: str) -> set[str]:
        """Members of a group (case-insensitive name), from `ctx.groups` and users' own group lists."""
        folded = group.lower()
        members: set[str] = set()
        exists = False
        for name, accounts in self.ctx.groups.items():
            if name.lower() == folded:
                exists = True
                members.update(accounts)
        for account_id, user in self.ctx.users.items():
            if any(g.lower() == folded for g in user.groups):
                exists = True
                members.add(account_id)
        if not exists:
            raise JqlError(
                f"Function '{display}' can not generate a list of usernames for group '{group}'; "
                "the group does not exist."
            )
        return members
