"""Which KRs and KPIs have gone silent: no fresh value for longer than their source kind allows.

Pure: it takes the catalog, when each subject's newest value was taken and the limits, and says
who is silent (with the reason shown next to the stale mark) and who was heard from in time.
Silence is never green: a KR that stops getting values is flagged instead of keeping its last
colour. A KR is only expected to get values while its objective's cycle runs; KPIs always are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from okrbridge.cycles import FiscalCalendar
from okrbridge.domain import Catalog, SourceKind

SILENCE_PREFIX = "no fresh value"
"""How every silence reason starts, so a silence mark is told apart from a sync failure's."""


@dataclass(frozen=True)
class SilenceVerdict:
    """Silent subjects with their reasons, the instant each one's silence counts from (its last
    value, or its cycle's start when it never had one), and the subjects heard from in time."""

    silent: dict[str, str] = field(default_factory=dict)
    heard: list[str] = field(default_factory=list)
    since: dict[str, datetime] = field(default_factory=dict)


def _moment(value: datetime) -> str:
    """A reason's time, to the minute and in UTC, so it reads the same on every check."""
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _reason(since: datetime | None, expected_from: datetime, days: float, kind: SourceKind) -> str:
    """Why a subject is silent; it stays the same text on every check until a value arrives."""
    limit = f"checked in every {days:g} days" if kind is SourceKind.MANUAL else f"stale after {days:g} days"
    if since is None:
        return f"{SILENCE_PREFIX}: none stored since {_moment(expected_from)} ({limit})"
    return f"{SILENCE_PREFIX} since {_moment(since)} ({limit})"


def find_silence(catalog: Catalog, calendar: FiscalCalendar, last_values: Mapping[str, datetime],
                 now: datetime, limit_days: Callable[[SourceKind], float]) -> SilenceVerdict:
    """Judge every KR of a running cycle and every KPI at `now`.

    `last_values` is when each subject's newest value was taken; `limit_days(kind)` how many days
    a subject of that source kind may go without one (manual ones: the check-in cadence). A KR
    with no value at all is judged from its cycle's start; a KPI with none yet shows "no value"
    (never a colour) and is not judged. KRs of cycles not running are not expected to speak.
    """
    verdict = SilenceVerdict()
    expected: list[tuple[str, SourceKind, datetime]] = []
    for objective in catalog.objectives:
        cycle = calendar.parse(objective.cycle)
        for kr in objective.key_results:
            if cycle.contains(now):
                expected.append((kr.id, kr.source.kind, cycle.starts_at))
            else:
                verdict.heard.append(kr.id)  # not expected to speak: an old silence mark is lifted
    expected += [(kpi.id, kpi.source.kind, last_values[kpi.id])
                 for kpi in catalog.kpis if kpi.id in last_values]
    for subject_id, kind, expected_from in expected:
        days = limit_days(kind)
        since = last_values.get(subject_id)
        if now - (since or expected_from) > timedelta(days=days):
            verdict.silent[subject_id] = _reason(since, expected_from, days, kind)
            verdict.since[subject_id] = since or expected_from
        else:
            verdict.heard.append(subject_id)
    return verdict
