"""What an `okrs.toml` or check-in file may say: its shape as strict pydantic models, and the rules
the loader checks by hand on top (which numbers each measure kind uses, which fields each source kind
needs, what an id and a Jira issue key look like).

The models only check shape and types: every key is known, every value has the TOML type it should
(strict: `start = "2"` is an error, not 2.0), numbers are finite. Meaning is checked in catalog.py,
which turns these models into the domain objects of domain.py. Entries below the top level are kept
as plain dicts here (`list[dict[str, Any]]`) so the loader validates each one on its own and can
report every broken entry, not just the first. `explain` turns a pydantic error into a sentence about
the TOML key it concerns.

The models keep their underscore names (`_SourceIn`, ...): pydantic quotes the class name in some
messages ("Input should be a valid dictionary or instance of _SourceIn"), which users see.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from okrbridge.cycles import user_instant
from okrbridge.domain import EVERYONE, Aggregate, Direction, Level, MeasureKind, SourceKind

_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class _SourceIn(BaseModel):
    """`source = { kind = ..., ... }` of a key result or KPI; SOURCE_NEEDS says which fields a kind needs."""

    model_config = _STRICT
    kind: SourceKind = Field(strict=False)
    jql: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    field: str | None = None
    agg: Aggregate | None = Field(default=None, strict=False)
    kpi: str | None = None
    issue: str | None = None


class _InitiativesIn(BaseModel):
    """`initiatives = { jql = ..., label = ..., epics = [...] }`: the epics that drive a key result."""

    model_config = _STRICT
    jql: str | None = None
    label: str | None = None
    epics: list[str] = []


class _KeyResultIn(BaseModel):
    """One `[[objective.key_result]]`; MEASURE_USES says which numbers a measure kind uses."""

    model_config = _STRICT
    id: str
    title: str
    measure: MeasureKind = Field(strict=False)
    owner: str | None = None
    weight: float = 1.0
    unit: str = ""
    start: float | None = None
    target: float | None = None
    low: float | None = None
    high: float | None = None
    baseline: float | None = None
    better: Direction = Field(default=Direction.INCREASE, strict=False)
    partial_credit: bool = False
    source: _SourceIn = Field(default_factory=lambda: _SourceIn(kind=SourceKind.MANUAL))
    initiatives: _InitiativesIn | None = None


class _ObjectiveIn(BaseModel):
    """One `[[objective]]`; its key results stay raw so each is validated (and reported) on its own."""

    model_config = _STRICT
    id: str
    title: str
    cycle: str
    level: Level = Field(default=Level.TEAM, strict=False)
    team: str = ""
    owner: str | None = None
    parent: str = ""
    visible_to: list[str] = [EVERYONE]
    key_result: list[dict[str, Any]] = []


class _KpiIn(BaseModel):
    """One `[[kpi]]`: an ongoing health metric with a baseline, a target or both."""

    model_config = _STRICT
    id: str
    name: str
    direction: Direction = Field(default=Direction.INCREASE, strict=False)
    unit: str = ""
    baseline: float | None = None
    target: float | None = None
    source: _SourceIn = Field(default_factory=lambda: _SourceIn(kind=SourceKind.MANUAL))
    team: str = ""
    owner: str | None = None
    visible_to: list[str] = [EVERYONE]


class _FileIn(BaseModel):
    """The top level of an `okrs.toml`: the fiscal calendar, then `[[kpi]]` and `[[objective]]` entries."""

    model_config = _STRICT
    fiscal_year_start: int = Field(default=1, ge=1, le=12)
    fiscal_year_named_by: Literal["end", "start"] = "end"
    kpi: list[dict[str, Any]] = []
    objective: list[dict[str, Any]] = []


class _CheckinIn(BaseModel):
    """One `[[checkin]]`: a manual value for a key result (`kr`) or a KPI (`kpi`)."""

    model_config = _STRICT
    kr: str | None = None
    kpi: str | None = None
    value: float
    at: Any  # a TOML date, date-time or string; checkin_moment says what is wrong with anything else
    note: str = ""


class _CheckinFileIn(BaseModel):
    """The top level of a check-in file: only `[[checkin]]` entries."""

    model_config = _STRICT
    checkin: list[dict[str, Any]] = []


NESTED: dict[str, type[BaseModel]] = {"source": _SourceIn, "initiatives": _InitiativesIn}
"""The inline tables of an entry, by key: an unknown key inside one lists that table's keys."""

ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""An objective, KR or KPI id (matched whole): it becomes a Jira label (kr-CO-1.1), a remote link's
globalId (okrbridge:kr=CO-1.1), part of Confluence page titles and URLs, and a snapshot key."""

MAX_ID_LENGTH = 64
"""The longest id: far inside every place an id goes (Jira labels and remote-link globalIds hold 255
characters, Confluence titles 255 with the title beside the id, URL paths), and still readable."""

MULTILINE_TEXT = frozenset({"jql", "numerator", "denominator", "note"})
"""The text fields that may hold line breaks and tabs (queries and notes written across lines); every
other text field, and these for any other control character, is refused when it holds one."""

ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-[1-9][0-9]*$")
"""A Jira issue key such as ENG-12."""

SOURCE_NEEDS: dict[SourceKind, tuple[str, ...]] = {
    SourceKind.MANUAL: (), SourceKind.JQL_COUNT: ("jql",), SourceKind.JQL_RATIO: ("numerator", "denominator"),
    SourceKind.JQL_SUM: ("jql", "field"), SourceKind.KPI: ("kpi",), SourceKind.MILESTONE: ("issue",),
}
"""The fields each source kind needs; any other field is an error (`agg` is optional for jql_sum)."""

MEASURE_USES: dict[MeasureKind, tuple[str, ...]] = {
    MeasureKind.INCREASE: ("start", "target"), MeasureKind.DECREASE: ("start", "target"),
    MeasureKind.THRESHOLD: ("low", "high", "start"), MeasureKind.BASELINE: ("baseline", "better"),
    MeasureKind.MILESTONE: ("partial_credit",),
}
"""The keys each measure kind uses; the numbers among them are required, the others warned about."""

KPI_SOURCES = (SourceKind.MANUAL, SourceKind.JQL_COUNT, SourceKind.JQL_RATIO, SourceKind.JQL_SUM)
"""The source kinds a KPI may have (not `kpi` or `milestone`)."""

def checkin_moment(value: object) -> datetime:
    """A check-in time as an aware UTC datetime: dates are midnight UTC, naive times are UTC.

    Raises ValueError for anything that is not a date, a date-time or an ISO string of one, or that
    lies outside the instants cycles.user_instant accepts.
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if not isinstance(value, date):
        raise ValueError(f"{value!r} is not a date")
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min, tzinfo=UTC)
    return user_instant(value)


def explain(model: type[BaseModel], detail: Mapping[str, Any]) -> str:
    """A pydantic error of `model` as a sentence about the TOML key it concerns."""
    loc, kind, value = tuple(detail["loc"]), detail["type"], detail.get("input")
    key = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        owner = NESTED.get(str(loc[0]), model) if len(loc) == 2 else model
        allowed = ", ".join(owner.model_fields) if len(loc) <= 2 else ""
        return f"unknown key {key!r}" + (f"; allowed keys: {allowed}" if allowed else "")
    if kind == "missing":
        return f"missing required key {key!r}"
    if kind in ("enum", "literal_error"):
        what = "source kind" if loc == ("source", "kind") else key
        return f"unknown {what} {value!r}; allowed: {detail['ctx']['expected']}"
    if kind == "list_type" and isinstance(value, dict) and len(loc) == 1:
        return f"{key} must be an array of tables: write [[{key}]] for each entry"
    shown = repr(value)
    return f"{detail['msg']} (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
