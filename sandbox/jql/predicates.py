"""The closures that run once per issue: attribute readers and the predicates built on them.

Everything here is deliberately small and flat — no lookups, no conversions of the query's side —
because a search calls these tens of thousands of times. The common shapes (one or two children,
a getter returning None for empty) are unrolled or special-cased for that reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from sandbox.jql.fields import FieldDef, Kind
from sandbox.model import Issue

IssuePredicate = Callable[[Issue], bool]


def all_of(parts: list[IssuePredicate]) -> IssuePredicate:
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


def any_of(parts: list[IssuePredicate]) -> IssuePredicate:
    """Disjunction, unrolled for the common small cases."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        return lambda issue: first(issue) or second(issue)
    frozen = tuple(parts)
    return lambda issue: any(part(issue) for part in frozen)


def negated(predicate: IssuePredicate) -> IssuePredicate:
    """The boolean complement (only for clauses whose Jira negation really is the complement)."""
    return lambda issue: not predicate(issue)


def single(
    getter: Callable[[Issue], Any], targets: frozenset[Any], include_empty: bool, positive: bool
) -> IssuePredicate:
    """Equality / IN on a single-valued field; `getter` returns None when the field is empty.
    The negative form never matches an empty field (Jira's `!=` rule)."""
    if not positive:
        return lambda issue: (value := getter(issue)) is not None and value not in targets
    if include_empty:
        return lambda issue: (value := getter(issue)) is None or value in targets
    return lambda issue: getter(issue) in targets


def multi(
    getter: Callable[[Issue], list[str]], targets: frozenset[str], include_empty: bool, positive: bool
) -> IssuePredicate:
    """Equality / IN on a multi-valued field (names compared case-insensitively): `=` contains,
    `!=` has values and none of them is a target."""
    if not positive:
        return lambda issue: bool(values := getter(issue)) and targets.isdisjoint(map(str.lower, values))
    if include_empty:
        return lambda issue: not (values := getter(issue)) or not targets.isdisjoint(map(str.lower, values))
    return lambda issue: bool(values := getter(issue)) and not targets.isdisjoint(map(str.lower, values))


def bounded(
    getter: Callable[[Issue], Any], compare: Callable[[Any, Any], bool], bound: Any
) -> IssuePredicate:
    """`>`, `>=`, `<`, `<=` against `bound`; `getter` returns None where the clause cannot match
    (an empty field, an unknown priority, another project's key), and None never matches."""
    return lambda issue: (value := getter(issue)) is not None and compare(value, bound)


def emptiness(definition: FieldDef, empty: bool) -> IssuePredicate:
    """IS EMPTY (`empty`) / IS NOT EMPTY for any field kind."""
    kind = definition.kind
    getter: Callable[[Issue], Any]
    if kind is Kind.NUMBER:
        getter = custom_getter(definition.attr)
    elif kind is Kind.TEXT:
        texts = text_getter(definition.attr)
        getter = lambda issue: True if any(texts(issue)) else None  # noqa: E731 - tiny adapter
    else:
        raw = attrgetter(definition.attr)
        getter = lambda issue: None if (value := raw(issue)) in ("", [], None) else value  # noqa: E731
    if empty:
        return lambda issue: getter(issue) is None
    return lambda issue: getter(issue) is not None


def lowered(attr: str) -> Callable[[Issue], str | None]:
    """Read a string attribute lower-cased; blank counts as empty."""
    getter = attrgetter(attr)
    return lambda issue: value.lower() if (value := getter(issue)) else None


def upper(attr: str) -> Callable[[Issue], str | None]:
    """Read an issue-key attribute upper-cased; blank counts as empty."""
    getter = attrgetter(attr)
    return lambda issue: value.upper() if (value := getter(issue)) else None


def nonblank(attr: str) -> Callable[[Issue], str | None]:
    """Read an attribute as is; blank counts as empty."""
    getter = attrgetter(attr)
    return lambda issue: getter(issue) or None


def custom_getter(field_id: str) -> Callable[[Issue], float | None]:
    """A numeric custom field's value (None when unset)."""
    return lambda issue: issue.custom.get(field_id)


def text_getter(attr: str) -> Callable[[Issue], tuple[str, ...]]:
    """The texts a text field searches: `text` means summary and description."""
    if attr == "text":
        return lambda issue: (issue.summary, issue.description)
    getter = attrgetter(attr)
    return lambda issue: (getter(issue) or "",)


def aware_getter(attr: str) -> Callable[[Issue], datetime | None]:
    """Read a timestamp attribute, naive values taken as UTC (the model's convention). The zone of
    an aware value is kept: comparisons do not need UTC, and converting would cost every issue."""
    getter = attrgetter(attr)

    def read(issue: Issue) -> datetime | None:
        """The issue's timestamp, aware, or None when unset."""
        value = getter(issue)
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)

    return read


def minute_getter(attr: str) -> Callable[[Issue], datetime | None]:
    """Read a timestamp attribute, aware and truncated to the minute (as JQL date literals are)."""
    getter = aware_getter(attr)

    def read(issue: Issue) -> datetime | None:
        """The minute of the issue's timestamp, or None when unset."""
        value = getter(issue)
        return None if value is None else value.replace(second=0, microsecond=0)

    return read
