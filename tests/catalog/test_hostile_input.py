"""Hostile or absurd OKR files end in a clear CatalogError naming file, line, id and field, never a crash."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from okrbridge.catalog import MAX_FILE_BYTES, CatalogError, load_catalog, load_checkins
from okrbridge.catalog_schema import MAX_ID_LENGTH
from okrbridge.sync_links import global_link_id
from okrbridge.tomlread import MAX_NESTING, nesting_too_deep

Write = Callable[..., Path]


def errors_of(path: Path) -> list[str]:
    """The text of every error loading `path` reports (it must fail with CatalogError)."""
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    return [str(p) for p in caught.value.problems]


def test_an_objective_with_a_blank_id_and_a_parent_is_reported_not_a_key_error(write: Write,
                                                                                 valid_okrs: str) -> None:
    text = valid_okrs + '\n[[objective]]\nid = ""\ntitle = "Orphan"\ncycle = "2026"\nparent = "NOPE"\n'
    path = write(text)
    found = errors_of(path)
    lines = text.split("\n")
    id_line = len(lines) - lines[::-1].index('id = ""')
    parent_line = len(lines) - lines[::-1].index('parent = "NOPE"')
    assert f"{path}:{id_line}: objective[2].id: id '' must be ASCII letters" in "\n".join(found)
    assert f"{path}:{parent_line}: objective[2].parent: unknown parent objective 'NOPE'" in found


def test_a_blank_id_with_a_known_parent_only_reports_the_id(write: Write, valid_okrs: str) -> None:
    path = write(valid_okrs + '\n[[objective]]\nid = " "\ntitle = "Child"\ncycle = "2026"\nparent = "CO-1"\n')
    found = errors_of(path)
    assert len(found) == 1 and "objective[2].id" in found[0]


def load_in_a_thread(path: Path) -> list[str]:
    """The errors loading `path` reports, loaded in a thread so that a hang fails the test, not the suite."""
    found: list[list[str]] = []
    worker = threading.Thread(target=lambda: found.append(errors_of(path)), daemon=True)
    worker.start()
    worker.join(30)
    assert found, f"loading {path} did not finish (or raised something other than CatalogError)"
    return found[0]


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 500, 5000])
def test_arrays_nested_too_deep_are_refused_with_the_line(write: Write, valid_okrs: str, depth: int) -> None:
    text = valid_okrs + "\nnested = " + "[" * depth + "]" * depth + "\n"
    path = write(text)
    [problem] = errors_of(path)
    assert problem == (f"{path}:{text.count(chr(10))}: arrays or inline tables nest more than "
                       f"{MAX_NESTING} levels deep")


def test_inline_tables_nested_too_deep_are_refused(write: Write) -> None:
    path = write("x = " + "{ a = " * 600 + "1" + " }" * 600 + "\n")
    assert "nest more than" in errors_of(path)[0]


def test_brackets_inside_strings_and_comments_do_not_count_as_nesting(write: Write, valid_okrs: str) -> None:
    many = "[" * 100
    text = valid_okrs.replace('title = "Close bigger deals"', f'title = "Close bigger deals {many}" # {many}')
    text += f"\n[[kpi]]\nid = \"k2\"\nname = '''{many}{'{' * 100}'''\nbaseline = 1\n"
    loaded = load_catalog(write(text))
    assert loaded.catalog.kpi("k2") is not None


def test_nesting_scan_handles_escaped_quotes_and_multiline_strings() -> None:
    assert nesting_too_deep('a = "\\"[[[["\nb = [[1]]\n', 3) is None
    assert nesting_too_deep('a = """x""""\nb = [[[[1]]]]\n', 3) == 2
    assert nesting_too_deep("a = '''\n[[[[\n'''\nb = [[[[1]]]]\n", 3) == 4


def test_a_fifo_is_refused_instead_of_waiting_forever(tmp_path: Path) -> None:
    fifo = tmp_path / "okrs.toml"
    os.mkfifo(fifo)
    assert load_in_a_thread(fifo) == [f"{fifo}: not a regular file (a device, a FIFO or a folder cannot "
                                      "hold TOML)"]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this system")
def test_an_endless_device_is_refused_instead_of_read_forever() -> None:
    assert "not a regular file" in load_in_a_thread(Path("/dev/zero"))[0]


def test_a_folder_is_refused(tmp_path: Path) -> None:
    assert "not a regular file" in errors_of(tmp_path)[0]


def test_a_file_over_the_size_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "okrs.toml"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written, the size is what counts
    assert errors_of(path) == [f"{path}: the file is {MAX_FILE_BYTES + 1:,} bytes; the limit is "
                               f"{MAX_FILE_BYTES:,}"]


@pytest.mark.parametrize("text", ["", "\n# nothing yet\n", "fiscal_year_start = 4\n"])
def test_a_file_with_no_objective_and_no_kpi_is_refused_before_it_archives_everything(
        write: Write, text: str) -> None:
    path = write(text)
    [problem] = errors_of(path)
    assert problem.startswith(f"{path}: the file defines no [[objective]] and no [[kpi]]")
    assert "archive every objective" in problem


@pytest.mark.parametrize("cycle", ["٢٠٢٦", "٢٠٢٦-Q2", "2026-٠٥", "２０２６"])
def test_only_ascii_digits_make_a_cycle(write: Write, valid_okrs: str, cycle: str) -> None:
    path = write(valid_okrs.replace('cycle = "2026"', f'cycle = "{cycle}"', 1))
    assert any("CO-1.cycle: cycle" in p and "is not a year (2026)" in p for p in errors_of(path))


def test_an_id_longer_than_the_limit_is_refused_naming_file_line_and_id(write: Write,
                                                                         valid_okrs: str) -> None:
    long_id = "CO-1." + "9" * 295
    text = valid_okrs.replace('id = "CO-1.2"', f'id = "{long_id}"')
    path = write(text)
    [problem] = errors_of(path)
    line = text[:text.index(long_id)].count("\n") + 1
    assert problem.startswith(f"{path}:{line}: {long_id}.id: id 'CO-1.99999")
    assert f"is 300 characters; the limit is {MAX_ID_LENGTH}" in problem


def test_an_id_at_the_limit_fits_every_place_it_goes(write: Write, valid_okrs: str) -> None:
    longest = "K" * MAX_ID_LENGTH
    loaded = load_catalog(write(valid_okrs.replace('id = "CO-1.2"', f'id = "{longest}"')))
    assert loaded.catalog.key_result(longest) is not None
    assert len(global_link_id(longest)) <= 255 and len(f"kr-{longest}") <= 255


@pytest.mark.parametrize("bad", ["CO-1.2\\n", "CO 1", "CO-1.2é", "-CO", "CO/1", "CO-1.2\\u001b[31m"])
def test_an_id_outside_the_ascii_id_characters_is_refused(write: Write, valid_okrs: str, bad: str) -> None:
    path = write(valid_okrs.replace('id = "CO-1.2"', f'id = "{bad}"'))
    assert any(".id: id " in p and "must be ASCII letters, digits" in p for p in errors_of(path))


def test_an_epic_key_with_a_trailing_line_break_is_refused(write: Write, valid_okrs: str) -> None:
    epics = '  initiatives = { epics = ["ENG-1\\n"] }\n'
    text = valid_okrs.replace("  start = 300\n", "  start = 300\n" + epics, 1)
    assert any("is not a Jira issue key" in p for p in errors_of(write(text)))


HOSTILE_TEXT = "Grow\\r\\nKR FAKE-9 \\u001b[31m"  # as written in TOML: a forged line and an escape sequence


@pytest.mark.parametrize(("old", "subject_field"), [
    ('title = "Increase sales revenue"', "CO-1.title"),
    ('owner = "alice"', "CO-1.owner"),
    ('team = "sales"', "SALES-1.team"),
    ('title = "Grow qualified opportunities from 0 to 120"', "SALES-1.1.title"),
    ('name = "Average contract value"', "acv.name"),
    ('unit = "$"', "acv.unit"),
])
def test_control_characters_in_catalog_text_are_refused_naming_file_line_and_field(
        write: Write, valid_okrs: str, old: str, subject_field: str) -> None:
    key = old.split(" ")[0]
    text = valid_okrs.replace(old, f'{key} = "{HOSTILE_TEXT}"', 1)
    path = write(text)
    line = text[:text.index(HOSTILE_TEXT)].count("\n") + 1
    found = errors_of(path)
    assert any(p.startswith(f"{path}:{line}: {subject_field}: ") and "control character U+000D" in p
               for p in found), found


def test_an_escape_sequence_in_a_visible_to_group_is_refused(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('visible_to = ["okr-sales"]', 'visible_to = ["sales\\u001b[0m"]')
    assert any("SALES-1.visible_to[0]: " in p and "U+001B (ESCAPE)" in p for p in errors_of(write(text)))


def test_a_right_to_left_override_in_a_title_is_refused(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('title = "Increase sales revenue"', 'title = "Increase \\u202erevenue"')
    assert any("CO-1.title: " in p and "U+202E" in p for p in errors_of(write(text)))


def test_queries_and_check_in_notes_may_span_lines(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('numerator = "project = WEB AND labels = won"',
                              'numerator = """project = WEB\n\tAND labels = won"""')
    assert load_catalog(write(text)).catalog.key_result("CO-1.1") is not None
    checkins = write('[[checkin]]\nkr = "CO-1.2"\nvalue = 1\nat = 2026-02-01\nnote = """two\nlines"""\n',
                     "checkins.toml")
    assert load_checkins(checkins)[0].note == "two\nlines"


def test_an_escape_sequence_in_a_query_is_refused(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('numerator = "project = WEB AND labels = won"',
                              'numerator = "project = WEB\\u001b[2J"')
    assert any("CO-1.1.source.numerator: " in p and "U+001B" in p for p in errors_of(write(text)))
