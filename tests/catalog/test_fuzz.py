"""Whatever an OKR file contains, loading it either works or raises CatalogError, and never crashes."""

from __future__ import annotations

import contextlib
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from okrbridge.catalog import CatalogError, check_catalog_file, load_catalog, load_checkins
from okrbridge.tomlpos import _Scanner

FRAGMENTS = [
    "[[objective]]", "[[objective.key_result]]", "[objective.key_result.source]", "[[kpi]]", "[kpi.source]",
    "[objective]", "[[checkin]]", "[a.b]", "[[a.b.c]]",
    'id = "CO-1"', 'id = "CO-1.1"', 'id = "k"', "id = 5", 'id = ""', 'title = "Grow"', 'name = "ACV"',
    'cycle = "2026"', 'cycle = "2026-Q9"', 'measure = "increase"', 'measure = "baseline"', 'measure = "grow"',
    "start = 1", "target = 1", "target = 2.5", "low = 3", "high = 1", "weight = 0", "baseline = 4",
    'parent = "CO-1"', 'parent = "CO-1.1"', 'level = "company"', 'level = "team"', 'owner = ""',
    'source = { kind = "kpi", kpi = "k" }', 'source = { kind = "jql_count" }', 'source = "manual"',
    'kind = "jql_sum"', 'jql = "project = X"', 'kpi = "k"', "kpi = 3", 'agg = "median"',
    'initiatives = { epics = ["A-1", "b"] }', "initiatives = {}", "visible_to = []", 'visible_to = ["", 3]',
    "fiscal_year_start = 0", 'fiscal_year_named_by = "start"', 'key_result = [{ id = "X", title = "t" }]',
    "start = nan", "target = inf", '"quoted key" = 1', "a.b.c = 'literal'", 'x = """multi\nline\\""" """',
    "x = '''raw\n'''", "x = [1,\n 2, # comment\n]", "# comment", "", "value = 3", "at = 2026-01-01",
    "at = 2026-01-01T10:00:00+02:00", 'at = "yesterday"', 'kr = "CO-1.1"', "date = 1979-05-27 07:32:00Z",
    "x = { a = { b = [1, { c = 2 }] } }", "x = [[1, 2], ['a']]", 'x = "unterminated', "= 3", "[[", "]",
]
lines = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20))
documents = st.lists(lines, max_size=40).map("\n".join)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file the examples overwrite."""
    return tmp_path_factory.mktemp("fuzz") / "okrs.toml"


@settings(max_examples=400, deadline=None)
@given(text=documents)
def test_random_toml_ish_text_only_ever_raises_catalog_error(scratch: Path, text: str) -> None:
    scratch.write_text(text, encoding="utf-8")
    try:
        load_catalog(scratch)
    except CatalogError as error:
        assert error.problems
        assert all(p.line is None or 1 <= p.line <= text.count("\n") + 1 for p in error.problems)
    problems = check_catalog_file(scratch)
    assert all(p.file == str(scratch) for p in problems)
    with contextlib.suppress(CatalogError):
        load_checkins(scratch)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=200))
def test_random_bytes_only_ever_raise_catalog_error(scratch: Path, data: bytes) -> None:
    scratch.write_bytes(data)
    try:
        load_catalog(scratch)
    except CatalogError as error:
        assert error.problems


def leaf_paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every key and array element path in parsed TOML."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    found = []
    for key, inner in items:
        found.append((*prefix, key))
        found.extend(leaf_paths(inner, (*prefix, key)))
    return found


@settings(max_examples=400, deadline=None)
@given(text=documents)
def test_scanner_places_every_key_of_valid_toml_on_its_line(text: str) -> None:
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    positions = _Scanner(text).scan()
    source = text.split("\n")
    for path in leaf_paths(parsed):
        assert path in positions.lines, path
        line = positions.lines[path]
        assert 1 <= line <= len(source)
        key = path[-1]
        if isinstance(key, str) and key.isidentifier():
            assert key in source[line - 1], (path, line)


KEYS = st.sampled_from(["id", "title", "kind", "a", "b-c", "x_1", "42", "with space", "dotted.key", "ünï"])
SCALARS = st.one_of(
    st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
    st.text(max_size=12), st.dates(),
)
TREES = st.dictionaries(KEYS, st.recursive(
    st.one_of(SCALARS, st.lists(SCALARS, max_size=3)),
    lambda inner: st.one_of(st.dictionaries(KEYS, inner, max_size=3),
                            st.lists(st.dictionaries(KEYS, inner, max_size=3), min_size=1, max_size=3)),
    max_leaves=12), max_size=5)


def toml_key(key: str) -> str:
    """A key, quoted unless it is bare."""
    return key if key.replace("-", "").replace("_", "").isalnum() and key.isascii() else toml_string(key)


def toml_string(text: str, multiline: bool = False) -> str:
    """A basic string; with `multiline` and a line break in the text, a multi-line one."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if (c >= " " and c != "\x7f") or c in "\n\t" else f"\\u{ord(c):04x}"
                      for c in escaped)
    if multiline and "\n" in text:
        return '"""\n' + escaped + '"""'
    return '"' + escaped.replace("\t", "\\t").replace("\n", "\\n") + '"'


def is_table_array(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


class Emitter:
    """Writes a tree as TOML, choosing among the styles TOML allows for each table and array."""

    def __init__(self, data: st.DataObject) -> None:
        self.draw = data.draw
        self.out: list[str] = []

    def value(self, value: Any, multiline_ok: bool = True) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return repr(value)
        if isinstance(value, str):
            return toml_string(value, multiline_ok)
        if isinstance(value, dict):
            inner = ", ".join(f"{toml_key(k)} = {self.value(v, False)}" for k, v in value.items())
            return "{ " + inner + " }" if inner else "{}"
        if isinstance(value, list):
            if multiline_ok and self.draw(st.booleans()):
                return "[\n" + "".join(f"  {self.value(v)}, # item\n" for v in value) + "]"
            return "[" + ", ".join(self.value(v, False) for v in value) + "]"
        return value.isoformat()  # a date

    def table(self, tree: dict[str, Any], names: list[str]) -> None:
        later: list[tuple[str, Any]] = []
        for key, value in tree.items():
            if isinstance(value, dict) and value and self.draw(st.booleans()):
                later.append((key, value))  # its own [header]
            elif is_table_array(value) and self.draw(st.booleans()):
                later.append((key, value))  # [[header]] per element
            elif isinstance(value, dict) and value and self.draw(st.booleans()):
                self.dotted([toml_key(key)], value)
            else:
                self.out.append(f"{toml_key(key)} = {self.value(value)}")
        for key, value in later:
            header = ".".join([*names, toml_key(key)])
            for element in value if isinstance(value, list) else [value]:
                self.out.append(f"\n[[{header}]]" if isinstance(value, list) else f"\n[{header}]")
                self.table(element, [*names, toml_key(key)])

    def dotted(self, prefix: list[str], tree: dict[str, Any]) -> None:
        for key, value in tree.items():
            if isinstance(value, dict) and value:
                self.dotted([*prefix, toml_key(key)], value)
            else:
                self.out.append(f"{'.'.join([*prefix, toml_key(key)])} = {self.value(value)}")


@settings(max_examples=300, deadline=None)
@given(tree=TREES, data=st.data())
def test_scanner_places_every_key_of_generated_toml(tree: dict[str, Any], data: st.DataObject) -> None:
    emitter = Emitter(data)
    emitter.table(tree, [])
    text = "\n".join(emitter.out) + "\n"
    assert tomllib.loads(text) == tree, text
    positions = _Scanner(text).scan()
    source = text.split("\n")  # TOML lines end at \n only; str.splitlines also splits at \x85 and more
    for path in leaf_paths(tree):
        assert path in positions.lines, (path, text)
        key = path[-1]
        if isinstance(key, str):
            assert toml_key(key) in source[positions.lines[path] - 1], (path, text)


def test_scanner_places_keys_in_sub_tables_and_inline_tables() -> None:
    text = ('[[objective]]\nid = "A"\n  [[objective.key_result]]\n  id = "A.1"\n  source = { kind = "kpi",'
            ' kpi = "k" }\n  [[objective.key_result]]\n  id = "A.2"\n    [objective.key_result.source]\n'
            '    kind = "manual"\n')
    lines = _Scanner(text).scan().lines
    assert lines[("objective", 0, "key_result", 0, "source", "kpi")] == 5
    assert lines[("objective", 0, "key_result", 1, "id")] == 7
    assert lines[("objective", 0, "key_result", 1, "source", "kind")] == 9
