"""`Query`: a parsed JQL query that can be bound to a context, filter issues and sort them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.jql.context import JqlContext
from sandbox.jql.errors import JqlError
from sandbox.jql.evaluate import Compiled, Compiler, SortSpec, key_parts
from sandbox.jql.fields import Kind, system_field
from sandbox.jql.nodes import And, Compare, Literal, Node, SortKey, ValueList
from sandbox.model import Issue


def _match_all(issue: Issue) -> bool:
    """The filter of a query with no where clause."""
    return True


def _nulls_last(value: Any) -> tuple[bool, Any]:
    """Sort key that puts empty values after all others ascending (and first when descending)."""
    return (value is None, value)


def _nulls_last_by(value_of: Callable[[Issue], Any]) -> Callable[[Issue], tuple[bool, Any]]:
    """The sort key for one ORDER BY field."""
    return lambda issue: _nulls_last(value_of(issue))


def fold_project(key: str) -> str:
    """A project key as the compiled `project` clause compares it: `str.lower` on both the issue's
    `project` and the JQL value (so `project = eng` finds ENG). Index issues by this to look up a
    `Query.project_restriction()`; `str.upper` would not be equivalent for every Unicode key."""
    return key.lower()


def _project_values(clause: Compare) -> frozenset[str] | None:
    """The folded keys of a positive `project = K` / `project IN (K, ...)` clause, else None.

    None for every other shape: negative operators, EMPTY (which also matches issues without a
    project), functions, a list after `=` or a single value after IN (both refused when compiled).
    """
    definition = system_field(clause.field)
    if definition is None or definition.kind is not Kind.PROJECT:
        return None
    operand = clause.operand
    if clause.op == "=" and isinstance(operand, Literal):
        return frozenset({fold_project(operand.text)})
    if clause.op == "in" and isinstance(operand, ValueList):
        texts = [item.text for item in operand.items if isinstance(item, Literal)]
        if len(texts) == len(operand.items):
            return frozenset(fold_project(text) for text in texts)
    return None


def _restriction(node: Node) -> frozenset[str] | None:
    """The projects every issue matching `node` must be in, or None when that is not certain.

    A project clause restricts; an AND is restricted by the intersection of its restricted
    conjuncts (the others only narrow further). OR, NOT, history clauses and anything else: None.
    """
    if isinstance(node, Compare):
        return _project_values(node)
    if isinstance(node, And):
        found: frozenset[str] | None = None
        for child in node.children:
            projects = _restriction(child)
            if projects is not None:
                found = projects if found is None else found & projects
        return found
    return None


def _by_key_descending(issues: list[Issue]) -> list[Issue]:
    """Issues newest key first: the order used without ORDER BY and to break ties."""
    return sorted(issues, key=lambda issue: key_parts(issue.key), reverse=True)


class Query:
    """A parsed query. Immutable apart from a one-slot cache of its compiled form, keyed on the
    identity of the `JqlContext` (so pass a fresh context when users, groups or the clock change).

    Without ORDER BY, results come newest key first (`key DESC`). Jira documents no default order
    for the search API; the Server issue navigator's key-descending order is the one mirrored, and
    it is also the final tie-breaker after any ORDER BY so that paging is deterministic.
    Empty values sort after all others ascending and before them descending. Dates sort newest first
    when no direction is given (Jira's default for created/updated/resolved); other fields ascending.
    """

    def __init__(self, text: str, where: Node | None, order_by: tuple[SortKey, ...]) -> None:
        """Hold the parsed parts; `parse()` is the way to make one."""
        self.text = text
        self.where = where
        self.order_by = order_by
        # Cloud refuses queries with no restriction; an ORDER BY alone restricts nothing.
        self.is_bounded: bool = where is not None
        self._projects = None if where is None else _restriction(where)
        self._compiled: tuple[JqlContext, Compiled] | None = None
        self._sorting: tuple[JqlContext, list[SortSpec]] | None = None

    def __repr__(self) -> str:
        """The JQL text, for debugging."""
        return f"Query({self.text!r})"

    def project_restriction(self) -> frozenset[str] | None:
        """The projects (keys folded by `fold_project`) outside which no issue can match, or None.

        A set only when it is certain from the where clause alone: the clause is `project = K` or
        `project IN (K, ...)`, or an AND with such conjuncts (their intersection, possibly empty).
        None for no where clause, OR or NOT at the top, `!=`, NOT IN, EMPTY, functions and the rest.
        Filtering only the issues of these projects matches exactly the issues a full scan would.
        Unknown projects are not checked here: `compile` still refuses them.
        """
        return self._projects

    def compile(self, ctx: JqlContext) -> Compiled:
        """The where clause as a predicate for `ctx` (cached); raises JqlError for anything unknown."""
        cached = self._compiled
        if cached is not None and cached[0] is ctx:
            return cached[1]
        compiler = Compiler(ctx)
        try:
            predicate: Callable[[Issue], bool] = (
                _match_all if self.where is None else compiler.compile(self.where)
            )
        except RecursionError:
            raise JqlError("Error in the JQL Query: The query is nested too deeply.") from None
        compiled = Compiled(predicate, tuple(compiler.referenced_keys))
        self._compiled = (ctx, compiled)
        return compiled

    def sort_specs(self, ctx: JqlContext) -> list[SortSpec]:
        """The ORDER BY key functions for `ctx` (cached); raises JqlError for unsortable fields."""
        cached = self._sorting
        if cached is not None and cached[0] is ctx:
            return cached[1]
        specs = Compiler(ctx).sort_spec(self.order_by)
        self._sorting = (ctx, specs)
        return specs

    def validate(self, ctx: JqlContext) -> None:
        """Raise JqlError for unknown fields, functions, users, groups or values, before any issue
        is evaluated."""
        self.compile(ctx)
        self.sort_specs(ctx)

    def matches(self, issue: Issue, ctx: JqlContext) -> bool:
        """Whether `issue` satisfies the where clause."""
        return self.compile(ctx).predicate(issue)

    def sort(self, issues: list[Issue], ctx: JqlContext) -> list[Issue]:
        """A new list in ORDER BY order (see the class docstring for defaults)."""
        result = _by_key_descending(list(issues))
        # Stable sorts from the last key to the first give a multi-key sort with mixed directions.
        for value_of, descending in reversed(self.sort_specs(ctx)):
            result.sort(key=_nulls_last_by(value_of), reverse=descending)
        return result
