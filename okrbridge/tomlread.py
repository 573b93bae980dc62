"""Reading a TOML file a user names, safely: only regular files of a sane size, nested sanely.

Why: the OKR file and the config file are named by users and may be anything. `/dev/zero` or a
FIFO would make a plain read hang forever, a huge file would be read whole into memory, and
`tomllib` parses arrays and inline tables recursively, so a document nested a few hundred levels
deep raises `RecursionError` instead of a parse error. `read_toml_text` refuses all three with a
`TomlFileError` whose message (and line, when there is one) the caller reports in its own words.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

__all__ = ["MAX_NESTING", "TomlFileError", "decode_toml_text", "nesting_too_deep", "read_regular_bytes",
           "read_toml_text"]

MAX_NESTING = 32
"""How deep arrays and inline tables may nest (an OKR or config file needs three or four levels)."""

_NOT_REGULAR = "not a regular file (a device, a FIFO or a folder cannot hold TOML)"


class TomlFileError(ValueError):
    """A file that cannot be read as TOML text: `message` says why, `line` where (when known)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(message)


def read_toml_text(path: Path, *, max_bytes: int) -> str:
    """The UTF-8 text of `path`, once it is known to be a regular file of at most `max_bytes`
    whose arrays and inline tables nest at most MAX_NESTING deep; TomlFileError otherwise.

    FileNotFoundError passes through, so a caller can say "no such file" in its own words.
    """
    text = decode_toml_text(read_regular_bytes(path, max_bytes=max_bytes))
    line = nesting_too_deep(text, MAX_NESTING)
    if line is not None:
        raise TomlFileError(f"arrays or inline tables nest more than {MAX_NESTING} levels deep", line)
    return text


def decode_toml_text(data: bytes) -> str:
    """The UTF-8 text of a file's bytes; TomlFileError naming the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TomlFileError(f"cannot read the file: it is not UTF-8 text ({error.reason} at byte "
                            f"{error.start})") from error


def read_regular_bytes(path: Path, *, max_bytes: int) -> bytes:
    """The bytes of `path` once it is known to be a regular file of at most `max_bytes` (it is never
    waited on or read past the limit); TomlFileError otherwise, FileNotFoundError passes through."""
    try:
        # O_NONBLOCK: opening a FIFO would otherwise wait for a writer; a regular file ignores it
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise TomlFileError(_NOT_REGULAR)
            if info.st_size > max_bytes:
                raise TomlFileError(f"the file is {info.st_size:,} bytes; the limit is {max_bytes:,}")
            data = handle.read(max_bytes + 1)  # a file growing while it is read is still capped
    except FileNotFoundError:
        raise
    except IsADirectoryError as error:
        raise TomlFileError(_NOT_REGULAR) from error
    except OSError as error:
        raise TomlFileError(f"cannot read the file: {error.strerror or error}") from error
    if len(data) > max_bytes:
        raise TomlFileError(f"the file is over the limit of {max_bytes:,} bytes")
    return data


_TOKEN = re.compile(
    r"#[^\n]*"                             # a comment, to the end of its line
    r'|"""(?:\\[\s\S]|[^\\])*?(?:"""|\\?\Z)'  # a multi-line basic string (escapes skipped)
    r"|'''[\s\S]*?(?:'''|\Z)"            # a multi-line literal string
    r'|"(?:\\[\s\S]|[^"\\\n])*"?'          # a basic string; an unterminated one stops at the line break
    r"|'[^'\n]*'?"                       # a literal string, likewise
    r"|[\[\]{}]"                           # what nests
)
"""The tokens of TOML that decide nesting: brackets, and the strings and comments that hide them."""


def nesting_too_deep(text: str, limit: int) -> int | None:
    """The line where `[`/`{` nesting first goes past `limit` outside strings and comments, else None.

    A lexer of just enough TOML to tell brackets in values from brackets in strings and comments
    (one regular expression, so a 10,000-KR file is checked in a few milliseconds); table headers
    (`[[a.b]]`) count too, which costs two levels at the top and nothing else.
    """
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in _OPENS:
            depth += 1
            if depth > limit:
                return text.count("\n", 0, match.start()) + 1
        elif token in _CLOSES:
            depth = max(0, depth - 1)
    return None


_OPENS = frozenset("[{")
_CLOSES = frozenset("]}")
