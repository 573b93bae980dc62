"""The CONTAINS (`~`) operator: Jira's word-based, case-insensitive text search, simplified.

Mirrored from Atlassian's "Search syntax for text fields": terms are words, not substrings
(`~ bug` does not match "debug"); several terms must all occur, in any order; an inner quoted phrase
(`~ "\\"full screen\\""`) must occur as consecutive words; `*` and `?` are wildcards inside a term;
`OR` between terms and a leading `-`/`NOT` to exclude a term are honoured. Not mirrored: stemming
(Jira's English analyser makes `tests` find `test`), fuzzy/proximity/boost operators, grouping.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

# Tokenising *data* (issue text) into words, the way an analyser does; JQL itself is parsed by lark.
_WORD = re.compile(r"\w+")
_QUERY_WORD = re.compile(r"[\w*?]+")


@lru_cache(maxsize=200_000)
def words(text: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """Lower-cased words of `text`, in order and as a set (cached: summaries are searched often)."""
    found = tuple(_WORD.findall(text.lower()))
    return found, frozenset(found)


@dataclass(frozen=True)
class _Term:
    """One term or phrase: consecutive word patterns; `excluded` for `-term` / `NOT term`."""

    patterns: tuple[str, ...]
    excluded: bool

    def found_in(self, text: str) -> bool:
        """Whether the word sequence occurs in `text`."""
        ordered, distinct = words(text)
        first = self.patterns[0]
        if len(self.patterns) == 1:
            if "*" in first or "?" in first:
                return any(fnmatchcase(word, first) for word in distinct)
            return first in distinct
        width = len(self.patterns)
        for start in range(len(ordered) - width + 1):
            if all(fnmatchcase(ordered[start + k], self.patterns[k]) for k in range(width)):
                return True
        return False


def _split(query: str) -> list[tuple[str, bool]]:
    """Break the search string into (chunk, is_phrase) pieces: phrases are inside double quotes."""
    pieces: list[tuple[str, bool]] = []
    current: list[str] = []
    in_phrase = False
    for char in query:
        if char == '"':
            if current:
                pieces.append(("".join(current), in_phrase))
                current = []
            in_phrase = not in_phrase
        elif char.isspace() and not in_phrase:
            if current:
                pieces.append(("".join(current), False))
                current = []
        else:
            current.append(char)
    if current:
        pieces.append(("".join(current), in_phrase))
    return pieces


def compile_text(query: str) -> Callable[[str], bool] | None:
    """A matcher for one field's text, or None when the search string holds no word at all."""
    groups: list[list[_Term]] = [[]]  # OR of ANDs
    exclude_next = False
    for chunk, is_phrase in _split(query):
        if not is_phrase and chunk in ("OR", "||"):
            groups.append([])
            continue
        if not is_phrase and chunk in ("AND", "&&", "+"):
            continue
        if not is_phrase and chunk in ("NOT", "!", "-"):
            exclude_next = True
            continue
        excluded = exclude_next
        exclude_next = False
        if not is_phrase and chunk[:1] in ("-", "!"):
            excluded, chunk = True, chunk[1:]
        elif not is_phrase and chunk[:1] == "+":
            chunk = chunk[1:]
        patterns = tuple(_QUERY_WORD.findall(chunk.lower()))
        if patterns:
            groups[-1].append(_Term(patterns, excluded))
    groups = [group for group in groups if any(not term.excluded for term in group)]
    if not groups:
        return None

    def matches(text: str) -> bool:
        """Any OR-group whose required terms are all present and excluded terms all absent."""
        if not text:
            return False
        return any(all(term.found_in(text) != term.excluded for term in group) for group in groups)

    return matches
