"""What a JQL query's answer can depend on: the projects it is bounded by, and whether time or
anything other than the issues themselves can change it. Pure, no IO.

The steady-state sync (okrbridge.change_probe) re-asks a count only when something it could count
may have changed. That is sound only if the analysis errs one way: a query is called *bounded by
projects P* only when no issue outside P can ever match it, and *stable* only when its answer can
change solely through an issue being created, updated, deleted or moved. Anything this module does
not recognise — a function call, a relative date, a field Jira changes without touching `updated`,
text it cannot tokenise — makes the query unbounded or volatile, which only costs a re-ask.

The boolean structure (AND, OR, NOT, parentheses) is parsed; clauses are read only far enough to
recognise `project = X`, `project IN (X, Y)`, `key = K` and `key IN (K, ...)`. No JQL parser exists
as a library for Python, and this needs a small part of the language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>!=|!~|>=|<=|=|~|>|<)
    | (?P<punct>[(),])
    | (?P<word>[^\s"'(),=!~<>]+)
    )""", re.VERBOSE)

_RELATIVE_DATE = re.compile(r"^[-+]?\d+[wdhm](\s*[-+]?\d+[wdhm])*$", re.IGNORECASE)
_ISSUE_KEY = re.compile(r"^([A-Z][A-Z0-9_]*)-\d+$", re.IGNORECASE)
_CALENDAR_FUNCTIONS = frozenset(f"{edge}of{unit}" for edge in ("start", "end")
                                for unit in ("day", "week", "month", "year"))
# Whole days, weeks, months (M) or years: "m" is minutes, which would move the boundary off midnight.
_WHOLE_OFFSET = re.compile(r"^[-+]?\d+[dwMy]?$")
_PROJECT_FIELDS = {"project"}
_KEY_FIELDS = {"key", "issue", "issuekey"}

VOLATILE_FIELDS = frozenset({"watcher", "watchers", "voter", "votes", "lastviewed", "sprint",
                             "level", "attachments"})
"""Fields whose matches Jira can change without bumping an issue's `updated`: watching and voting,
the viewer's own last view, a sprint starting or closing, security levels and attachments."""


class JqlScanError(ValueError):
    """The text could not be read as JQL (the query is then treated as volatile and unbounded)."""


@dataclass(frozen=True)
class JqlScope:
    """What a query's answer can depend on.

    `projects`: the project keys, names or ids (as written, case-folded) outside which no issue can
    match; None when the query is bounded by no project. `volatile`: why the answer can change with
    no issue changing (a function, a relative date, a volatile field), or None when it cannot.
    """

    projects: frozenset[str] | None
    volatile: str | None = None
    changes_at_midnight: bool = False
    """True when the only thing besides issues that moves the answer is a calendar function
    (`startOfYear()`, `endOfMonth(-1)`, …), whose value changes only at a midnight in the searching
    account's time zone: the answer then stands between two midnights."""


def _tokens(jql: str) -> list[tuple[str, str]]:
    """(kind, text) pairs: string, op, punct, word; ORDER BY and what follows is dropped."""
    tokens: list[tuple[str, str]] = []
    position = 0
    text = jql.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise JqlScanError(f"cannot read JQL near {text[position:position + 20]!r}")
        position = match.end()
        kind = match.lastgroup or "word"
        tokens.append((kind, match.group(kind)))
    for index, (kind, word) in enumerate(tokens):
        nxt = tokens[index + 1] if index + 1 < len(tokens) else None
        if kind == "word" and word.lower() == "order" and nxt and nxt[1].lower() == "by":
            return tokens[:index]
    return tokens


def _unquote(kind: str, text: str) -> str:
    """A value's text without its quotes, case-folded."""
    if kind == "string":
        text = re.sub(r"\\(.)", r"\1", text[1:-1])
    return text.casefold()


class _Reader:
    """A recursive-descent reader of JQL's boolean structure over the tokens."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        """Start before the first token."""
        self.tokens = tokens
        self.at = 0
        self.volatile: str | None = None
        self.calendar = False

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        """The token `offset` ahead, or None at the end."""
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def is_word(self, word: str, offset: int = 0) -> bool:
        """Whether the token `offset` ahead is the (unquoted) keyword `word`."""
        token = self.peek(offset)
        return token is not None and token[0] == "word" and token[1].lower() == word

    def take(self) -> tuple[str, str]:
        """The next token, consumed."""
        token = self.peek()
        if token is None:
            raise JqlScanError("the query ends too early")
        self.at += 1
        return token

    def mark_volatile(self, reason: str) -> None:
        """Remember the first reason the answer can change with no issue changing."""
        self.volatile = self.volatile or reason

    def expression(self) -> frozenset[str] | None:
        """`or_term (OR or_term)*`: bounded only when every alternative is (the union)."""
        scopes = [self.conjunction()]
        while self.is_word("or"):
            self.take()
            scopes.append(self.conjunction())
        if len(scopes) == 1:
            return scopes[0]
        if any(s is None for s in scopes):
            return None
        return frozenset().union(*(s for s in scopes if s is not None))

    def conjunction(self) -> frozenset[str] | None:
        """`unary (AND unary)*`: bounded by the intersection of its bounded conjuncts."""
        scopes = [self.unary()]
        while self.is_word("and"):
            self.take()
            scopes.append(self.unary())
        bounded = [s for s in scopes if s is not None]
        if not bounded:
            return None
        result = bounded[0]
        for scope in bounded[1:]:
            result &= scope
        return result

    def unary(self) -> frozenset[str] | None:
        """`NOT unary`, `( expression )` or a clause. A negation bounds nothing."""
        if self.is_word("not"):
            self.take()
            self.unary()
            return None
        token = self.peek()
        if token == ("punct", "("):
            self.take()
            scope = self.expression()
            if self.take() != ("punct", ")"):
                raise JqlScanError("unbalanced parentheses")
            return scope
        return self.clause()

    def value_list(self) -> list[str]:
        """`( v, v, ... )` after IN, or a function returning a list (`IN membersOf("x")`).

        A function's value is "", which bounds nothing."""
        values: list[str] = []
        if self.peek() != ("punct", "("):
            return [self.operand()]
        self.take()
        while True:
            values.append(self.operand())
            token = self.take()
            if token == ("punct", ")"):
                return values
            if token != ("punct", ","):
                raise JqlScanError("a list's values are separated by commas")

    def operand(self) -> str:
        """One value: a word, a string, or a function call (which makes the query volatile)."""
        kind, text = self.take()
        if kind not in ("word", "string"):
            raise JqlScanError(f"a value was expected, not {text!r}")
        if kind == "word" and self.peek() == ("punct", "("):
            arguments = self.skip_arguments()
            if text.casefold() in _CALENDAR_FUNCTIONS and all(_WHOLE_OFFSET.match(a) for a in arguments):
                self.calendar = True
            else:
                self.mark_volatile(f"it calls {text}()")
            return ""
        value = _unquote(kind, text)
        if _RELATIVE_DATE.match(value):
            self.mark_volatile(f"it compares with the relative date {text}")
        return value

    def skip_arguments(self) -> list[str]:
        """Consume a function's parenthesised arguments; their texts (unquoted, case kept)."""
        depth = 0
        arguments: list[str] = []
        while True:
            kind, text = self.take()
            if (kind, text) == ("punct", "("):
                depth += 1
            elif (kind, text) == ("punct", ")"):
                depth -= 1
                if depth == 0:
                    return arguments
            elif kind == "word":
                arguments.append(text)
            elif kind == "string":
                arguments.append(text[1:-1])

    def operator(self) -> str:
        """=, !=, IN, NOT IN, IS, IS NOT, WAS (NOT) (IN), CHANGED, and the comparisons."""
        kind, text = self.take()
        if kind == "op":
            return text
        words = [text.lower()]
        while words[-1] in ("not", "is", "was") and self._next_word() in ("not", "in"):
            words.append(self.take()[1].lower())
        return " ".join(words)

    def _next_word(self) -> str | None:
        """The next token's text in lower case when it is a word, else None."""
        token = self.peek()
        return token[1].lower() if token is not None and token[0] == "word" else None

    def clause(self) -> frozenset[str] | None:
        """`field operator value(s) [predicates]`; bounded when it names projects or keys."""
        kind, field = self.take()
        name = _unquote(kind, field)
        if name in VOLATILE_FIELDS:
            self.mark_volatile(f"Jira changes {field} without updating the issue")
        operator = self.operator()
        if operator == "changed":
            self.mark_volatile("it asks about change history")
            self.predicates()
            return None
        values = self.value_list() if operator in ("in", "not in", "was in", "was not in") \
            else [self.operand()]
        if operator.startswith("was"):
            self.mark_volatile("it asks about change history")
        self.predicates()
        if operator not in ("=", "in") or any(not v for v in values):
            return None
        if name in _PROJECT_FIELDS:
            return frozenset(values)
        if name in _KEY_FIELDS:
            prefixes = [_ISSUE_KEY.match(v) for v in values]
            if all(prefixes):
                return frozenset(m.group(1).casefold() for m in prefixes if m)
        return None

    def predicates(self) -> None:
        """WAS/CHANGED predicates (AFTER x, BEFORE x, ON x, DURING (x, y), BY u, FROM a, TO b)."""
        while self._next_word() in ("after", "before", "on", "during", "by", "from", "to"):
            word = self.take()[1].lower()
            if word == "during":
                self.value_list()
            else:
                self.operand()


@lru_cache(maxsize=65_536)
def jql_scope(jql: str) -> JqlScope:
    """What the answer to `jql` can depend on; see the module docstring. Never raises.

    Cached: a daemon asks about the same few thousand JQLs every sync."""
    try:
        tokens = _tokens(jql)
        if not tokens:
            return JqlScope(None)
        reader = _Reader(tokens)
        projects = reader.expression()
        left = reader.peek()
        if left is not None:
            raise JqlScanError(f"unexpected {left[1]!r}")
    except JqlScanError as exc:
        return JqlScope(None, f"okrbridge could not analyse it ({exc})")
    return JqlScope(projects, reader.volatile,
                    changes_at_midnight=reader.calendar and reader.volatile is None)
