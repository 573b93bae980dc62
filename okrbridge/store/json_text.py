"""Decoding the JSON the store keeps: orjson where it can, the standard library where orjson refuses."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_LONG_DIGITS = re.compile(r"[0-9]{19}")
"""A run of digits orjson might not read as the standard library does: it reads an integer beyond
64 bits as a float, where the standard library keeps it exact."""
_LONG_DIGIT_BYTES = re.compile(rb"[0-9]{19}")
"""`_LONG_DIGITS` in encoded text (what PostgreSQL's driver hands over)."""


def loads(text: str | bytes) -> Any:
    """The value a JSON text holds, exactly as `json.loads` decodes it.

    orjson decodes several times faster than the standard library (`grades --nested` decodes an
    explanation per reading graded: 120,000 at 10,000 KRs). A text with a long run of digits, or
    one orjson refuses (`NaN` and `Infinity`, which `json.dumps` writes), is decoded by the
    standard library, so every stored text decodes as it always did.
    """
    long_digits = (_LONG_DIGITS.search(text) if isinstance(text, str)
                   else _LONG_DIGIT_BYTES.search(text))
    if long_digits is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)
