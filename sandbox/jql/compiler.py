"""Compile parsed JQL into plain Python closures, once per query and context.

The boolean structure and the choice of comparison per field kind live here; operand values are
resolved by `values.Operands`, WAS/CHANGED by `history`, the per-issue closures by `predicates` and
ORDER BY by `sorting`. See `evaluate` for the Jira semantics mirrored.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from sandbox.jql.context import JqlContext
from sandbox.jql.errors import JqlError
from sandbox.jql.fields import FieldDef, Kind, check_operator, resolve_field
from sandbox.jql.functions import local_date
from sandbox.jql.history import compile_changed, compile_was
from sandbox.jql.nodes import (
    And,
    Compare,
    Empty,
    FieldRef,
    FunctionCall,
    History,
    Literal,
    Node,
    Not,
    Or,
    SortKey,
)
from sandbox.jql.predicates import (
    IssuePredicate,
    all_of,
    any_of,
    aware_getter,
    bounded,
    custom_getter,
    emptiness,
    lowered,
    minute_getter,
    multi,
    negated,
    nonblank,
    single,
    text_getter,
    upper,
)
from sandbox.jql.sorting import SortSpec, sort_specs
from sandbox.jql.textsearch import compile_text
from sandbox.jql.values import PRIORITY_RANK, Item, Operands, is_issue_id, key_parts
from sandbox.model import Issue

# History operators are not here: `history.compile_was` negates them itself.
_NEGATED = {
    "=": "!=", "!=": "=", "~": "!~", "!~": "~", "in": "not in", "not in": "in", "is": "is not",
    "is not": "is", ">": "<=", "<=": ">", ">=": "<", "<": ">=",
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}


@dataclass(frozen=True)
class Compiled:
    """A query bound to one context: the filter, and the literal issue keys it names (`search`
    checks those exist, as Jira does)."""

    predicate: IssuePredicate
    referenced_keys: tuple[tuple[str, str], ...]


class Compiler:
    """Turns nodes into closures for one `JqlContext`."""

    def __init__(self, ctx: JqlContext) -> None:
        """Bind to `ctx`; resolving the time zone here means a bad one fails even a sort-only use."""
        self.ctx = ctx
        self.operands = Operands(ctx)

    @property
    def referenced_keys(self) -> list[tuple[str, str]]:
        """Issue keys named on `issuekey` so far, as (key as typed, field as typed)."""
        return self.operands.referenced_keys

    # --- structure ------------------------------------------------------------------------------

    def compile(self, node: Node, negate: bool = False) -> IssuePredicate:
        """The predicate for `node`; `negate` carries a pending NOT down to the clauses."""
        if isinstance(node, Not):
            return self.compile(node.child, not negate)
        if isinstance(node, And | Or):
            parts: list[IssuePredicate] = []
            errors: list[JqlError] = []
            for child in node.children:
                try:
                    parts.append(self.compile(child, negate))
                except JqlError as error:  # Jira reports every clause's error, not just the first
                    errors.append(error)
            if errors:
                raise JqlError.of(errors)
            # De Morgan: NOT (a AND b) = NOT a OR NOT b
            conjunction = isinstance(node, And) != negate
            return all_of(parts) if conjunction else any_of(parts)
        if isinstance(node, Compare):
            return self._compare(node, negate)
        if isinstance(node, History):
            return compile_was(self.operands, node, negate)
        predicate = compile_changed(self.operands, node)
        return negated(predicate) if negate else predicate

    # --- comparisons ----------------------------------------------------------------------------

    def _compare(self, node: Compare, negate: bool) -> IssuePredicate:
        """A `field op operand` clause; errors quote the operator as written, not as negated."""
        ref = node.field
        definition = resolve_field(ref, self.ctx.custom_fields)
        op = _NEGATED[node.op] if negate else node.op
        check_operator(definition, ref, node.op)
        items = self.operands.items(ref, node.op, node.operand)
        positive = op in ("=", "in", "is", "~")
        if op in ("is", "is not"):
            return emptiness(definition, positive)
        if op in _COMPARE:
            if isinstance(items[0], Empty):
                raise JqlError(f"The operator '{node.op}' does not support searching for EMPTY values.")
            return self._ordering(definition, ref, op, items[0])
        kind = definition.kind
        attr = definition.attr
        values = self.operands
        if kind is Kind.TEXT:
            return self._contains(definition, ref, items[0], positive)
        if kind in (Kind.KEY, Kind.ISSUE_REF):
            return self._keys(definition, ref, items, positive)
        if kind in (Kind.PROJECT, Kind.NAME, Kind.PRIORITY, Kind.MULTI):
            names, include_empty = values.names(definition, ref, items)
            if kind is Kind.MULTI:
                return multi(attrgetter(attr), names, include_empty, positive)
            return single(lowered(attr), names, include_empty, positive)
        # The remaining kinds are single-valued: a reader for the issue, a converter for the operand.
        getter: Callable[[Issue], Any]
        targets: frozenset[Any]
        if kind is Kind.STATUS_CATEGORY:
            getter, (targets, include_empty) = attrgetter(attr), values.categories(ref, items)
        elif kind is Kind.USER:
            getter, (targets, include_empty) = nonblank(attr), values.users(ref, items)
        elif kind is Kind.DATETIME:
            getter, (targets, include_empty) = minute_getter(attr), values.minutes(ref, items)
        elif kind is Kind.DATE:
            getter, (targets, include_empty) = attrgetter(attr), values.days(ref, items)
        else:
            getter, (targets, include_empty) = custom_getter(attr), values.numbers(ref, items)
        return single(getter, targets, include_empty, positive)

    def _keys(self, definition: FieldDef, ref: FieldRef, items: list[Item], positive: bool) -> IssuePredicate:
        """issuekey / parent / Epic Link equality; keys case-insensitive, numeric ids allowed for key."""
        keys, ids, include_empty = self.operands.keys(definition, ref, items)
        if definition.kind is Kind.ISSUE_REF:
            return single(upper(definition.attr), keys, include_empty, positive)

        def key_matches(issue: Issue) -> bool:
            """The issue's key or id is one of the targets."""
            return issue.key.upper() in keys or issue.id in ids

        return key_matches if positive else negated(key_matches)

    def _ordering(self, definition: FieldDef, ref: FieldRef, op: str, item: Item) -> IssuePredicate:
        """`>`, `>=`, `<`, `<=` on dates, numbers, priorities and keys; an empty field never matches."""
        compare = _COMPARE[op]
        kind = definition.kind
        attr = definition.attr
        values = self.operands
        if kind is Kind.DATETIME:
            return bounded(aware_getter(attr), compare, values.instant(ref, item))
        if kind is Kind.DATE:
            return bounded(attrgetter(attr), compare, local_date(values.instant(ref, item), values.tz))
        if isinstance(item, FunctionCall):
            raise values.not_for_field(item, ref)  # only date fields take functions here
        assert isinstance(item, Literal)
        if kind is Kind.NUMBER:
            return bounded(custom_getter(attr), compare, values.number(ref, item.text))
        if kind is Kind.PRIORITY:
            rank = values.priority_rank(ref, item.text)
            # An unknown or missing priority has no rank, so it never matches.
            return bounded(lambda issue: PRIORITY_RANK.get((issue.priority or "").lower()), compare, rank)
        # issue keys: same project, compared by number (or numeric ids)
        if is_issue_id(item.text):
            return bounded(_numeric_id, compare, int(item.text))
        values.key(ref, item.text, record=True)
        project, number = key_parts(item.text)

        def number_in_project(issue: Issue) -> int | None:
            """The key's number when the issue is in the named project (other projects never match)."""
            issue_project, issue_number = key_parts(issue.key)
            return issue_number if issue_project == project else None

        return bounded(number_in_project, compare, number)

    def _contains(self, definition: FieldDef, ref: FieldRef, item: Item, positive: bool) -> IssuePredicate:
        """`~` / `!~` on summary, description or text (both)."""
        if not isinstance(item, Literal):
            if isinstance(item, FunctionCall):
                raise self.operands.not_for_field(item, ref)
            raise JqlError(
                f"The operator '~' does not support searching for EMPTY values on field '{ref.name}'."
            )
        matcher = compile_text(item.text)
        if matcher is None:
            raise JqlError(f"The field '{ref.name}' does not support searching for an empty string.")
        texts = text_getter(definition.attr)
        if positive:
            return lambda issue: any(matcher(text) for text in texts(issue))
        return lambda issue: any(texts(issue)) and not any(matcher(text) for text in texts(issue))

    # --- ORDER BY -------------------------------------------------------------------------------

    def sort_spec(self, keys: Iterable[SortKey]) -> list[SortSpec]:
        """Key functions for ORDER BY; empty values come back as None (sorted as the largest)."""
        return sort_specs(self.ctx, keys)


def _numeric_id(issue: Issue) -> int | None:
    """The issue's id as a number, for `key > 10001`; a non-numeric id never matches."""
    return int(issue.id) if issue.id.isdigit() else None
