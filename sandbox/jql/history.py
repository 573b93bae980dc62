"""WAS and CHANGED: clauses about an issue's past, evaluated over its recorded status history.

The sandbox records status transitions only (no authors, no other fields), so those are the
clauses it can answer; anything else is refused with an error naming what is missing rather than
silently matching nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sandbox.jql.errors import JqlError
from sandbox.jql.fields import FieldDef, resolve_field
from sandbox.jql.functions import as_utc, day_bounds
from sandbox.jql.nodes import Changed, FieldRef, History, Predicate, ValueList
from sandbox.jql.predicates import IssuePredicate, negated
from sandbox.jql.values import Operands
from sandbox.model import Issue

PeriodTest = Callable[[datetime, datetime | None], bool]  # (period start, end or None) -> bool
TransitionTest = Callable[[str | None, str, datetime], bool]  # (from, to, at) -> bool


def _history_field(operands: Operands, ref: FieldRef, op: str) -> FieldDef:
    """The field of a WAS/CHANGED clause; only status has history in the sandbox."""
    definition = resolve_field(ref, operands.ctx.custom_fields)
    if not definition.history:
        raise JqlError(f"The operator '{op}' is not supported by the '{ref.name}' field.")
    if definition.canonical != "status":
        raise JqlError(
            f"The sandbox records no history for the '{ref.name}' field, so '{op}' cannot be evaluated."
        )
    return definition


def compile_was(operands: Operands, node: History, negate: bool) -> IssuePredicate:
    """`status WAS [NOT] [IN] ... [BEFORE|AFTER|ON|DURING ...]` over the issue's status history;
    `negate` (a pending NOT) turns WAS into WAS NOT and back, errors still quoting the written op."""
    ref = node.field
    definition = _history_field(operands, ref, node.op)
    items = operands.items(ref, node.op, node.operand)
    names, _include_empty = operands.names(definition, ref, items)  # status is never empty
    windows = [_window(operands, ref, predicate, node.op) for predicate in node.predicates]

    def was(issue: Issue) -> bool:
        """Some period in one of the statuses overlaps every predicate's window."""
        return any(
            status.lower() in names and all(window(start, end) for window in windows)
            for status, start, end in status_periods(issue)
        )

    if (node.op in ("was", "was in")) != negate:
        return was
    return negated(was)


def _window(operands: Operands, ref: FieldRef, predicate: Predicate, op: str) -> PeriodTest:
    """A test on a period [start, end) (end None = still current) for one time predicate."""
    kind = predicate.kind
    if kind in ("by", "from", "to"):
        if kind == "by":
            raise JqlError("The sandbox records no authors of changes, so 'BY' cannot be evaluated.")
        raise JqlError(f"The predicate '{kind}' is not supported by the '{op}' operator.")
    if kind == "during":
        if not isinstance(predicate.operand, ValueList) or len(predicate.operand.items) != 2:
            raise JqlError("The predicate 'during' requires two dates: DURING (start, end).")
        low = operands.instant(ref, predicate.operand.items[0])
        high = operands.instant(ref, predicate.operand.items[1])
        return lambda start, end: start <= high and (end is None or end > low)
    if isinstance(predicate.operand, ValueList):
        raise JqlError(f"The predicate '{kind}' requires a single date.")
    moment = operands.instant(ref, predicate.operand)
    if kind == "before":
        return lambda start, end: start < moment
    if kind == "after":
        return lambda start, end: end is None or end > moment
    day_start, day_end = day_bounds(moment, operands.tz)
    return lambda start, end: start <= day_end and (end is None or end > day_start)


def compile_changed(operands: Operands, node: Changed) -> IssuePredicate:
    """`status CHANGED [FROM a] [TO b] [BEFORE|AFTER|ON|DURING ...]` over recorded transitions."""
    ref = node.field
    definition = _history_field(operands, ref, "changed")
    tests: list[TransitionTest] = []
    for predicate in node.predicates:
        if predicate.kind in ("from", "to"):
            names, _ = operands.names(definition, ref, operands.items(ref, "=", predicate.operand))
            tests.append(_from_test(names) if predicate.kind == "from" else _to_test(names))
        else:
            tests.append(_time_test(_window(operands, ref, predicate, "changed")))

    def changed(issue: Issue) -> bool:
        """Some recorded transition (not the creation) satisfies every predicate."""
        return any(
            change.from_status is not None
            and all(test(change.from_status, change.to_status, as_utc(change.at)) for test in tests)
            for change in issue.history
        )

    return changed


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
