"""The store's JSON decoding gives exactly what the standard library gives, whatever the text."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from okrbridge.store.json_text import loads

_LEAVES = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2**63 - 5, max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text())
_VALUES = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


def _same(decoded: Any, expected: Any) -> bool:
    """Equal, with the types equal too (1 is not 1.0), and NaN equal to NaN."""
    if type(decoded) is not type(expected):
        return False
    if isinstance(expected, float) and math.isnan(expected):
        return math.isnan(decoded)
    if isinstance(expected, list):
        return len(decoded) == len(expected) and all(map(_same, decoded, expected))
    if isinstance(expected, dict):
        return list(decoded) == list(expected) and all(_same(decoded[k], expected[k]) for k in expected)
    return bool(decoded == expected)


@given(_VALUES)
def test_a_stored_json_text_decodes_exactly_as_the_standard_library_decodes_it(value: Any) -> None:
    text = json.dumps(value)
    assert _same(loads(text), json.loads(text))
    assert _same(loads(text.encode()), json.loads(text))  # as PostgreSQL's driver hands it over


def test_integers_beyond_64_bits_nan_and_infinity_keep_their_exact_values() -> None:
    assert loads('{"target": 123456789012345678901234567890}') == {"target": 123456789012345678901234567890}
    assert math.isnan(loads('{"v": NaN}')["v"]) and loads("[Infinity, -Infinity]") == [math.inf, -math.inf]
    assert loads('{"count": 17, "jql": "project = WEB"}') == {"count": 17, "jql": "project = WEB"}
