"""Where each table and key of a TOML document is written, so a problem can name its line.

Why this module exists: `tomllib` (the standard library parser okrbridge loads TOML with) returns
plain dicts and lists with no positions at all, and `tomlkit`, which keeps the document's layout, has
no dependable way to ask for the line of a key (nor is it a dependency). Yet every problem the catalog
loader reports should say *where* it is: `okrs.toml:42: CO-1.1.target: ...`. So this module reads the
source text once more, after tomllib has accepted it, and records the line of every table header, key
and array element under the same path tomllib's result would reach it by.

The API:

- `Loc` is such a path: `("objective", 0, "key_result", 1, "target")`; arrays of tables get indexes
  as tomllib's lists do, so a pydantic error location (`loc`) under an entry maps onto a line.
- `scan(text)` returns `TomlPositions`, whose `line_of(loc)` gives the line of `loc`, or failing that
  of the nearest enclosing entry (its `id` key, else its table) that is known.
- `dotted(loc)` writes a path the way messages name fields: `source.jql`, `visible_to[1]`.

The scanner is meant for text tomllib accepts. Fed anything else it stops quietly and keeps the lines
found so far: positions are a courtesy, and a partial map still places most problems. Text it stops
on is never an error of its own; tomllib's error is the one reported.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_left
from dataclasses import dataclass, field

__all__ = ["Loc", "TomlPositions", "dotted", "scan"]

Loc = tuple[str | int, ...]
"""A key path inside a TOML document, e.g. ("objective", 0, "key_result", 1, "target")."""


@dataclass(frozen=True)
class TomlPositions:
    """The line (1-based) of every table header, key and array element found in one TOML text.

    `lines` maps each path to the line it is first defined on; tables that a header or dotted key
    creates implicitly get that header's or key's line. `redefined` lists, in file order, the paths
    defined a second time with the line of that second definition (tomllib rejects such text, but
    places the error at the end of the document; this says where the duplicate really is).
    """

    lines: dict[Loc, int] = field(default_factory=dict)
    redefined: tuple[tuple[Loc, int], ...] = ()

    def line_of(self, loc: Loc) -> int | None:
        """The line of `loc`, else of the nearest enclosing entry's `id` key or table that is known.

        An array element that has an `id` key is placed on that key rather than on its `[[header]]`,
        since the id is what a reader looks for; None when nothing on the path is known.
        """
        for end in range(len(loc), 0, -1):
            here = loc[:end]
            if isinstance(here[-1], int) and (*here, "id") in self.lines:
                return self.lines[(*here, "id")]
            if here in self.lines:
                return self.lines[here]
        return None


def scan(text: str) -> TomlPositions:
    """The positions of everything in `text` (meant to be TOML that tomllib accepts); never raises."""
    return _Scanner(text).scan()


def dotted(loc: Loc) -> str:
    """A path as messages name a field: ("source", "jql") -> "source.jql"; ("a", 1) -> "a[1]"."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class _Stop(Exception):
    """The scanner met text it does not understand; the lines found so far are kept."""


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_BARE_VALUE = re.compile(r"[^,\]}\n#]*")


class _Scanner:
    """Finds the line of every table header and key in TOML text.

    Meant for text tomllib has accepted; on anything else it stops quietly, keeping what it found.
    Arrays of tables get indexes as tomllib's lists do, so a pydantic error location maps onto a line.
    One instance reads one text once: use `scan(text)`.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.lines: dict[Loc, int] = {}
        self.arrays: dict[Loc, int] = {}
        self.redefined: list[tuple[Loc, int]] = []

    def scan(self) -> TomlPositions:
        """Read the whole text; returns the positions found (all of them, or those before a stop)."""
        table: Loc = ()
        try:
            while True:
                self._skip(newlines=True)
                if self.i >= len(self.text):
                    break
                start = self.i
                if self.text.startswith("[", self.i):
                    table = self._header()
                else:
                    self._keyval(table)
                if self.i == start:
                    break
        except (_Stop, ValueError, IndexError):
            pass  # positions are a courtesy: a partial map still places most problems
        return TomlPositions(self.lines, tuple(self.redefined))

    def _line(self) -> int:
        """The line the cursor is on."""
        return bisect_left(self.newlines, self.i) + 1

    def _record(self, loc: Loc, line: int) -> None:
        """Remember where `loc` is defined; a second definition is kept apart (tomllib refuses it)."""
        if loc in self.lines:
            self.redefined.append((loc, line))
        else:
            self.lines[loc] = line

    def _skip(self, newlines: bool) -> None:
        """Move past blanks and comments, and past line breaks too when `newlines`."""
        text, blanks = self.text, " \t\r\n" if newlines else " \t\r"
        while self.i < len(text):
            if text[self.i] in blanks:
                self.i += 1
            elif text[self.i] == "#":
                end = text.find("\n", self.i)
                self.i = len(text) if end < 0 else end
            else:
                return

    def _resolve(self, keys: list[str]) -> Loc:
        """The path of the table a header's leading keys name; arrays of tables resolve to their
        latest element, and super-tables the header creates implicitly get the header's line."""
        loc: Loc = ()
        for key in keys:
            loc = (*loc, key)
            if loc in self.arrays:
                loc = (*loc, self.arrays[loc] - 1)
            else:
                self.lines.setdefault(loc, self._line())
        return loc

    def _header(self) -> Loc:
        """Read a `[table]` or `[[array.of.tables]]` header; returns the path of the table it opens."""
        line, is_array = self._line(), self.text.startswith("[[", self.i)
        self.i += 2 if is_array else 1
        keys = self._keys()
        self._skip(newlines=False)
        self.i += 2 if is_array else 1
        parent = self._resolve(keys[:-1])
        if not is_array:
            loc = (*parent, keys[-1])
            self._record(loc, line)
            return loc
        array = (*parent, keys[-1])
        index = self.arrays.get(array, 0)
        self.arrays[array] = index + 1
        self.lines.setdefault(array, line)
        self._record((*array, index), line)
        return (*array, index)

    def _keys(self) -> list[str]:
        """Read a possibly dotted, possibly quoted key; returns its parts."""
        keys: list[str] = []
        while True:
            self._skip(newlines=False)
            start = self.i
            if self.text.startswith('"', start):
                self._basic_string()
                keys.append(tomllib.loads(f"k = {self.text[start:self.i]}")["k"])
            elif self.text.startswith("'", start):
                self.i = self.text.index("'", start + 1) + 1
                keys.append(self.text[start + 1:self.i - 1])
            else:
                match = _BARE_KEY.match(self.text, start)
                if match is None:
                    raise _Stop
                keys.append(match.group())
                self.i = match.end()
            self._skip(newlines=False)
            if not self.text.startswith(".", self.i):
                return keys
            self.i += 1

    def _keyval(self, table: Loc) -> None:
        """Read `key = value` inside `table`, recording the key and everything inside the value."""
        line = self._line()
        keys = self._keys()
        if not self.text.startswith("=", self.i):
            raise _Stop
        self.i += 1
        loc = table
        for key in keys[:-1]:
            loc = (*loc, key)
            self.lines.setdefault(loc, line)
        self._record((*loc, keys[-1]), line)
        self._value((*loc, keys[-1]))

    def _basic_string(self) -> None:
        """Move past a one-line "basic string" (escapes included)."""
        j = self.i + 1
        while self.text[j] != '"':
            if self.text[j] == "\n":
                raise _Stop
            j += 2 if self.text[j] == "\\" else 1
        self.i = j + 1

    def _multiline(self, delimiter: str, escapes: bool) -> None:
        """Move past a multi-line string opened by `delimiter`: three double or single quotes."""
        j = self.i + 3
        while True:
            k = self.text.index(delimiter, j)
            backslashes = len(self.text[j:k]) - len(self.text[j:k].rstrip("\\"))
            if escapes and backslashes % 2:
                j = k + 1
                continue
            end = k + 3
            while end < len(self.text) and end - k < 5 and self.text[end] == delimiter[0]:
                end += 1  # up to two quotes may close the content itself: """a""""" is 'a""'
            self.i = end
            return

    def _value(self, loc: Loc) -> None:
        """Move past the value of `loc`, recording keys of inline tables and elements of arrays."""
        self._skip(newlines=False)
        text, i = self.text, self.i
        if text.startswith('"""', i) or text.startswith("'''", i):
            self._multiline(text[i:i + 3], escapes=text[i] == '"')
        elif text.startswith('"', i):
            self._basic_string()
        elif text.startswith("'", i):
            self.i = text.index("'", i + 1) + 1
        elif text.startswith("[", i):
            self._array(loc)
        elif text.startswith("{", i):
            self.i += 1
            while True:
                self._skip(newlines=True)
                if text.startswith("}", self.i):
                    self.i += 1
                    return
                self._keyval(loc)
                self._skip(newlines=True)
                if text.startswith(",", self.i):
                    self.i += 1
        else:
            match = _BARE_VALUE.match(text, i)
            self.i = match.end() if match else i

    def _array(self, loc: Loc) -> None:
        """Move past an array, recording the line of each element as (*loc, index)."""
        self.i += 1
        index = 0
        while True:
            self._skip(newlines=True)
            if self.text.startswith("]", self.i):
                self.i += 1
                return
            if self.i >= len(self.text):
                raise _Stop
            before = self.i
            self._record((*loc, index), self._line())
            self._value((*loc, index))
            index += 1
            self._skip(newlines=True)
            if self.text.startswith(",", self.i):
                self.i += 1
            elif self.i == before:
                raise _Stop
