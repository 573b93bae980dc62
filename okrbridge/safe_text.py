"""Text from files and from Jira that reaches a terminal or a one-line title: no control characters.

Why: titles, names, notes, JQL and Jira's own messages are printed verbatim by the command line and
put into remote-link titles. An escape sequence in one reaches the user's terminal (colours, cursor
moves, a changed window title), a carriage return or line break forges an output line
(`KR FAKE-9 · injected · 1.00 on track`), and bidirectional overrides make text read differently
than it is. The catalog refuses such characters where a person writes text (`unsafe_character`);
renderers pass every such field through `printable`, which also covers text that comes from Jira.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["UNSAFE_PATTERN", "describe", "one_line", "printable", "unsafe_character"]

_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Characters that reorder how the text around them is displayed."""
_LINE_BREAKS = frozenset("\u2028\u2029")
"""Unicode line and paragraph separators (category Z, yet they break lines)."""


def _unsafe(char: str) -> bool:
    """Whether `char` can change a terminal's state or how a line reads (C0, DEL, C1, bidi, breaks)."""
    return unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS or char in _LINE_BREAKS


UNSAFE_PATTERN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
"""Every character `_unsafe` names (category Cc is exactly U+0000-U+001F and U+007F-U+009F): one
search finds the first, which matters when a 10,000-KR okrs.toml has each of its texts checked."""


def unsafe_character(text: str, *, allow: str = "") -> str | None:
    """The first control character in `text` that is not in `allow`, else None."""
    for match in UNSAFE_PATTERN.finditer(text):
        if match.group() not in allow:
            return match.group()
    return None


_CONTROL_NAMES = {"\x00": "NULL", "\x07": "BELL", "\x08": "BACKSPACE", "\t": "TAB", "\n": "LINE FEED",
                  "\r": "CARRIAGE RETURN", "\x1b": "ESCAPE", "\x7f": "DELETE", "\x85": "NEXT LINE"}
"""Names of the control characters met most (unicodedata names none of them)."""


def describe(char: str) -> str:
    """A character as a message names it: `U+001B (ESCAPE)`."""
    name = _CONTROL_NAMES.get(char) or unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def printable(text: str) -> str:
    """`text` with every control character written as an escape (`\\x1b`, `\\n`, `\\u202e`).

    The result holds no character that could move the cursor, start a new line or reorder text.
    Text without such characters comes back unchanged.
    """
    if unsafe_character(text) is None:
        return text
    return "".join(c.encode("unicode_escape").decode("ascii") if _unsafe(c) else c for c in text)


def one_line(text: str, limit: int) -> str:
    """`text` as one line of at most `limit` characters: runs of control characters and whitespace
    become one space, and a cut text ends with an ellipsis."""
    words = "".join(" " if _unsafe(c) else c for c in text).split()
    line = " ".join(words)
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"
