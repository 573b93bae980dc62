"""Plain-text and JSON-ready renderings of reports, snapshots and problems for the command line.

Pure functions: data in, strings or plain dicts out. Every value shown says where it came from
(the source kind and, for Jira-backed values, the JQL and counts) and when.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

from okrbridge.lint import Problem
from okrbridge.report import KpiGrade, KrGrade, ObjectiveGrade, PeriodReport
from okrbridge.safe_text import printable

if TYPE_CHECKING:  # only a type here: rendering must not load the store (SQLAlchemy) to start
    from okrbridge.store import Snapshot


def format_value(value: float | None, unit: str = "") -> str:
    """A value with its unit: `$400`, `2.31 %`, `17`; `—` when there is none."""
    if value is None:
        return "—"
    text = f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"
    unit = printable(unit)
    if unit in ("$", "€", "£"):
        return f"{unit}{text}"
    return f"{text} {unit}".rstrip() if unit else text


def _score(score: float | None) -> str:
    """A score to two places, or `—`."""
    return "  —  " if score is None else f"{score:.2f} "


def _day(moment: datetime | None) -> str:
    """The date part of an instant, or `never`."""
    return moment.date().isoformat() if moment else "never"


def _grade(value: str, score: float | None, status: str, pace: str) -> str:
    """The fixed-width numbers part of a row: value, score, status, pace."""
    return f"{value:>10}  {_score(score)} {status:<9}  {pace:<11}"


def _kr_lines(kr: KrGrade) -> list[str]:
    """A key result row with its full title, then how and when its value was obtained."""
    how = printable(kr.explanation.describe()) if kr.explanation is not None else "no value yet"
    numbers = _grade(format_value(kr.value, kr.unit), kr.score, kr.status.value, kr.pace.value)
    return [f"  {printable(kr.id):<12}{numbers}{printable(kr.title)}",
            f"  {'':<12}{'':>10}  as of {_day(kr.as_of)}: {how}"]


def _objective_lines(objective: ObjectiveGrade) -> list[str]:
    """An objective row followed by its key results."""
    where = printable(" · ".join(filter(None, [objective.level.value, objective.team,
                                               f"cycle {objective.cycle}"])))
    grade = _grade("", objective.score, objective.status.value, objective.pace.value)
    head = f"{printable(objective.id):<14}{grade}{printable(objective.title)}  ({where})"
    return [head, *(line for kr in objective.krs for line in _kr_lines(kr))]


def _kpi_line(kpi: KpiGrade) -> str:
    """One KPI row."""
    grade = _grade(format_value(kpi.value, kpi.unit), kpi.score, kpi.status.value, "")
    return (f"  {printable(kpi.id):<12}{grade}"
            f"{printable(kpi.name)}, as of {_day(kpi.as_of)}")


def report_text(report: PeriodReport) -> str:
    """A period's grades as a readable table; every text from a file or Jira is escaped (printable)."""
    last_day = report.end.toordinal() - 1
    lines = [f"== {report.period} ({report.kind.value}, {report.start} – "
             f"{datetime.fromordinal(last_day).date()}), graded as of {report.as_of:%Y-%m-%d %H:%M} UTC"]
    if not report.objectives:
        lines.append("  no objective's cycle overlaps this period")
    for objective in report.objectives:
        lines.extend(_objective_lines(objective))
    if report.kpis:
        lines.append("KPIs")
        lines.extend(_kpi_line(k) for k in report.kpis)
    return "\n".join(lines) + "\n"


def snapshot_line(snapshot: Snapshot, score: float | None) -> str:
    """One snapshot: when first seen, value, its `score` (from `grading.score_of`), how the value was
    obtained (control characters in queries, statuses or notes escaped), and when last confirmed."""
    run = f" run {snapshot.sync_run_id}" if snapshot.sync_run_id else ""
    confirmed = (f"  last confirmed {snapshot.confirmed_at:%Y-%m-%d %H:%M}"
                 if snapshot.confirmed_at > snapshot.taken_at else "")
    return (f"{printable(snapshot.subject_id)}  {snapshot.taken_at:%Y-%m-%d %H:%M}  "
            f"value {format_value(snapshot.value):>10}  score {_score(score)} "
            f"{printable(snapshot.source_kind)}{run}  {printable(snapshot.explanation.describe())}"
            f"{confirmed}")


def snapshot_dict(snapshot: Snapshot, score: float | None) -> dict[str, Any]:
    """A snapshot as JSON-ready data, with its `score` (from `grading.score_of`) and explanation."""
    return {
        "id": snapshot.id, "subject_id": snapshot.subject_id, "subject_kind": str(snapshot.subject_kind),
        "taken_at": snapshot.taken_at.isoformat(), "value": snapshot.value, "score": score,
        "source_kind": snapshot.source_kind, "explanation": snapshot.explanation.to_dict(),
        "sync_run_id": snapshot.sync_run_id, "note": snapshot.note, "author": snapshot.author,
        "confirmed_at": snapshot.confirmed_at.isoformat(), "confirmed_run_id": snapshot.confirmed_run_id,
    }


def problem_dict(problem: Problem) -> dict[str, Any]:
    """A catalog problem as JSON-ready data."""
    return {**dataclasses.asdict(problem), "text": str(problem)}
