"""The parsed form of a JQL query: small immutable nodes, independent of lark.

The parser turns lark's tree into these so that the evaluator never walks a lark tree, and so that a
parsed query can be cached and shared between threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal as TypingLiteral

ComparisonOp = TypingLiteral["=", "!=", ">", ">=", "<", "<=", "~", "!~", "in", "not in", "is", "is not"]
HistoryOp = TypingLiteral["was", "was in", "was not", "was not in"]
PredicateKind = TypingLiteral["before", "after", "on", "during", "by", "from", "to"]


@dataclass(frozen=True)
class FieldRef:
    """A field as written: `name` keeps the user's spelling (Jira quotes it back in errors)."""

    name: str
    cf_number: int | None = None  # set for `cf[10016]`


@dataclass(frozen=True)
class Literal:
    """A value: an unquoted word or a quoted string, escapes already decoded."""

    text: str
    quoted: bool


@dataclass(frozen=True)
class Empty:
    """The EMPTY / NULL keyword."""


@dataclass(frozen=True)
class FunctionCall:
    """`name(arg, ...)`; arguments are always strings in JQL."""

    name: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class ValueList:
    """`(a, b, fn())` after IN / NOT IN / WAS IN / DURING."""

    items: tuple[Literal | Empty | FunctionCall, ...]


Operand = Literal | Empty | FunctionCall | ValueList


@dataclass(frozen=True)
class Compare:
    """`field <op> operand` for every non-history operator."""

    field: FieldRef
    op: ComparisonOp
    operand: Operand


@dataclass(frozen=True)
class Predicate:
    """A WAS / CHANGED predicate such as `BEFORE "2026-01-01"` or `DURING (a, b)`."""

    kind: PredicateKind
    operand: Operand


@dataclass(frozen=True)
class History:
    """`field WAS [NOT] [IN] operand predicates...`."""

    field: FieldRef
    op: HistoryOp
    operand: Operand
    predicates: tuple[Predicate, ...]


@dataclass(frozen=True)
class Changed:
    """`field CHANGED predicates...`."""

    field: FieldRef
    predicates: tuple[Predicate, ...]


@dataclass(frozen=True)
class And:
    """Every child matches."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """At least one child matches."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """The child, negated the way Jira negates (see evaluate.py)."""

    child: Node


Node = Compare | History | Changed | And | Or | Not


@dataclass(frozen=True)
class SortKey:
    """One `ORDER BY` item; `ascending` is None when no direction was written."""

    field: FieldRef
    ascending: bool | None
