"""Who has gone silent: limits per source kind, check-in cadence for manual KRs, running cycles only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from okrbridge.cycles import FiscalCalendar
from okrbridge.domain import SourceKind
from okrbridge.staleness import find_silence
from tests.store.support import sample_catalog

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
LIMITS = {SourceKind.JQL_COUNT: 3, SourceKind.MANUAL: 7, SourceKind.MILESTONE: 14, SourceKind.JQL_RATIO: 2}


def _verdict(last_values: dict[str, datetime], now: datetime = NOW):  # type: ignore[no-untyped-def]
    """find_silence over the sample catalog (CO-1.1 jql_count, CO-1.2 manual, T-1.1 milestone in
    2026-Q1, KPI web-conversion jql_ratio) with the limits above."""
    return find_silence(sample_catalog(), FiscalCalendar(), last_values, now, LIMITS.__getitem__)


def test_each_source_kind_goes_stale_after_its_own_limit() -> None:
    verdict = _verdict({
        "CO-1.1": NOW - timedelta(days=3, minutes=1),   # jql_count, limit 3 days: silent
        "CO-1.2": NOW - timedelta(days=6),              # manual, checked in every 7 days: fine
        "T-1.1": NOW - timedelta(days=13),              # milestone, limit 14 days: fine
        "web-conversion": NOW - timedelta(days=2, hours=1),  # jql_ratio, limit 2 days: silent
    })
    assert verdict.silent == {
        "CO-1.1": "no fresh value since 2026-03-17 11:59 UTC (stale after 3 days)",
        "web-conversion": "no fresh value since 2026-03-18 11:00 UTC (stale after 2 days)",
    }
    assert sorted(verdict.heard) == ["CO-1.2", "T-1.1"]


def test_a_manual_kr_is_judged_by_its_check_in_cadence() -> None:
    verdict = _verdict({"CO-1.2": NOW - timedelta(days=8)})
    assert verdict.silent["CO-1.2"] == "no fresh value since 2026-03-12 12:00 UTC (checked in every 7 days)"


def test_a_kr_with_no_value_is_silent_once_its_cycle_is_older_than_the_limit() -> None:
    early = _verdict({}, now=datetime(2026, 1, 2, tzinfo=UTC))   # one day into 2026: not yet
    assert "CO-1.1" in early.heard and "CO-1.1" not in early.silent
    late = _verdict({})
    assert late.silent["CO-1.1"] == (
        "no fresh value: none stored since 2026-01-01 00:00 UTC (stale after 3 days)")


def test_a_silence_counts_from_the_last_value_or_from_the_cycle_start_without_one() -> None:
    verdict = _verdict({"CO-1.2": NOW - timedelta(days=8)})
    year_start = datetime(2026, 1, 1, tzinfo=UTC)  # CO-1.1's cycle (2026) and T-1.1's (2026-Q1)
    assert verdict.since == {"CO-1.1": year_start, "T-1.1": year_start, "CO-1.2": NOW - timedelta(days=8)}


def test_krs_of_a_cycle_that_is_over_are_not_expected_to_speak() -> None:
    after_q1 = _verdict({"T-1.1": datetime(2026, 2, 1, tzinfo=UTC)}, now=datetime(2026, 5, 1, tzinfo=UTC))
    assert "T-1.1" not in after_q1.silent and "T-1.1" in after_q1.heard


def test_a_kpi_with_no_value_yet_is_not_judged() -> None:
    verdict = _verdict({})
    assert "web-conversion" not in verdict.silent and "web-conversion" not in verdict.heard


def test_the_reason_reads_the_same_on_every_check_until_a_value_arrives() -> None:
    values = {"CO-1.1": NOW - timedelta(days=5)}
    assert _verdict(values).silent == _verdict(values, now=NOW + timedelta(hours=5)).silent
