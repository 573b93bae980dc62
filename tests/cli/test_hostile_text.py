"""Hostile text (escape sequences, forged lines, bidi overrides) never reaches a terminal or a title raw."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from okrbridge.cli import cli
from okrbridge.cycles import FiscalCalendar
from okrbridge.domain import Catalog, KeyResult, Kpi, Measure, MeasureKind, Objective, Reading
from okrbridge.explanation import Explanation
from okrbridge.report import grade_period
from okrbridge.safe_text import one_line, printable, unsafe_character
from okrbridge.store import Snapshot, SubjectKind
from okrbridge.sync import SyncReport
from okrbridge.sync_links import LINK_TITLE_LIMIT, link_title
from okrbridge.textout import report_text, snapshot_line
from okrbridge.workspace import sync_summary as summary_text

FORGED = "Grow\r\nKR FAKE-9 · injected · 1.00 on track"
HOSTILE = ["\x1b[2J\x1b]0;pwned\x07", FORGED, "a\u202eevil", "x\u2028y", "bell\x07", "nel\x85", "del\x7f"]


def no_control_characters(text: str) -> None:
    """Every line break in `text` is one the renderer made; nothing else is a control character."""
    for line in text.split("\n"):
        assert unsafe_character(line) is None, repr(line)


@pytest.mark.parametrize("title", HOSTILE)
def test_grades_text_escapes_titles_ids_units_and_queries(title: str) -> None:
    measure = Measure(MeasureKind.INCREASE, start=0, target=10)
    kr = KeyResult("CO-1.1", title, measure, "CO-1", unit=title)
    kpi = Kpi("k", title, target=5)
    catalog = Catalog(objectives=(Objective("CO-1", title, "2026", team=title, key_results=(kr,)),),
                      kpis=(kpi,))
    detail = Explanation("jql_count", jql=f"summary ~ '{title}'", count=3)
    readings = {"CO-1.1": [Reading("CO-1.1", datetime(2026, 3, 1, tzinfo=UTC), 3.0, detail)],
                "k": [Reading("k", datetime(2026, 3, 1, tzinfo=UTC), 4.0)]}
    text = report_text(grade_period(catalog, readings, FiscalCalendar().parse("2026-Q1"),
                                    now=datetime(2026, 4, 2, tzinfo=UTC)))
    no_control_characters(text)
    assert printable(title) in text
    assert not any(line.startswith("KR FAKE-9") for line in text.split("\n"))


@pytest.mark.parametrize("note", HOSTILE)
def test_history_lines_escape_notes(note: str) -> None:
    taken = datetime(2026, 3, 1, tzinfo=UTC)
    snapshot = Snapshot(1, "CO-1.2", SubjectKind.KR, taken, 4.0, "manual", Explanation("manual", note=note),
                        None, note, None, taken, None)
    line = snapshot_line(snapshot, 0.4)
    assert "\n" not in line and unsafe_character(line) is None
    assert line.endswith(printable(f'check-in "{note}"'))


def test_the_sync_summary_escapes_jira_messages_and_queries() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    report = SyncReport(run_id=1, dry_run=False, deployment="cloud", started_at=start,
                        failed={"CO-1.1": FORGED}, link_errors={"ENG-1 CO-1.1": "\x1b[31mred"},
                        synced=["CO-1.2"])
    no_control_characters(summary_text(report))
    dry = SyncReport(run_id=None, dry_run=True, deployment="-", started_at=start,
                     planned=[f"count [{FORGED}]"])
    assert summary_text(dry).count("\n") == 1


@pytest.mark.parametrize("title", [*HOSTILE, "word " * 200])
def test_remote_link_titles_are_one_clean_line_within_jiras_limit(title: str) -> None:
    kr = KeyResult("CO-1.1", title, Measure(MeasureKind.INCREASE, start=0, target=10), "CO-1")
    made = link_title(kr, 0.62, "at risk")
    assert unsafe_character(made) is None and len(made) <= LINK_TITLE_LIMIT
    assert made.startswith("KR CO-1.1 · ") and made.endswith(" · 0.62 at risk")


def test_one_line_collapses_breaks_and_cuts_with_an_ellipsis() -> None:
    assert one_line("a\r\n  b\x1b[0m", 50) == "a b [0m"
    assert one_line("abcdef", 4) == "abc…"


def test_a_checkin_note_with_an_escape_sequence_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["checkin", "CO-1.2", "5", "--note", "ok\x1b[2J"])
    assert result.exit_code == 1 and "control character U+001B" in result.output
    assert runner.invoke(cli, ["history", "CO-1.2"]).output == "CO-1.2: no snapshots yet\n"
