"""Domain objects as JSON data, and the content hash that tells whether one changed.

The catalog tables keep each objective, key result and KPI as data (`definition`) so history keeps
what an archived item meant, and a hash of that data so an unchanged item is not rewritten on every
load. The hash is over canonical JSON (sorted keys, no whitespace), so it depends only on content.
The whole catalog is kept as data too, beside the hash of the okrs.toml it came from
(`catalog_data`, `catalog_from_data`), so a read-only command need not parse an unchanged file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from okrbridge.cycles import FiscalCalendar
from okrbridge.domain import (
    Aggregate,
    Catalog,
    Direction,
    Initiatives,
    KeyResult,
    Kpi,
    Level,
    Measure,
    MeasureKind,
    Objective,
    Source,
    SourceKind,
)


def to_data(value: Any) -> Any:
    """A JSON-ready copy of a domain value: dataclasses to dicts, enums to values, tuples to lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_data(v) for k, v in value.items()}
    return value


def objective_definition(objective: Objective) -> dict[str, Any]:
    """The objective as data, its key results by id (each KR keeps its own row and definition).

    Nesting whole key results here would mark the objective changed whenever any KR changes;
    the ids still record which KRs it has, in file order.
    """
    data = to_data(dataclasses.replace(objective, key_results=()))
    data["key_results"] = [kr.id for kr in objective.key_results]
    return dict(data)


def key_result_definition(key_result: KeyResult, objective_id: str) -> dict[str, Any]:
    """The key result as data, with the objective it sits under (the file's nesting decides)."""
    return dict(to_data(dataclasses.replace(key_result, objective_id=objective_id)))


def kpi_definition(kpi: Kpi) -> dict[str, Any]:
    """The KPI as data."""
    return dict(to_data(kpi))


def content_hash(definition: dict[str, Any]) -> str:
    """SHA-256 of the definition's canonical JSON."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


CATALOG_DATA_VERSION = 1
"""The shape `catalog_data` writes; a stored catalog of another shape is never read back. Bump it
when the catalog's shape or the loader's rules change: a file recorded by an older okrbridge is
then parsed, and so validated, again by the next command instead of being taken from the store."""


def catalog_data(catalog: Catalog) -> dict[str, Any]:
    """A whole validated catalog as JSON data, its calendar included (see `catalog_from_data`)."""
    return {
        "version": CATALOG_DATA_VERSION,
        "calendar": {"start_month": catalog.calendar.start_month, "named_by": catalog.calendar.named_by},
        "objectives": [to_data(o) for o in catalog.objectives],
        "kpis": [to_data(k) for k in catalog.kpis],
    }


def _members(enum: type[Enum]) -> dict[Any, Any]:
    """An enum's members by value: a dict lookup, where calling the enum costs microseconds each
    (a 10,000-KR catalog names some 40,000 of them)."""
    return {member.value: member for member in enum}


_SOURCE_KINDS, _AGGREGATES = _members(SourceKind), _members(Aggregate)
_MEASURE_KINDS, _DIRECTIONS, _LEVELS = _members(MeasureKind), _members(Direction), _members(Level)


def _source(data: dict[str, Any]) -> Source:
    """A Source from its data."""
    return Source(kind=_SOURCE_KINDS[data["kind"]], jql=data["jql"], numerator=data["numerator"],
                  denominator=data["denominator"], field=data["field"], agg=_AGGREGATES[data["agg"]],
                  kpi=data["kpi"], issue=data["issue"])


def _key_result(data: dict[str, Any]) -> KeyResult:
    """A KeyResult from its data."""
    m, i = data["measure"], data["initiatives"]
    measure = Measure(kind=_MEASURE_KINDS[m["kind"]], start=m["start"], target=m["target"], low=m["low"],
                      high=m["high"], baseline=m["baseline"], better=_DIRECTIONS[m["better"]],
                      partial_credit=m["partial_credit"])
    return KeyResult(id=data["id"], title=data["title"], measure=measure, objective_id=data["objective_id"],
                     owner=data["owner"], weight=data["weight"], unit=data["unit"],
                     source=_source(data["source"]),
                     initiatives=Initiatives(jql=i["jql"], epics=tuple(i["epics"]), label=i["label"]))


_UNREADABLE = (KeyError, TypeError, ValueError)
"""What building from data of another shape than this version's raises."""


def _kpi(data: dict[str, Any]) -> Kpi:
    """A Kpi from its data."""
    return Kpi(id=data["id"], name=data["name"], direction=_DIRECTIONS[data["direction"]], unit=data["unit"],
               baseline=data["baseline"], target=data["target"], source=_source(data["source"]),
               team=data["team"], owner=data["owner"], visible_to=tuple(data["visible_to"]))


def _objective(data: dict[str, Any]) -> Objective:
    """An Objective from its data, its key results built too."""
    return Objective(id=data["id"], title=data["title"], cycle=data["cycle"], level=_LEVELS[data["level"]],
                     team=data["team"], owner=data["owner"], parent=data["parent"],
                     visible_to=tuple(data["visible_to"]),
                     key_results=tuple(_key_result(kr) for kr in data["key_results"]))


def catalog_from_data(data: Any) -> Catalog | None:
    """The catalog `catalog_data` wrote, or None when `data` has another shape (an older okrbridge's)."""
    if not isinstance(data, dict) or data.get("version") != CATALOG_DATA_VERSION:
        return None
    try:
        objectives = tuple(_objective(o) for o in data["objectives"])
        kpis = tuple(_kpi(k) for k in data["kpis"])
        calendar = FiscalCalendar(data["calendar"]["start_month"], data["calendar"]["named_by"])
    except _UNREADABLE:
        return None  # not what this version writes: the caller parses the file instead
    return Catalog(objectives, kpis, calendar)


class UnreadableSubject(ValueError):
    """Catalog data in which one subject cannot be told (not the shape this version writes)."""


@dataclass(frozen=True)
class RecordedCatalog:
    """The catalog data `catalog_data` wrote, in this version's shape: built whole, or one subject alone.

    Building 10,000 key results takes a fifth of a second; finding one takes a walk over the data.
    """

    data: dict[str, Any]

    @classmethod
    def of(cls, data: Any) -> RecordedCatalog | None:
        """The recorded catalog, or None when `data` was written in another version's shape."""
        if not isinstance(data, dict) or data.get("version") != CATALOG_DATA_VERSION:
            return None
        return cls(data)

    def catalog(self) -> Catalog | None:
        """The whole catalog, or None when the data does not hold what this version writes."""
        return catalog_from_data(self.data)

    def subject(self, subject_id: str) -> KeyResult | Kpi | None:
        """The key result or KPI `subject_id`, built alone, or None when the catalog has no such id.

        UnreadableSubject when the data does not hold what this version writes.
        """
        try:
            for objective in self.data["objectives"]:
                for key_result in objective["key_results"]:
                    if key_result["id"] == subject_id:
                        return _key_result(key_result)
            for kpi in self.data["kpis"]:
                if kpi["id"] == subject_id:
                    return _kpi(kpi)
        except _UNREADABLE as exc:
            raise UnreadableSubject(f"recorded catalog data of another shape ({exc!r})") from exc
        return None
