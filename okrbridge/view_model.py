"""The shapes every renderer draws from: what one reader (an audience or a person) may see.

Built by `okrbridge.views` and only there; rendered by the Confluence pages, the terminal, the web
panel, dashboard and JSON API. Everything in a view is already cleared for its reader: a renderer
never filters. `to_dict` gives the JSON form (ISO-8601 times, enums as their values).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from okrbridge.audiences import Audience
from okrbridge.domain import Level, MeasureKind, Pace, Status


@dataclass(frozen=True)
class Query:
    """A JQL behind a value, with what it counts (`value`, `numerator`, `denominator`, `issue`)."""

    role: str
    jql: str


@dataclass(frozen=True)
class TrendPoint:
    """One stored value of a KR inside its cycle, up to the view's cut-off."""

    at: datetime
    value: float


@dataclass(frozen=True)
class InitiativeView:
    """A Jira epic that drives a key result, with its progress as last synced."""

    epic_key: str
    title: str
    status: str
    done: bool
    children_done: int
    children_total: int
    progress: float
    url: str


@dataclass(frozen=True)
class KrView:
    """A key result in detail: value against its goal, trend, forecast, staleness and evidence.

    `goal` reads like `2 → 2.5 %`, `between $40 and $60`, `at least 4 /5` or `done`; `how` says how
    the value was obtained; `queries` are the exact JQLs behind it and `epics_jql` the one that
    finds its initiatives. `stale` is set when the last sync of this KR failed, `stale_reason`
    says why (Jira's message).
    """

    id: str
    title: str
    objective_id: str
    owner: str | None
    unit: str
    measure: MeasureKind
    weight: float
    value: float | None
    value_text: str
    goal: str
    score: float | None
    status: Status
    pace: Pace
    as_of: datetime | None
    forecast: float | None
    forecast_text: str
    forecast_score: float | None
    stale: bool
    stale_reason: str | None
    how: str
    queries: tuple[Query, ...] = ()
    epics_jql: str | None = None
    trend: tuple[TrendPoint, ...] = ()
    initiatives: tuple[InitiativeView, ...] = ()


@dataclass(frozen=True)
class ObjectiveView:
    """An objective with its grade; `krs` holds its key results in a detail view, none in a summary.

    `parent_id`/`parent_title` are set only when the reader may see the parent, and `aligned`
    lists only the children the reader may see (id, title).
    """

    id: str
    title: str
    level: Level
    team: str
    owner: str | None
    cycle: str
    score: float | None
    status: Status
    pace: Pace
    kr_count: int
    stale: bool
    parent_id: str | None = None
    parent_title: str | None = None
    aligned: tuple[tuple[str, str], ...] = ()
    krs: tuple[KrView, ...] = ()


@dataclass(frozen=True)
class KpiView:
    """A KPI's latest value before the cut-off, with its levels and status."""

    id: str
    name: str
    team: str
    owner: str | None
    unit: str
    value: float | None
    value_text: str
    baseline_text: str
    target_text: str
    score: float | None
    status: Status
    as_of: datetime | None
    stale: bool
    stale_reason: str | None
    queries: tuple[Query, ...] = ()


@dataclass(frozen=True)
class LeftOut:
    """How many items of the view's scope its reader may not see (never which ones)."""

    objectives: int = 0
    kpis: int = 0

    def __bool__(self) -> bool:
        return bool(self.objectives or self.kpis)


@dataclass(frozen=True)
class View:
    """One audience's (or a person's personal) view of one period.

    `key_results` holds, in a personal view, the KRs the person owns in objectives they do not own.
    `as_of` is the report's cut-off (the period's end, or the moment of grading if that came
    first); `data_as_of` is the time of the latest value the view shows (None if it shows none),
    which, unlike `as_of`, stays put while no new data arrives.
    """

    key: str
    title: str
    detail: bool
    period: str
    start: date
    end: date
    as_of: datetime
    objectives: tuple[ObjectiveView, ...] = ()
    key_results: tuple[KrView, ...] = ()
    kpis: tuple[KpiView, ...] = ()
    left_out: LeftOut = LeftOut()
    audience: Audience | None = None
    data_as_of: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """The view as JSON-ready data."""
        return dict(plain(self))


@dataclass(frozen=True)
class PersonView:
    """What one person sees of a period: the views of their groups' audiences, then Personal."""

    person: str
    groups: tuple[str, ...]
    views: tuple[View, ...]
    personal: View

    def to_dict(self) -> dict[str, Any]:
        """The person's views as JSON-ready data."""
        return dict(plain(self))


def plain(data: Any) -> Any:
    """`data` as JSON-ready values: dataclasses become dicts, tuples lists, enums values."""
    if isinstance(data, Enum):
        return data.value
    if isinstance(data, datetime | date):
        return data.isoformat()
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return {f.name: plain(getattr(data, f.name)) for f in dataclasses.fields(data)}
    if isinstance(data, Mapping):
        return {str(key): plain(value) for key, value in data.items()}
    if isinstance(data, list | tuple | frozenset | set):
        items = [plain(item) for item in data]
        return sorted(items) if isinstance(data, frozenset | set) else items
    return data
