"""Whatever an OKR, check-in or config file contains, loading it either works or raises CatalogError (or
ConfigError), and never crashes; check-in values and dates stay in range; hostile text never reaches
a renderer's output raw. Every property is bounded (a few hundred examples at most) to keep the suite fast."""

from __future__ import annotations

import contextlib
import math
import tomllib
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from okrbridge.catalog import CatalogError, bundled_sample, check_catalog_file, load_catalog, load_checkins
from okrbridge.catalog_schema import MAX_ID_LENGTH
from okrbridge.cli.base import parse_moment
from okrbridge.config import ConfigError, load_settings
from okrbridge.cycles import EARLIEST, LATEST, FiscalCalendar
from okrbridge.domain import (
    MAX_CHECKIN_MAGNITUDE,
    Catalog,
    KeyResult,
    Kpi,
    Measure,
    MeasureKind,
    Objective,
    Reading,
)
from okrbridge.explanation import Explanation
from okrbridge.grading import forecast
from okrbridge.report import grade_period
from okrbridge.safe_text import unsafe_character
from okrbridge.store import Snapshot, SubjectKind
from okrbridge.sync_links import LINK_TITLE_LIMIT, link_title
from okrbridge.textout import report_text, snapshot_line
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


# --------------------------------------------------------------------------- mutated samples and configs

SAMPLE = bundled_sample("okrs.toml").read_text(encoding="utf-8")
EXAMPLE_CONFIG = (Path(__file__).resolve().parents[2] / "config.example.toml").read_text(encoding="utf-8")
HOSTILE_VALUES = [
    '""', '" "', '"\\u001b[2J"', '"a\\r\\nKR FAKE-9"', '"\\u202e"', "1e308", "-1e308", "0", "-1", "1e20",
    "100000000000000000000", "nan", "inf", "true", "[]", "{}", "[" * 40 + "]" * 40, '"' + "x" * 300 + '"',
    "9999-12-31T23:59:59-05:00", "0001-01-01", '"٢٠٢٦"', '"2026-Q5"', '"/dev/zero"', '"sqlite:///"',
    '"postgresql+psycopg://u:p@h:1/x"', '"CO-1"', '"ENG-1\\n"',
]


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """`text` after a few random edits: values replaced, lines dropped, duplicated, moved or cut."""
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["value", "drop", "duplicate", "move", "cut", "insert"]))
        if edit == "value" and "=" in lines[i]:
            lines[i] = lines[i].split("=", 1)[0] + "= " + draw(st.sampled_from(HOSTILE_VALUES))
        elif edit == "drop":
            del lines[i]
        elif edit == "duplicate":
            lines.insert(i, lines[i])
        elif edit == "move":
            lines.insert(draw(st.integers(0, len(lines))), lines.pop(i))
        elif edit == "cut":
            lines[i] = lines[i][:draw(st.integers(0, len(lines[i])))]
        else:
            lines.insert(i, draw(st.sampled_from(FRAGMENTS)))
    return "\n".join(lines)


@settings(max_examples=150, deadline=None)
@given(text=mutated(SAMPLE))
def test_mutated_samples_load_or_raise_catalog_error_naming_lines(scratch: Path, text: str) -> None:
    scratch.write_text(text, encoding="utf-8")
    try:
        loaded = load_catalog(scratch)
    except CatalogError as error:
        assert error.problems and all(p.file == str(scratch) for p in error.problems)
        assert all(p.line is None or 1 <= p.line <= text.count("\n") + 1 for p in error.problems)
        return
    for item in [*loaded.catalog.objectives, *loaded.catalog.kpis,
                 *(kr for o in loaded.catalog.objectives for kr in o.key_results)]:
        assert len(item.id) <= MAX_ID_LENGTH and unsafe_character(item.id) is None


CONFIG_FRAGMENTS = ["[jira]", "[web]", "[grading]", "[scheduler]", "[confluence]", "[nope]", "token = 'x'",
                    "timeout_seconds = 1e308", "max_retries = 1e20", "port = 0", 'okrs = "/dev/zero"',
                    'database_url = ""', 'sync_cron = "* *"', 'timezone = "Mars/Base"', "x = " + "[" * 3000]


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(mutated(EXAMPLE_CONFIG),
                      st.lists(st.one_of(st.sampled_from(CONFIG_FRAGMENTS), st.text(max_size=20)),
                               max_size=20).map("\n".join)))
def test_config_documents_load_or_raise_config_error(tmp_path_factory: pytest.TempPathFactory,
                                                     text: str) -> None:
    path = tmp_path_factory.getbasetemp() / "fuzz-config.toml"
    path.write_text(text, encoding="utf-8")
    try:
        settings_ = load_settings(path, {})
    except ConfigError as error:
        assert error.messages and all(m.startswith(str(path)) for m in error.messages)
        return
    assert 0 < settings_.jira.timeout_seconds <= 600 and settings_.jira.max_retries <= 20


# --------------------------------------------------------------------------- check-in values and dates

MOMENTS = st.one_of(st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5)),
                                                           timezone(timedelta(hours=14))])),
                    st.dates(), st.text(max_size=30))


def toml_moment(value: object) -> str:
    """A generated moment as a TOML value (a date, a date-time or a string)."""
    if isinstance(value, str):
        return toml_string(value)
    assert isinstance(value, date)
    return value.isoformat()


@settings(max_examples=150, deadline=None)
@given(value=st.floats(), at=MOMENTS)
def test_checkin_files_hold_bounded_values_at_utc_instants_or_fail_clearly(
        scratch: Path, value: float, at: object) -> None:
    number = repr(value) if value == value and abs(value) != float("inf") else "nan"
    scratch.write_text(f'[[checkin]]\nkr = "CO-1.2"\nvalue = {number}\nat = {toml_moment(at)}\n',
                       encoding="utf-8")
    try:
        [checkin] = load_checkins(scratch)
    except CatalogError as error:
        assert all(p.line in (3, 4) for p in error.problems), error
        return
    assert abs(checkin.value) <= MAX_CHECKIN_MAGNITUDE
    assert checkin.at.tzinfo is UTC and EARLIEST <= checkin.at < LATEST


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(st.text(max_size=30), st.datetimes().map(datetime.isoformat),
                      st.datetimes(timezones=st.just(timezone(timedelta(hours=-5)))).map(datetime.isoformat)))
def test_at_options_parse_to_an_instant_in_range_or_a_usage_error(text: str) -> None:
    try:
        moment = parse_moment(text, "--at")
    except click.BadParameter as error:
        assert error.param_hint == "--at"
        return
    assert moment is not None and EARLIEST <= moment < LATEST


@settings(max_examples=150, deadline=None)
@given(points=st.lists(st.tuples(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 1, 1)),
                                 st.floats(allow_nan=False, allow_infinity=False)), max_size=6),
       at=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 1, 1)))
def test_the_forecast_of_any_stored_values_is_a_finite_number_or_none(
        points: list[tuple[datetime, float]], at: datetime) -> None:
    predicted = forecast(points, at)
    assert predicted is None or math.isfinite(predicted)


# --------------------------------------------------------------------------- hostile titles out

HOSTILE_CHARS = st.sampled_from(["\x1b", "\r", "\n", "\x07", "\x00", "\x7f", "\x85", "\u202e", "\u2028",
                                 "\u2066", "\t", "[", "]", "·"])
HOSTILE_TITLES = st.text(alphabet=st.one_of(HOSTILE_CHARS, st.characters()), max_size=40)


@settings(max_examples=150, deadline=None)
@given(title=HOSTILE_TITLES, name=HOSTILE_TITLES, unit=HOSTILE_TITLES, query=HOSTILE_TITLES,
       note=HOSTILE_TITLES)
def test_hostile_text_never_reaches_the_terminal_renderers_raw(title: str, name: str, unit: str, query: str,
                                                              note: str) -> None:
    kr = KeyResult("CO-1.1", title, Measure(MeasureKind.INCREASE, start=0, target=10), "CO-1", unit=unit)
    catalog = Catalog(objectives=(Objective("CO-1", title, "2026", team=name, key_results=(kr,)),),
                      kpis=(Kpi("k", name, unit=unit, target=5),))
    when = datetime(2026, 3, 1, tzinfo=UTC)
    readings = {"CO-1.1": [Reading("CO-1.1", when, 3.0, Explanation("jql_count", jql=query, count=3))],
                "k": [Reading("k", when, 4.0)]}
    text = report_text(grade_period(catalog, readings, FiscalCalendar().parse("2026"),
                                    now=datetime(2026, 4, 1, tzinfo=UTC)))
    snapshot = Snapshot(1, "CO-1.1", SubjectKind.KR, when, 3.0, "manual",
                        Explanation("manual", jql=query, count=1, note=note or None), None, note or None,
                        None, when, None)
    for rendered in [*text.split("\n"), snapshot_line(snapshot, 0.3), link_title(kr, 0.3, "off track")]:
        assert unsafe_character(rendered) is None, repr(rendered)
    assert len(link_title(kr, 0.3, "off track")) <= LINK_TITLE_LIMIT
