"""`okrbridge export --csv`: one row per key result the operator may see (all of them), with the
views' numbers and words, quoted for spreadsheets and safe from formula injection."""

from __future__ import annotations

import csv
import io
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from okrbridge.catalog import bundled_sample
from okrbridge.cli import cli
from okrbridge.cli.export import COLUMNS, kr_rows, operator, safe_cell, write_csv
from okrbridge.cycles import FiscalCalendar
from okrbridge.domain import Catalog, KeyResult, Measure, MeasureKind, Objective, Reading
from okrbridge.report import grade_period
from okrbridge.views import ViewData, reader_view


def _parse(text: str) -> list[dict[str, str]]:
    """The CSV's rows as dicts by header."""
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_the_export_has_every_kr_of_the_sample_with_its_grade(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["checkin", "CO-1.2", "400", "--at", "2026-06-15"]).exit_code == 0
    result = runner.invoke(cli, ["export", "--csv", "--period", "2026"])
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in _parse(result.stdout)}
    with bundled_sample("okrs.toml").open("rb") as file:  # counted from the file, not from okrbridge
        sample = tomllib.load(file)
    every = {kr["id"] for o in sample["objective"] for kr in o["key_result"]}
    assert set(rows) == every  # restricted objectives' KRs too: the operator sees everything
    co = rows["CO-1.2"]  # 400 on a 300 → 500 increase scores (400 - 300) / 200 = 0.5: at risk by default
    assert (co["objective"], co["value"], co["score"], co["status"], co["stale"]) == (
        "CO-1", "400", "0.5", "at risk", "no")
    assert co["as_of"].startswith("2026-06-15") and co["how obtained"] == "check-in"
    assert co["target"] == "$300 → $500"


def test_export_writes_the_output_file_and_needs_a_format(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "krs.csv"
    assert runner.invoke(cli, ["checkin", "CO-1.2", "400", "--at", "2026-06-15"]).exit_code == 0  # a store
    result = runner.invoke(cli, ["export", "--csv", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(",".join(COLUMNS).encode() + b"\r\n")
    refused = runner.invoke(cli, ["export"])
    assert refused.exit_code == 2 and "--csv" in refused.output
    missing = runner.invoke(cli, ["export", "--csv", "--output", str(tmp_path / "no" / "such" / "x.csv")])
    assert missing.exit_code == 1 and "--output" in missing.output


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tTab",
                                  "\rCR"])
def test_a_cell_that_would_start_a_formula_is_kept_as_text(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert safe_cell("Grow revenue") == "Grow revenue"


def test_hostile_titles_survive_the_round_trip_quoted_and_defused() -> None:
    title = '=cmd|"/c calc"!A1, with "quotes"\nand a line break'
    kr = KeyResult("O-1.1", title, Measure(MeasureKind.INCREASE, start=0, target=10), "O-1", owner="@boss")
    objective = Objective("O-1", "Grow", "2026", visible_to=("secret",), key_results=(kr,))
    catalog = Catalog(objectives=(objective,))
    readings = {"O-1.1": [Reading("O-1.1", datetime(2026, 3, 1, tzinfo=UTC), -2.5)]}
    period = FiscalCalendar().parse("2026")
    report = grade_period(catalog, readings, period, now=datetime(2026, 4, 1, tzinfo=UTC))
    view = reader_view(ViewData(catalog, report, readings), operator(catalog))
    buffer = io.StringIO(newline="")
    write_csv(kr_rows(view), buffer)
    (row,) = _parse(buffer.getvalue())
    assert (row["title"], row["owner"]) == ("'" + title, "'@boss")
    assert (row["value"], row["score"]) == ("-2.5", "0")  # numbers stay numbers; below start scores 0
