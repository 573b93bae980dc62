"""Compile parsed JQL into plain Python closures, once per query and context.

Every field lookup, user resolution, date function and value conversion happens here, at compile
time; the closures that run per issue only read attributes and compare. That is what makes a search
over tens of thousands of issues cheap, and it is also where every "does not exist" error is raised,
before any issue is looked at.

Jira semantics mirrored (Atlassian's operators reference):
- `!=`, `NOT IN` and `!~` never match an empty field (`component != fred` needs a component);
- `NOT clause` is the same as the clause with its operator negated (`NOT a = b` is `a != b`), so
  NOT is pushed down to the clauses (De Morgan) rather than applied as a boolean complement;
- on multi-valued fields `=` means "contains", `!=` "has values and none is this", `IN` "any of";
- `resolution = Unresolved` is `resolution IS EMPTY`;
- a date-time compared with `=` matches within the minute (JQL dates carry no seconds);
- date-only fields (duedate) compare by calendar day in the context's time zone.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from operator import attrgetter
from typing import Any

from connectors.sandbox.jql.context import JqlContext
from connectors.sandbox.jql.errors import JqlError
from connectors.sandbox.jql.fields import FieldDef, Kind, check_operator, resolve_field
from connectors.sandbox.jql.functions import (
    DATE_FUNCTIONS,
    as_utc,
    check_arity,
    date_function,
    date_value,
    day_bounds,
    local_date,
    zone,
)
from connectors.sandbox.jql.nodes import (
    And,
    Changed,
    Compare,
    Empty,
    FieldRef,
    FunctionCall,
    History,
    Literal,
    Node,
    Not,
    Operand,
    Or,
    Predicate,
    SortKey,
    ValueList,
)
from connectors.sandbox.jql.textsearch import compile_text
from connectors.sandbox.model import Issue

IssuePredicate = Callable[[Issue], bool]
PeriodTest = Callable[[datetime, datetime | None], bool]  # (period start, end or None) -> bool
TransitionTest = Callable[[str | None, str, datetime], bool]  # (from, to, at) -> bool
SortSpec = tuple[Callable[[Issue], Any], bool]  # (key function returning None for empty, descending)

_NEGATED = {
    "=": "!=", "!=": "=", "~": "!~", "!~": "~", "in": "not in", "not in": "in", "is": "is not",
    "is not": "is", ">": "<=", "<=": ">", ">=": "<", "<": ">=",
    "was": "was not", "was not": "was", "was in": "was not in", "was not in": "was in",
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}
_STATUS_CATEGORIES = {
    "to do": "new", "new": "new", "2": "new",
    "in progress": "indeterminate", "indeterminate": "indeterminate", "4": "indeterminate",
    "done": "done", "3": "done",
}
_CATEGORY_ORDER = {"new": 0, "indeterminate": 1, "done": 2}
_PRIORITY_RANK = {"lowest": 1, "low": 2, "medium": 3, "high": 4, "highest": 5}
_USER_FUNCTIONS = frozenset({"currentuser", "membersof"})
ALL_FUNCTIONS = DATE_FUNCTIONS | _USER_FUNCTIONS

Item = Literal | Empty | FunctionCall
_UserTables = tuple[dict[str, set[str]], dict[str, set[str]], dict[str, str]]


def _always_false(issue: Issue) -> bool:
    """The predicate of a clause that can match nothing (e.g. currentUser() when anonymous)."""
    return False


def key_parts(key: str) -> tuple[str, int]:
    """`ABC-12` -> ("ABC", 12): Jira orders keys by project, then numerically."""
    project, _, number = key.rpartition("-")
    if project and number.isdigit():
        return project.upper(), int(number)
    return key.upper(), 0


def _looks_like_key(text: str) -> bool:
    """A well-formed issue key: letters/digits/underscore starting with a letter, '-', digits."""
    project, _, number = text.rpartition("-")
    return (
        bool(project)
        and project[0].isalpha()
        and all(c.isalnum() or c == "_" for c in project)
        and number.isdigit()
        and number.isascii()
    )


def _render(operand: Operand) -> str:
    """An operand as Jira echoes it back in error messages."""
    if isinstance(operand, Literal):
        return operand.text
    if isinstance(operand, Empty):
        return "EMPTY"
    if isinstance(operand, FunctionCall):
        return f"{operand.name}({', '.join(operand.args)})"
    return "(" + ", ".join(_render(item) for item in operand.items) + ")"


@dataclass(frozen=True)
class Compiled:
    """A query bound to one context: the filter, and the literal issue keys it names (`search`
    checks those exist, as Jira does)."""

    predicate: IssuePredicate
    referenced_keys: tuple[tuple[str, str], ...]


class Compiler:
    """Turns nodes into closures for one `JqlContext`."""

    def __init__(self, ctx: JqlContext) -> None:
        """Resolve what every clause shares: time zone, clock, known values. The user lookup
        tables wait for the first user value that needs them (most queries name no user)."""
        self.ctx = ctx
        self.tz: tzinfo = zone(ctx.time_zone)
        self.now = as_utc(ctx.now)
        self.referenced_keys: list[tuple[str, str]] = []  # (key as typed, field as typed)
        self._known = {name.lower(): {v.lower() for v in values} for name, values in ctx.known_values.items()}
        self._user_tables: _UserTables | None = None

    def _lookups(self) -> _UserTables:
        """Account ids by folded email and display name, and accountIds by their folded form."""
        if self._user_tables is None:
            by_email: dict[str, set[str]] = {}
            by_name: dict[str, set[str]] = {}
            by_id_folded: dict[str, str] = {}
            for account_id, user in self.ctx.users.items():
                by_email.setdefault(user.email.lower(), set()).add(account_id)
                by_name.setdefault(user.display_name.lower(), set()).add(account_id)
                by_id_folded[account_id.lower()] = account_id
            self._user_tables = (by_email, by_name, by_id_folded)
        return self._user_tables

    # --- structure ------------------------------------------------------------------------------

    def compile(self, node: Node, negate: bool = False) -> IssuePredicate:
        """The predicate for `node`; `negate` carries a pending NOT down to the clauses."""
        if isinstance(node, Not):
            return self.compile(node.child, not negate)
        if isinstance(node, And | Or):
            parts = [self.compile(child, negate) for child in node.children]
            # De Morgan: NOT (a AND b) = NOT a OR NOT b
            conjunction = isinstance(node, And) != negate
            return _all(parts) if conjunction else _any(parts)
        if isinstance(node, Compare):
            return self._compare(node, negate)
        if isinstance(node, History):
            return self._history(node, negate)
        predicate = self._changed(node)
        if negate:
            return lambda issue: not predicate(issue)
        return predicate

    # --- operands -------------------------------------------------------------------------------

    def _items(self, ref: FieldRef, op: str, operand: Operand) -> list[Item]:
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
                f"Operator '{op}' does not support the non-list value '{_render(operand)}' "
                f"for field '{ref.name}'."
            )
        if isinstance(operand, ValueList):
            raise JqlError(
                f"Operator '{op}' does not support the list value '{_render(operand)}' "
                f"for field '{ref.name}'."
            )
        return [operand]

    @staticmethod
    def _check_function(call: FunctionCall) -> str:
        """The function's lower-case name, or Jira's error for a function it does not know."""
        name = call.name.lower()
        if name not in ALL_FUNCTIONS:
            raise JqlError(f"Unable to find JQL function '{call.name}()'.")
        return name

    def _not_for_field(self, call: FunctionCall, ref: FieldRef) -> JqlError:
        """A known function used on a field it does not serve."""
        self._check_function(call)
        return JqlError(f"Function '{call.name}' is not supported by the field '{ref.name}'.")

    def _known_check(self, definition: FieldDef, ref: FieldRef, value: str) -> None:
        """Refuse values outside `ctx.known_values` for this field, when the caller supplied them."""
        known = self._known.get(definition.canonical.lower())
        if known is not None and value.lower() not in known:
            raise JqlError(f"The value '{value}' does not exist for the field '{ref.name}'.")

    def _names(self, definition: FieldDef, ref: FieldRef, items: list[Item]) -> tuple[frozenset[str], bool]:
        """Lower-cased names (projects, statuses, labels...) and whether EMPTY is among them."""
        names: set[str] = set()
        include_empty = False
        for item in items:
            if isinstance(item, Empty):
                include_empty = True
            elif isinstance(item, FunctionCall):
                raise self._not_for_field(item, ref)
            elif definition.canonical == "resolution" and item.text.lower() == "unresolved":
                include_empty = True  # Jira's pseudo-value for "no resolution"
            else:
                self._known_check(definition, ref, item.text)
                names.add(item.text.lower())
        return frozenset(names), include_empty

    def _users(self, ref: FieldRef, items: list[Item]) -> tuple[frozenset[str], bool]:
        """Account ids named by accountId, email or display name, currentUser() or membersOf()."""
        accounts: set[str] = set()
        include_empty = False
        for item in items:
            if isinstance(item, Empty):
                include_empty = True
            elif isinstance(item, FunctionCall):
                name = self._check_function(item)
                if name == "currentuser":
                    check_arity(item.name, item.args, 0, 0)
                    if self.ctx.current_user is not None:
                        accounts.add(self.ctx.current_user)
                elif name == "membersof":
                    check_arity(item.name, item.args, 1, 1)
                    accounts |= self._members_of(item.name, item.args[0])
                else:
                    raise self._not_for_field(item, ref)
            else:
                found = self._user(item.text)
                if not found:
                    raise JqlError(f"The value '{item.text}' does not exist for the field '{ref.name}'.")
                accounts |= found
        return frozenset(accounts), include_empty

    def _user(self, text: str) -> set[str]:
        """Accounts matching a user value: exact accountId, else email, else display name."""
        if text in self.ctx.users:
            return {text}
        folded = text.lower()
        by_email, by_name, by_id_folded = self._lookups()
        if folded in by_id_folded:
            return {by_id_folded[folded]}
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

    def _instant(self, ref: FieldRef, item: Item) -> datetime:
        """One date operand (literal or date function) as aware UTC."""
        if isinstance(item, Empty):
            raise JqlError(f"The operator does not support searching for EMPTY values on field '{ref.name}'.")
        if isinstance(item, FunctionCall):
            name = self._check_function(item)
            if name not in DATE_FUNCTIONS:
                raise self._not_for_field(item, ref)
            return date_function(item.name, item.args, self.now, self.tz)
        return date_value(item.text, ref.name, self.now, self.tz)

    def _number(self, ref: FieldRef, item: Item) -> float:
        """One numeric operand."""
        if isinstance(item, FunctionCall):
            raise self._not_for_field(item, ref)
        assert isinstance(item, Literal)
        try:
            value = float(item.text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or "_" in item.text:
            raise JqlError(
                f"The value '{item.text}' for field '{ref.name}' is invalid - please specify a number."
            )
        return value

    # --- comparisons ----------------------------------------------------------------------------

    def _compare(self, node: Compare, negate: bool) -> IssuePredicate:
        """A `field op operand` clause."""
        ref = node.field
        definition = resolve_field(ref, self.ctx.custom_fields)
        op = _NEGATED[node.op] if negate else node.op
        check_operator(definition, ref, node.op)
        items = self._items(ref, node.op, node.operand)
        positive = op in ("=", "in", "is", "~")
        if op in ("is", "is not"):
            return _emptiness(definition, positive)
        if op in _COMPARE:
            if isinstance(items[0], Empty):
                raise JqlError(f"The operator '{node.op}' does not support searching for EMPTY values.")
            return self._ordering(definition, ref, op, items[0])
        kind = definition.kind
        if kind is Kind.TEXT:
            return self._contains(definition, ref, items[0], positive)
        if kind in (Kind.PROJECT, Kind.NAME, Kind.PRIORITY, Kind.MULTI):
            names, include_empty = self._names(definition, ref, items)
            if kind is Kind.MULTI:
                return _multi(attrgetter(definition.attr), names, include_empty, positive)
            return _single(_lowered(definition.attr), names, include_empty, positive)
        if kind is Kind.STATUS_CATEGORY:
            categories, include_empty = self._categories(ref, items)
            return _single(attrgetter("status_category"), categories, include_empty, positive)
        if kind is Kind.USER:
            accounts, include_empty = self._users(ref, items)
            return _single(_nonblank(definition.attr), accounts, include_empty, positive)
        if kind in (Kind.KEY, Kind.ISSUE_REF):
            return self._keys(definition, ref, items, positive)
        if kind is Kind.DATETIME:
            moments, include_empty = self._collect(items, lambda item: _minute(self._instant(ref, item)))
            return _single(_minute_getter(definition.attr), moments, include_empty, positive)
        if kind is Kind.DATE:
            days, include_empty = self._collect(
                items, lambda item: local_date(self._instant(ref, item), self.tz)
            )
            return _single(attrgetter(definition.attr), days, include_empty, positive)
        numbers, include_empty = self._collect(items, lambda item: self._number(ref, item))
        return _single(_custom_getter(definition.attr), numbers, include_empty, positive)

    @staticmethod
    def _collect(items: list[Item], convert: Callable[[Item], Any]) -> tuple[frozenset[Any], bool]:
        """Convert the non-EMPTY items; report whether EMPTY was among them."""
        values = frozenset(convert(item) for item in items if not isinstance(item, Empty))
        return values, any(isinstance(item, Empty) for item in items)

    def _categories(self, ref: FieldRef, items: list[Item]) -> tuple[frozenset[str], bool]:
        """Status category names ("To Do"), keys ("new") or ids ("2") to keys."""
        keys: set[str] = set()
        include_empty = False
        for item in items:
            if isinstance(item, Empty):
                include_empty = True
            elif isinstance(item, FunctionCall):
                raise self._not_for_field(item, ref)
            else:
                key = _STATUS_CATEGORIES.get(" ".join(item.text.split()).lower())
                if key is None:
                    raise JqlError(f"The value '{item.text}' does not exist for the field '{ref.name}'.")
                keys.add(key)
        return frozenset(keys), include_empty

    def _keys(self, definition: FieldDef, ref: FieldRef, items: list[Item], positive: bool) -> IssuePredicate:
        """issuekey / parent / Epic Link equality; keys case-insensitive, numeric ids allowed for key."""
        keys: set[str] = set()
        ids: set[str] = set()
        include_empty = False
        for item in items:
            if isinstance(item, Empty):
                include_empty = True
            elif isinstance(item, FunctionCall):
                raise self._not_for_field(item, ref)
            elif item.text.isdigit() and item.text.isascii():
                ids.add(str(int(item.text)))
            elif _looks_like_key(item.text):
                keys.add(item.text.upper())
                if definition.kind is Kind.KEY:
                    self.referenced_keys.append((item.text, ref.name))
            else:
                raise JqlError(f"The issue key '{item.text}' for field '{ref.name}' is invalid.")
        frozen_keys = frozenset(keys)
        if definition.kind is Kind.ISSUE_REF:
            return _single(_upper(definition.attr), frozen_keys, include_empty, positive)
        frozen_ids = frozenset(ids)

        def key_matches(issue: Issue) -> bool:
            """The issue's key or id is one of the targets."""
            return issue.key.upper() in frozen_keys or issue.id in frozen_ids

        if positive:
            return key_matches
        return lambda issue: not key_matches(issue)

    def _ordering(self, definition: FieldDef, ref: FieldRef, op: str, item: Item) -> IssuePredicate:
        """`>`, `>=`, `<`, `<=` on dates, numbers, priorities and keys."""
        compare = _COMPARE[op]
        kind = definition.kind
        if kind is Kind.DATETIME:
            bound = self._instant(ref, item)
            getter = attrgetter(definition.attr)

            def later(issue: Issue) -> bool:
                """Compare the issue's timestamp (aware) with the bound; empty never matches."""
                value = getter(issue)
                if value is None:
                    return False
                if value.tzinfo is None:
                    value = value.replace(tzinfo=UTC)
                return compare(value, bound)

            return later
        if kind is Kind.DATE:
            day = local_date(self._instant(ref, item), self.tz)
            date_getter = attrgetter(definition.attr)
            return lambda issue: (value := date_getter(issue)) is not None and compare(value, day)
        if kind is Kind.NUMBER:
            number = self._number(ref, item)
            number_getter = _custom_getter(definition.attr)
            return lambda issue: (value := number_getter(issue)) is not None and compare(value, number)
        if isinstance(item, FunctionCall):
            raise self._not_for_field(item, ref)
        assert isinstance(item, Literal)
        if kind is Kind.PRIORITY:
            rank = _PRIORITY_RANK.get(item.text.lower())
            if rank is None:
                raise JqlError(f"The value '{item.text}' does not exist for the field '{ref.name}'.")

            def priority_in_range(issue: Issue) -> bool:
                """Compare priorities by rank; an unknown or missing priority never matches."""
                issue_rank = _PRIORITY_RANK.get((issue.priority or "").lower())
                return issue_rank is not None and compare(issue_rank, rank)

            return priority_in_range
        # issue keys: same project, compared by number (or numeric ids)
        if item.text.isdigit() and item.text.isascii():
            target_id = int(item.text)
            return lambda issue: issue.id.isdigit() and compare(int(issue.id), target_id)
        if not _looks_like_key(item.text):
            raise JqlError(f"The issue key '{item.text}' for field '{ref.name}' is invalid.")
        self.referenced_keys.append((item.text, ref.name))
        project, number = key_parts(item.text)

        def key_in_range(issue: Issue) -> bool:
            """Same project and the key's number compares as asked."""
            issue_project, issue_number = key_parts(issue.key)
            return issue_project == project and compare(issue_number, number)

        return key_in_range

    def _contains(self, definition: FieldDef, ref: FieldRef, item: Item, positive: bool) -> IssuePredicate:
        """`~` / `!~` on summary, description or text (both)."""
        if not isinstance(item, Literal):
            if isinstance(item, FunctionCall):
                raise self._not_for_field(item, ref)
            raise JqlError(
                f"The operator '~' does not support searching for EMPTY values on field '{ref.name}'."
            )
        matcher = compile_text(item.text)
        if matcher is None:
            raise JqlError(f"The field '{ref.name}' does not support searching for an empty string.")
        texts = _text_getter(definition.attr)
        if positive:
            return lambda issue: any(matcher(text) for text in texts(issue))
        return lambda issue: any(texts(issue)) and not any(matcher(text) for text in texts(issue))

    # --- history --------------------------------------------------------------------------------

    def _history_field(self, ref: FieldRef, op: str) -> FieldDef:
        """The field of a WAS/CHANGED clause; only status has history in the sandbox."""
        definition = resolve_field(ref, self.ctx.custom_fields)
        if not definition.history:
            raise JqlError(f"The operator '{op}' is not supported by the '{ref.name}' field.")
        if definition.canonical != "status":
            raise JqlError(
                f"The sandbox records no history for the '{ref.name}' field, so '{op}' cannot be evaluated."
            )
        return definition

    def _history(self, node: History, negate: bool) -> IssuePredicate:
        """`status WAS [NOT] [IN] ... [BEFORE|AFTER|ON|DURING ...]` over the issue's status history."""
        ref = node.field
        definition = self._history_field(ref, node.op)
        op = _NEGATED[node.op] if negate else node.op
        items = self._items(ref, node.op, node.operand)
        names, _include_empty = self._names(definition, ref, items)  # status is never empty
        windows = [self._window(ref, predicate, node.op) for predicate in node.predicates]

        def was(issue: Issue) -> bool:
            """Some period in one of the statuses overlaps every predicate's window."""
            return any(
                status.lower() in names and all(window(start, end) for window in windows)
                for status, start, end in status_periods(issue)
            )

        if op in ("was", "was in"):
            return was
        return lambda issue: not was(issue)

    def _window(self, ref: FieldRef, predicate: Predicate, op: str) -> PeriodTest:
        """A test on a period [start, end) (end None = still current) for one time predicate."""
        kind = predicate.kind
        if kind in ("by", "from", "to"):
            if kind == "by":
                raise JqlError("The sandbox records no authors of changes, so 'BY' cannot be evaluated.")
            raise JqlError(f"The predicate '{kind}' is not supported by the '{op}' operator.")
        if kind == "during":
            if not isinstance(predicate.operand, ValueList) or len(predicate.operand.items) != 2:
                raise JqlError("The predicate 'during' requires two dates: DURING (start, end).")
            low = self._instant(ref, predicate.operand.items[0])
            high = self._instant(ref, predicate.operand.items[1])
            return lambda start, end: start <= high and (end is None or end > low)
        if isinstance(predicate.operand, ValueList):
            raise JqlError(f"The predicate '{kind}' requires a single date.")
        moment = self._instant(ref, predicate.operand)
        if kind == "before":
            return lambda start, end: start < moment
        if kind == "after":
            return lambda start, end: end is None or end > moment
        day_start, day_end = day_bounds(moment, self.tz)
        return lambda start, end: start <= day_end and (end is None or end > day_start)

    def _changed(self, node: Changed) -> IssuePredicate:
        """`status CHANGED [FROM a] [TO b] [BEFORE|AFTER|ON|DURING ...]` over recorded transitions."""
        ref = node.field
        definition = self._history_field(ref, "changed")
        tests: list[TransitionTest] = []
        for predicate in node.predicates:
            if predicate.kind in ("from", "to"):
                names, _ = self._names(definition, ref, self._items(ref, "=", predicate.operand))
                tests.append(_from_test(names) if predicate.kind == "from" else _to_test(names))
            else:
                tests.append(_time_test(self._window(ref, predicate, "changed")))

        def changed(issue: Issue) -> bool:
            """Some recorded transition (not the creation) satisfies every predicate."""
            return any(
                change.from_status is not None
                and all(test(change.from_status, change.to_status, as_utc(change.at)) for test in tests)
                for change in issue.history
            )

        return changed

    # --- ORDER BY -------------------------------------------------------------------------------

    def sort_spec(self, keys: Iterable[SortKey]) -> list[SortSpec]:
        """Key functions for ORDER BY; empty values come back as None (sorted as the largest)."""
        specs: list[SortSpec] = []
        for sort_key in keys:
            definition = resolve_field(sort_key.field, self.ctx.custom_fields)
            if not definition.sortable:
                raise JqlError(f"Not able to sort using field '{sort_key.field.name}'.")
            descending = (
                definition.descending_by_default if sort_key.ascending is None else not sort_key.ascending
            )
            specs.append((self._sort_value(definition), descending))
        return specs

    def _sort_value(self, definition: FieldDef) -> Callable[[Issue], Any]:
        """How one field orders issues."""
        kind = definition.kind
        attr = definition.attr
        if kind is Kind.KEY:
            return lambda issue: key_parts(issue.key)
        if kind is Kind.ISSUE_REF:
            getter = attrgetter(attr)
            return lambda issue: key_parts(value) if (value := getter(issue)) else None
        if kind is Kind.PRIORITY:
            return lambda issue: _PRIORITY_RANK.get(issue.priority.lower(), 0) if issue.priority else None
        if kind is Kind.STATUS_CATEGORY:
            return lambda issue: _CATEGORY_ORDER.get(issue.status_category, 3)
        if kind is Kind.USER:
            users = self.ctx.users
            user_getter = attrgetter(attr)

            def user_name(issue: Issue) -> str | None:
                """Users sort by display name, as Jira shows them."""
                account = user_getter(issue)
                if not account:
                    return None
                user = users.get(account)
                return (user.display_name if user else account).lower()

            return user_name
        if kind is Kind.MULTI:
            list_getter = attrgetter(attr)
            return lambda issue: (
                tuple(sorted(v.lower() for v in values)) if (values := list_getter(issue)) else None
            )
        if kind is Kind.DATETIME:
            moment_getter = attrgetter(attr)
            return lambda issue: as_utc(value) if (value := moment_getter(issue)) is not None else None
        if kind is Kind.DATE:
            return attrgetter(attr)
        if kind is Kind.NUMBER:
            return _custom_getter(attr)
        return _lowered(attr)  # project, names, summary


# --- closure builders ---------------------------------------------------------------------------


def _all(parts: list[IssuePredicate]) -> IssuePredicate:
    """Conjunction, unrolled for the common small cases (it runs once per issue)."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        return lambda issue: first(issue) and second(issue)
    if len(parts) == 3:
        a, b, c = parts
        return lambda issue: a(issue) and b(issue) and c(issue)
    frozen = tuple(parts)
    return lambda issue: all(part(issue) for part in frozen)


def _any(parts: list[IssuePredicate]) -> IssuePredicate:
    """Disjunction, unrolled for the common small cases."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        return lambda issue: first(issue) or second(issue)
    frozen = tuple(parts)
    return lambda issue: any(part(issue) for part in frozen)


def _single(
    getter: Callable[[Issue], Any], targets: frozenset[Any], include_empty: bool, positive: bool
) -> IssuePredicate:
    """Equality / IN on a single-valued field; `getter` returns None when the field is empty.
    The negative form never matches an empty field (Jira's `!=` rule)."""
    if not positive:
        return lambda issue: (value := getter(issue)) is not None and value not in targets
    if include_empty:
        return lambda issue: (value := getter(issue)) is None or value in targets
    return lambda issue: getter(issue) in targets


def _multi(
    getter: Callable[[Issue], list[str]], targets: frozenset[str], include_empty: bool, positive: bool
) -> IssuePredicate:
    """Equality / IN on a multi-valued field (names compared case-insensitively): `=` contains,
    `!=` has values and none of them is a target."""
    if not positive:
        return lambda issue: bool(values := getter(issue)) and targets.isdisjoint(map(str.lower, values))
    if include_empty:
        return lambda issue: not (values := getter(issue)) or not targets.isdisjoint(map(str.lower, values))
    return lambda issue: bool(values := getter(issue)) and not targets.isdisjoint(map(str.lower, values))


def _emptiness(definition: FieldDef, empty: bool) -> IssuePredicate:
    """IS EMPTY (`empty`) / IS NOT EMPTY for any field kind."""
    kind = definition.kind
    getter: Callable[[Issue], Any]
    if kind is Kind.NUMBER:
        getter = _custom_getter(definition.attr)
    elif kind is Kind.TEXT:
        texts = _text_getter(definition.attr)
        getter = lambda issue: True if any(texts(issue)) else None  # noqa: E731 - tiny adapter
    else:
        raw = attrgetter(definition.attr)
        getter = lambda issue: None if (value := raw(issue)) in ("", [], None) else value  # noqa: E731
    if empty:
        return lambda issue: getter(issue) is None
    return lambda issue: getter(issue) is not None


def _lowered(attr: str) -> Callable[[Issue], str | None]:
    """Read a string attribute lower-cased; blank counts as empty."""
    getter = attrgetter(attr)
    return lambda issue: value.lower() if (value := getter(issue)) else None


def _upper(attr: str) -> Callable[[Issue], str | None]:
    """Read an issue-key attribute upper-cased; blank counts as empty."""
    getter = attrgetter(attr)
    return lambda issue: value.upper() if (value := getter(issue)) else None


def _nonblank(attr: str) -> Callable[[Issue], str | None]:
    """Read an attribute as is; blank counts as empty."""
    getter = attrgetter(attr)
    return lambda issue: getter(issue) or None


def _custom_getter(field_id: str) -> Callable[[Issue], float | None]:
    """A numeric custom field's value (None when unset)."""
    return lambda issue: issue.custom.get(field_id)


def _text_getter(attr: str) -> Callable[[Issue], tuple[str, ...]]:
    """The texts a text field searches: `text` means summary and description."""
    if attr == "text":
        return lambda issue: (issue.summary, issue.description)
    getter = attrgetter(attr)
    return lambda issue: (getter(issue) or "",)


def _minute(moment: datetime) -> datetime:
    """An instant truncated to the minute, the resolution of JQL date literals."""
    return moment.replace(second=0, microsecond=0)


def _minute_getter(attr: str) -> Callable[[Issue], datetime | None]:
    """Read a timestamp attribute, aware and truncated to the minute."""
    getter = attrgetter(attr)

    def read(issue: Issue) -> datetime | None:
        """The minute of the issue's timestamp, or None when unset."""
        value = getter(issue)
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.replace(second=0, microsecond=0)

    return read


def _from_test(names: frozenset[str]) -> TransitionTest:
    """CHANGED FROM one of `names`."""
    return lambda old, new, at: old is not None and old.lower() in names


def _to_test(names: frozenset[str]) -> TransitionTest:
    """CHANGED TO one of `names`."""
    return lambda old, new, at: new.lower() in names


def _time_test(window: PeriodTest) -> TransitionTest:
    """CHANGED BEFORE/AFTER/ON/DURING: the transition instant lies in the window."""
    return lambda old, new, at: window(at, at)


def status_periods(issue: Issue) -> list[tuple[str, datetime, datetime | None]]:
    """The issue's status timeline as (status, from, until) periods; `until` None = current.

    Built from `issue.history` (sorted by time), starting at `created` in the first change's
    `from_status`; a change with no `from_status` is the creation itself. If the recorded history
    does not end in the current status, the current status is trusted and appended.
    """
    changes = sorted(issue.history, key=lambda change: as_utc(change.at))
    created = as_utc(issue.created)
    periods: list[tuple[str, datetime, datetime | None]] = []
    status: str | None = changes[0].from_status if changes else issue.status
    start = created
    for change in changes:
        at = as_utc(change.at)
        if status is not None:
            periods.append((status, start, at))
        status, start = change.to_status, at
    if status is not None:
        periods.append((status, start, None))
    if status is None or status.lower() != issue.status.lower():
        periods.append((issue.status, start, None))
    return periods


__all__ = ["ALL_FUNCTIONS", "Compiled", "Compiler", "SortSpec", "key_parts", "status_periods"]
