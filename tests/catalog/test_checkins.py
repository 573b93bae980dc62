"""Check-in files: values for manual KRs and KPIs, with the same error style as okrs.toml."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from okrbridge.catalog import CatalogError, Checkin, load_catalog, load_checkins

Write = Callable[..., Path]


def only_error(path: Path, catalog_text: str | None = None, write: Write | None = None) -> str:
    """The single error loading a check-in file gives, as its str."""
    catalog = load_catalog(write(catalog_text)).catalog if catalog_text and write else None
    with pytest.raises(CatalogError) as caught:
        load_checkins(path, catalog)
    [problem] = caught.value.problems
    return str(problem)


def test_checkins_load_in_file_order_as_utc(write: Write) -> None:
    path = write('''
        [[checkin]]
        kr = "CO-1.2"
        value = 340
        at = 2026-02-01
        note = "January invoices"

        [[checkin]]
        kpi = "acv"
        value = 12500.5
        at = 2026-03-01T10:00:00+02:00

        [[checkin]]
        kr = "CO-1.2"
        value = 360
        at = "2026-04-01T09:30:00"
        ''', "checkins.toml")
    assert load_checkins(path) == [
        Checkin("CO-1.2", 340.0, datetime(2026, 2, 1, tzinfo=UTC), "January invoices"),
        Checkin("acv", 12500.5, datetime(2026, 3, 1, 8, 0, tzinfo=UTC), ""),
        Checkin("CO-1.2", 360.0, datetime(2026, 4, 1, 9, 30, tzinfo=UTC), ""),
    ]


def test_empty_checkin_file_has_no_checkins(write: Write) -> None:
    assert load_checkins(write("# nothing yet\n", "checkins.toml")) == []


def test_checkin_naming_both_kr_and_kpi_is_an_error(write: Write) -> None:
    path = write('[[checkin]]\nkr = "CO-1.2"\nkpi = "acv"\nvalue = 1\nat = 2026-02-01\n', "checkins.toml")
    assert only_error(path) == f"{path}:2: CO-1.2.kr: name exactly one of kr or kpi"


def test_checkin_with_a_bad_date_is_an_error(write: Write) -> None:
    path = write('[[checkin]]\nkr = "CO-1.2"\nvalue = 1\nat = "first of May"\n', "checkins.toml")
    assert only_error(path).startswith(f"{path}:4: CO-1.2.at: 'first of May' is not a date")


def test_checkin_value_must_be_a_number(write: Write) -> None:
    path = write('[[checkin]]\nkr = "CO-1.2"\nvalue = "high"\nat = 2026-02-01\n', "checkins.toml")
    assert only_error(path) == f"{path}:3: CO-1.2.value: Input should be a valid number (got 'high')"


def test_checkin_unknown_key_is_an_error(write: Write) -> None:
    path = write('[[checkin]]\nkr = "CO-1.2"\nvalue = 1\nat = 2026-02-01\nby = "bob"\n', "checkins.toml")
    assert only_error(path).startswith(f"{path}:5: CO-1.2.by: unknown key 'by'")


def test_checkin_for_unknown_key_result_is_an_error_with_a_catalog(write: Write, valid_okrs: str) -> None:
    path = write('[[checkin]]\nkr = "CO-7.1"\nvalue = 1\nat = 2026-02-01\n', "checkins.toml")
    assert only_error(path, valid_okrs, write) == f"{path}:2: CO-7.1.kr: unknown key result 'CO-7.1'"


def test_checkin_for_a_jira_backed_key_result_is_an_error_with_a_catalog(write: Write,
                                                                         valid_okrs: str) -> None:
    path = write('[[checkin]]\nkr = "CO-1.1"\nvalue = 1\nat = 2026-02-01\n', "checkins.toml")
    assert only_error(path, valid_okrs, write) == (
        f"{path}:2: CO-1.1.kr: key result CO-1.1 takes its values from a jql_ratio source; "
        "check-ins are only for manual ones")


def test_checkin_for_manual_kpi_is_accepted_with_a_catalog(write: Write, valid_okrs: str) -> None:
    catalog = load_catalog(write(valid_okrs)).catalog
    path = write('[[checkin]]\nkpi = "acv"\nvalue = 1\nat = 2026-02-01\n', "checkins.toml")
    assert [c.subject_id for c in load_checkins(path, catalog)] == ["acv"]


def test_checkin_errors_are_all_collected(write: Write) -> None:
    path = write('[[checkin]]\nkr = "A"\nvalue = "x"\nat = 2026-02-01\n\n'
                 '[[checkin]]\nvalue = 2\nat = 2026-02-01\n', "checkins.toml")
    with pytest.raises(CatalogError) as caught:
        load_checkins(path)
    assert [(p.line, p.subject, p.field) for p in caught.value.problems] == [
        (3, "A", "value"), (6, "checkin[1]", "kr")]


@pytest.mark.parametrize(("line", "field", "fragment"), [
    ("value = 1e308\nat = 2026-02-01", "value", "value 1e+308 is out of range"),
    ("value = -2e15\nat = 2026-02-01", "value", "is out of range"),
    ("value = 1\nat = 9999-12-31T23:59:59-05:00", "at", "9999-12-31T23:59:59-05:00 is out of range"),
    ("value = 1\nat = 0001-01-01T00:00:00+01:00", "at", "is out of range"),
    ('value = 1\nat = "3000-01-01"', "at", "out of range: dates must lie between 1900-01-01 and 2999-12-31"),
])
def test_absurd_checkin_values_and_dates_are_refused_on_their_line(write: Write, line: str, field: str,
                                                                    fragment: str) -> None:
    path = write(f'[[checkin]]\nkr = "CO-1.2"\n{line}\n', "checkins.toml")
    error = only_error(path)
    wanted = 3 if field == "value" else 4
    assert error.startswith(f"{path}:{wanted}: CO-1.2.{field}: "), error
    assert fragment in error
