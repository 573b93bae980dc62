"""The subset of Confluence Query Language (CQL) the sandbox answers.

Fields: `type`, `space` (`space.key`), `title`, `label`, `ancestor`, `parent`, `id` (`content`).
Operators: `=`, `!=`, `IN (...)`, `NOT IN (...)`, and `~` / `!~` (contains) on `title`.
Clauses combine with `AND`, `OR`, `NOT` and parentheses; `ORDER BY title|id|created|lastmodified
[ASC|DESC]` sorts. Keywords are case-insensitive; values are bare words or quoted strings.
Anything else is a 400 "Could not parse cql", as Confluence answers a query it cannot read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, NoReturn

from sandbox.confluence_model import BadRequest


@dataclass(frozen=True)
class Facts:
    """What CQL can ask about one page."""

    id: str
    type: str
    space_key: str
    title: str
    labels: frozenset[str]
    ancestor_ids: frozenset[str]
    parent_id: str | None
    created: datetime
    modified: datetime


Predicate = Callable[[Facts], bool]
SortKey = tuple[str, bool]   # (field, descending)

_FIELDS = {"type": "type", "space": "space", "space.key": "space", "title": "title", "label": "label",
           "ancestor": "ancestor", "parent": "parent", "id": "id", "content": "id"}
_SORT_FIELDS = {"title", "id", "created", "lastmodified"}
_TOKEN = re.compile(r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|!~|=|~|\(|\)|,)
                        |(?P<word>[^\s"'=!~(),]+))""", re.VERBOSE)


class CqlError(BadRequest):
    """The query is outside the supported CQL or not CQL at all."""


@dataclass(frozen=True)
class Query:
    """A compiled query: which pages match, and how to order them."""

    matches: Predicate
    order: tuple[SortKey, ...]

    def sort(self, facts: list[Facts]) -> list[Facts]:
        """Order matching pages by the ORDER BY keys (creation order when there are none)."""
        ordered = sorted(facts, key=lambda f: int(f.id))
        for name, descending in reversed(self.order):
            ordered.sort(key=partial(_sort_value, name=name), reverse=descending)
        return ordered


def _sort_value(facts: Facts, name: str) -> Any:
    """The value ORDER BY compares for one field."""
    if name == "title":
        return facts.title.lower()
    if name == "id":
        return int(facts.id)
    return facts.created if name == "created" else facts.modified


def parse(cql: str) -> Query:
    """Compile a CQL string, or raise `CqlError`."""
    if not cql.strip():
        raise CqlError("The CQL query parameter is required")
    return _Parser(cql).query()


class _Parser:
    """Recursive descent over the tokens of one query."""

    def __init__(self, cql: str) -> None:
        """Split the query into (kind, text) tokens."""
        self.cql = cql
        self.tokens: list[tuple[str, str]] = []
        position = 0
        text = cql.rstrip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                self._fail(f"unexpected character at {position}")
            kind = match.lastgroup or "word"
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
        self.at = 0

    def _fail(self, detail: str) -> NoReturn:
        """Give up on this query with Confluence's wording plus what went wrong."""
        raise CqlError(f"Could not parse cql : {self.cql} ({detail})")

    def _peek(self) -> tuple[str, str] | None:
        """The next token, if any."""
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _keyword(self, *words: str) -> bool:
        """Consume the next token when it is one of these keywords (any case)."""
        token = self._peek()
        if token and token[0] == "word" and token[1].upper() in words:
            self.at += 1
            return True
        return False

    def _expect(self, kind: str, text: str | None = None) -> str:
        """Consume a token of this kind (and text), or fail."""
        token = self._peek()
        if token is None or token[0] != kind or (text is not None and token[1] != text):
            self._fail(f"expected {text or kind}")
        self.at += 1
        return token[1]

    def query(self) -> Query:
        """query := [expr] [ORDER BY key {, key}]"""
        token = self._peek()
        starts_with_order = token is not None and token[0] == "word" and token[1].upper() == "ORDER"
        matches: Predicate = (lambda _: True) if starts_with_order else self._or()
        order: list[SortKey] = []
        if self._keyword("ORDER"):
            if not self._keyword("BY"):
                self._fail("expected BY after ORDER")
            order.append(self._sort_key())
            while self._peek() == ("op", ","):
                self.at += 1
                order.append(self._sort_key())
        leftover = self._peek()
        if leftover is not None:
            self._fail(f"unexpected {leftover[1]!r}")
        return Query(matches, tuple(order))

    def _sort_key(self) -> SortKey:
        """key := field [ASC|DESC]"""
        name = self._expect("word").lower()
        if name not in _SORT_FIELDS:
            self._fail(f"cannot order by {name}")
        descending = self._keyword("DESC")
        if not descending:
            self._keyword("ASC")
        return name, descending

    def _or(self) -> Predicate:
        """expr := term {OR term}"""
        parts = [self._and()]
        while self._keyword("OR"):
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda f: any(p(f) for p in parts))

    def _and(self) -> Predicate:
        """term := factor {AND factor}"""
        parts = [self._not()]
        while self._keyword("AND"):
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else (lambda f: all(p(f) for p in parts))

    def _not(self) -> Predicate:
        """factor := NOT factor | ( expr ) | clause"""
        if self._keyword("NOT"):
            inner = self._not()
            return lambda f: not inner(f)
        if self._peek() == ("op", "("):
            self.at += 1
            inner = self._or()
            self._expect("op", ")")
            return inner
        return self._clause()

    def _clause(self) -> Predicate:
        """clause := field op value | field [NOT] IN ( value {, value} )"""
        raw = self._expect("word")
        field = _FIELDS.get(raw.lower())
        if field is None:
            self._fail(f"unsupported field {raw}")
        negate = self._keyword("NOT")
        if self._keyword("IN"):
            self._expect("op", "(")
            values = [self._value()]
            while self._peek() == ("op", ","):
                self.at += 1
                values.append(self._value())
            self._expect("op", ")")
            test = _equals(field, values)
            return (lambda f: not test(f)) if negate else test
        if negate:
            self._fail("expected IN after NOT")
        op = self._expect("op")
        value = self._value()
        if op in ("=", "!="):
            test = _equals(field, [value])
        elif op in ("~", "!~") and field == "title":
            test = _contains(value)
        else:
            self._fail(f"operator {op} is not supported for {raw}")
        return (lambda f: not test(f)) if op.startswith("!") else test

    def _value(self) -> str:
        """A bare word or a quoted string with backslash escapes removed."""
        token = self._peek()
        if token is None or token[0] not in ("word", "str"):
            self._fail("expected a value")
        self.at += 1
        if token[0] == "word":
            return token[1]
        return re.sub(r"\\(.)", r"\1", token[1][1:-1])


def _equals(field: str, values: list[str]) -> Predicate:
    """A test for `field = value` (any of several values for IN)."""
    wanted = {value.lower() for value in values}
    if field == "label":
        return lambda f: bool(f.labels & wanted)
    if field == "ancestor":
        return lambda f: bool(f.ancestor_ids & set(values))
    if field == "parent":
        return lambda f: f.parent_id in values
    if field == "id":
        return lambda f: f.id in values
    if field == "space":
        return lambda f: f.space_key in values
    if field == "type":
        return lambda f: f.type in wanted
    return lambda f: f.title.lower() in wanted


def _contains(text: str) -> Predicate:
    """`title ~ "words"`: every word occurs in the title (case-insensitive; a trailing * is a wildcard)."""
    words = [word.rstrip("*").lower() for word in text.split() if word.rstrip("*")]
    return lambda f: all(word in f.title.lower() for word in words)
