"""Text to `Query`: lark does the lexing and parsing; this module turns lark's tree into `nodes` and
lark's errors into Jira's messages.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer_NonRecursive, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from sandbox.jql.errors import JqlError, parse_error
from sandbox.jql.nodes import (
    And,
    Changed,
    Compare,
    ComparisonOp,
    Empty,
    FieldRef,
    FunctionCall,
    History,
    HistoryOp,
    Literal,
    Node,
    Not,
    Or,
    Predicate,
    SortKey,
    ValueList,
)
from sandbox.jql.query import Query

# Words Jira refuses as unquoted values or field names (JqlStringSupport's reserved list). Grammar
# keywords (and, or, in, empty, ...) are absent: the lexer already turns those into keywords.
RESERVED_WORDS = frozenset(
    """abort access add alias all alter any as audit avg begin between boolean break byte catch cf
    char character check checkpoint collate collation column commit connect continue count create
    current date decimal declare decrement default defaults define delete delimiter difference
    distinct divide do double drop else encoding end equals escape exclusive exec execute exists
    explain false fetch file field first float for function go goto grant greater group having
    identified if immediate increment index initial inner inout input insert int integer intersect
    intersection into isempty isnull join last left less like limit lock long max min minus mode
    modify modulo more multiply next noaudit notin nowait number object of option outer output
    power previous prior privileges public raise raw remainder rename resource return returns right
    row rowid rownum rows select session set share size sqrt start strict string subtract sum synonym
    table then trans transaction trigger true uid union unique update user validate values view when
    whenever where while with""".split()  # noqa: SIM905 - a word list reads better as prose
)

_VALID_OPERATORS = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'."
)


def _load_parser() -> Lark:
    """Build the LALR parser once; the grammar file ships next to this module."""
    grammar = resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="basic", maybe_placeholders=False)


_LARK = _load_parser()


@lru_cache(maxsize=4096)
def parse(jql: str) -> Query:
    """Parse `jql` into a `Query` (cached on the text: the sandbox asks for the same JQL repeatedly).

    Raises `JqlError` with Jira's "Error in the JQL Query: ..." wording on any syntax error.
    """
    try:
        tree = _LARK.parse(jql)
    except UnexpectedInput as exc:
        raise _translate(exc, jql) from None
    except LarkError as exc:  # pragma: no cover - lark's other errors are grammar bugs, not input errors
        raise JqlError(f"Error in the JQL Query: {exc}") from None
    try:
        where, order_by = _ToNodes().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, JqlError):
            raise exc.orig_exc from None
        raise
    return Query(jql, where, tuple(order_by))


# --- lark errors to Jira's messages -------------------------------------------------------------


def _end_position(text: str) -> tuple[int, int]:
    """Line and 1-based character just past the end of `text`."""
    line = text.count("\n") + 1
    return line, len(text) - (text.rfind("\n") + 1) + 1


def _translate(exc: UnexpectedInput, text: str) -> JqlError:
    """Turn a lark error into the message Jira gives for the same mistake."""
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(text, exc.pos_in_stream or 0, exc.line, exc.column)
    if isinstance(exc, UnexpectedToken):
        token: Token = exc.token
        if token.type == "$END":
            line, column = _end_position(text)
            return parse_error(_expectation(exc, None), line, column)
        line, column = token.line or 1, token.column or 1
        word = str(token.value)
        if token.type == "NAME" and word.lower() in RESERVED_WORDS:
            return _reserved_word(word, line, column)
        return parse_error(_expectation(exc, word), line, column)
    line, column = _end_position(text)  # UnexpectedEOF: not raised by LALR, kept for safety
    return parse_error("The JQL query ended unexpectedly.", line, column)


def _bad_character(text: str, pos: int, line: int, column: int) -> JqlError:
    """The lexer stopped: an unterminated quote, a dangling backslash or a reserved character."""
    char = text[pos]
    if char in "\"'":
        return parse_error(f"The quoted string '{text[pos + 1:]}' has not been completed.", line, column)
    if char == "\\":
        return parse_error("The escape sequence '\\' is incomplete.", line, column)
    return parse_error(
        f"The character '{char}' is a reserved JQL character. You must enclose it in a string or use "
        f"the escape '\\u{ord(char):04x}' instead.",
        line,
        column,
    )


def _reserved_word(word: str, line: int, column: int) -> JqlError:
    """Jira's refusal of an unquoted reserved word."""
    return parse_error(
        f"'{word}' is a reserved JQL word. You must surround it in quotation marks to use it in a query.",
        line,
        column,
    )


def _starts_clause(stack: list[object], index: int) -> bool:
    """Whether the stack item at `index` stands where a clause begins: at the start, after
    AND/OR/NOT, or after a grouping parenthesis (one that itself begins a clause)."""
    if index == 0:
        return True
    before = stack[index - 1]
    if isinstance(before, Tree):
        return before.data in ("and_op", "or_op", "not_op")
    return isinstance(before, Token) and before.type == "LPAR" and _starts_clause(stack, index - 1)


def _context(exc: UnexpectedToken) -> tuple[str, bool]:
    """Where the parser stood: "order" (in ORDER BY), "paren" (inside an unclosed parenthesis) or
    "top"; and whether a field name was just read.

    LALR merges look-ahead sets of similar states, so `exc.expected` alone cannot tell a list
    from the top level; the parser's value stack can (closed parentheses are already reduced).
    """
    parser = getattr(exc, "interactive_parser", None)
    stack: list[object] = list(parser.parser_state.value_stack) if parser is not None else []
    after_field = False
    if stack:
        top = stack[-1]
        if isinstance(top, Tree):
            after_field = top.data == "field"
        elif isinstance(top, Token) and top.type in ("NAME", "STRING", "CF_FIELD"):
            after_field = _starts_clause(stack, len(stack) - 1)
    types = {item.type for item in stack if isinstance(item, Token)}
    if "ORDER" in types:
        return "order", after_field
    return ("paren" if "LPAR" in types else "top"), after_field


def _expectation(exc: UnexpectedToken, got: str | None) -> str:
    """Describe what the parser wanted, in Jira's phrasing; `got` is None at the end of the query."""
    expected = set(exc.expected)
    where, after_field = _context(exc)
    but = "before the end of the query" if got is None else f"but got '{got}'"
    if "CF_FIELD" in expected:
        if got is None:
            return f"Expecting a field name {but}."
        return (
            f"Expecting a field name {but}. "
            f"You must surround '{got}' in quotation marks to use it as a field name."
        )
    if where == "order":
        if "BY" in expected:
            return f"Expecting 'BY' {but}."
        if "ASC" in expected:
            return f"Expecting either 'ASC', 'DESC' or ',' {but}."
        return f"Expecting ',' {but}."
    if after_field:
        return f"Expecting operator {but}. {_VALID_OPERATORS}"
    if "STRING" in expected:
        if got is None:
            return f"Expecting either a value, list or function {but}."
        return (
            f"Expecting either a value, list or function {but}. "
            f"You must surround '{got}' in quotation marks to use it as a value."
        )
    if where == "paren":
        return f"Expecting ')' {but}."
    return f"Expecting either 'OR' or 'AND' {but}."


# --- tree to nodes ------------------------------------------------------------------------------


def _where(token: Token) -> tuple[int, int]:
    """A token's line and 1-based character, for error messages."""
    return token.line or 1, token.column or 1


def _decode(raw: str, token: Token) -> str:
    """Resolve JQL escapes (\\" \\' \\\\ \\t \\n \\r \\uXXXX, or a backslash before any symbol)."""
    if "\\" not in raw:
        return raw
    out: list[str] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if nxt == "u":
            digits = raw[i + 2 : i + 6]
            if len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
                out.append(chr(int(digits, 16)))
                i += 6
                continue
            raise parse_error(f"The escape sequence '\\u{digits}' is illegal.", *_where(token))
        if nxt in "tnr":
            out.append({"t": "\t", "n": "\n", "r": "\r"}[nxt])
        elif nxt and not nxt.isalnum():
            out.append(nxt)  # \" \' \\ \  and escaped reserved characters stand for themselves
        else:
            raise parse_error(f"The escape sequence '\\{nxt}' is illegal.", *_where(token))
        i += 2
    return "".join(out)


def _text_of(token: Token, *, reserved_check: bool = True) -> Literal:
    """A NAME or STRING token as a `Literal`; unquoted reserved words are refused as Jira does."""
    raw = str(token.value)
    if token.type == "STRING":
        return Literal(_decode(raw[1:-1], token), quoted=True)
    if reserved_check and raw.lower() in RESERVED_WORDS:
        raise _reserved_word(raw, token.line or 1, token.column or 1)
    return Literal(_decode(raw, token), quoted=False)


class _ToNodes(Transformer_NonRecursive):
    """lark tree -> (where node or None, [SortKey]). Non-recursive so long OR chains are fine."""

    def start(self, children: list[object]) -> tuple[Node | None, list[SortKey]]:
        """The whole query: an optional where clause and an optional ORDER BY."""
        where: Node | None = None
        order_by: list[SortKey] = []
        for child in children:
            if isinstance(child, list):
                order_by = child
            else:
                where = child  # type: ignore[assignment]
        return where, order_by

    # boolean structure; flattened so `a OR b OR c` is one n-ary node
    def or_(self, children: list[object]) -> Or:
        """`a OR b`, merged with nested ORs."""
        left, _op, right = children
        return Or(_flatten(Or, left) + _flatten(Or, right))  # type: ignore[arg-type]

    def and_(self, children: list[object]) -> And:
        """`a AND b`, merged with nested ANDs."""
        left, _op, right = children
        return And(_flatten(And, left) + _flatten(And, right))  # type: ignore[arg-type]

    def not_(self, children: list[object]) -> Not:
        """`NOT x` / `!x`."""
        return Not(children[1])  # type: ignore[arg-type]

    def group(self, children: list[object]) -> object:
        """`( x )`: parentheses only steer precedence."""
        return children[1]

    def or_op(self, children: list[Token]) -> str:
        """OR / || / |."""
        return "or"

    def and_op(self, children: list[Token]) -> str:
        """AND / && / &."""
        return "and"

    def not_op(self, children: list[Token]) -> str:
        """NOT / !."""
        return "not"

    # clauses
    def compare(self, children: list[object]) -> Compare:
        """`field <comparison> operand`."""
        field, op, operand = children
        return Compare(field, op, operand)  # type: ignore[arg-type]

    def comparison(self, children: list[Token]) -> ComparisonOp:
        """The operator's canonical spelling."""
        return str(children[0].value)  # type: ignore[return-value]

    def is_(self, children: list[object]) -> Compare:
        """`field IS operand`."""
        return Compare(children[0], "is", children[2])  # type: ignore[arg-type]

    def is_not(self, children: list[object]) -> Compare:
        """`field IS NOT operand`."""
        return Compare(children[0], "is not", children[3])  # type: ignore[arg-type]

    def in_(self, children: list[object]) -> Compare:
        """`field IN operand`."""
        return Compare(children[0], "in", children[2])  # type: ignore[arg-type]

    def not_in(self, children: list[object]) -> Compare:
        """`field NOT IN operand`."""
        return Compare(children[0], "not in", children[3])  # type: ignore[arg-type]

    def was(self, children: list[object]) -> History:
        """`field WAS operand predicates`."""
        return _history(children, "was", 2)

    def was_in(self, children: list[object]) -> History:
        """`field WAS IN operand predicates`."""
        return _history(children, "was in", 3)

    def was_not(self, children: list[object]) -> History:
        """`field WAS NOT operand predicates`."""
        return _history(children, "was not", 3)

    def was_not_in(self, children: list[object]) -> History:
        """`field WAS NOT IN operand predicates`."""
        return _history(children, "was not in", 4)

    def changed(self, children: list[object]) -> Changed:
        """`field CHANGED predicates`."""
        return Changed(children[0], tuple(children[2:]))  # type: ignore[arg-type]

    # fields and operands
    def field(self, children: list[Token]) -> FieldRef:
        """A field name: bare, quoted, or `cf[NNNNN]`."""
        token = children[0]
        if token.type == "CF_FIELD":
            raw = str(token.value)
            return FieldRef(raw, cf_number=int(raw[raw.index("[") + 1 : -1]))
        return FieldRef(_text_of(token).text)

    def value(self, children: list[Token]) -> Literal:
        """A bare word or quoted string."""
        return _text_of(children[0])

    def empty(self, children: list[Token]) -> Empty:
        """EMPTY / NULL."""
        return Empty()

    def value_list(self, children: list[object]) -> ValueList:
        """`(a, b, ...)`; the parenthesis and comma tokens are dropped."""
        return ValueList(tuple(c for c in children if not isinstance(c, Token)))  # type: ignore[misc]

    def function(self, children: list[object]) -> FunctionCall:
        """`name(args)`; the name keeps the user's spelling for error messages."""
        name = children[0]
        args = tuple(c for c in children[1:] if isinstance(c, str) and not isinstance(c, Token))
        return FunctionCall(str(name), args)

    def argument(self, children: list[Token]) -> str:
        """A function argument: always a string in JQL."""
        return _text_of(children[0]).text

    # predicates
    def before(self, children: list[object]) -> Predicate:
        """BEFORE operand."""
        return Predicate("before", children[1])  # type: ignore[arg-type]

    def after(self, children: list[object]) -> Predicate:
        """AFTER operand."""
        return Predicate("after", children[1])  # type: ignore[arg-type]

    def on(self, children: list[object]) -> Predicate:
        """ON operand."""
        return Predicate("on", children[1])  # type: ignore[arg-type]

    def during(self, children: list[object]) -> Predicate:
        """DURING (from, to)."""
        return Predicate("during", children[1])  # type: ignore[arg-type]

    def by(self, children: list[object]) -> Predicate:
        """BY user."""
        return Predicate("by", children[1])  # type: ignore[arg-type]

    def from_(self, children: list[object]) -> Predicate:
        """FROM value (CHANGED only)."""
        return Predicate("from", children[1])  # type: ignore[arg-type]

    def to(self, children: list[object]) -> Predicate:
        """TO value (CHANGED only)."""
        return Predicate("to", children[1])  # type: ignore[arg-type]

    # ORDER BY
    def order_by(self, children: list[object]) -> list[SortKey]:
        """ORDER BY key, key, ..."""
        return [c for c in children if isinstance(c, SortKey)]

    def sort_key(self, children: list[object]) -> SortKey:
        """`field [ASC|DESC]`."""
        field = children[0]
        ascending = children[1] if len(children) > 1 else None
        return SortKey(field, ascending)  # type: ignore[arg-type]

    def direction(self, children: list[Token]) -> bool:
        """True for ASC."""
        return str(children[0].value).lower() == "asc"


def _flatten(kind: type[And] | type[Or], node: Node) -> tuple[Node, ...]:
    """Children of `node` if it is already a `kind`, else just `node`."""
    if isinstance(node, kind):
        return node.children
    return (node,)


def _history(children: list[object], op: HistoryOp, operand_index: int) -> History:
    """Build a WAS-family node: children are field, keyword tokens, operand, predicates."""
    field = children[0]
    operand = children[operand_index]
    predicates = tuple(c for c in children[operand_index + 1 :] if isinstance(c, Predicate))
    return History(field, op, operand, predicates)  # type: ignore[arg-type]


__all__ = ["RESERVED_WORDS", "parse"]
