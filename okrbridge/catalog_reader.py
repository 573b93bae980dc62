"""The checks behind `okrbridge.catalog`: a parsed okrs.toml (or check-in file) entry by entry, every
problem placed on its line.

Shape and types are checked with pydantic per entry (the models are in catalog_schema.py), then the
meaning (numbers a measure needs, fields a source needs, ids, parents, KPI references, cycles) by
hand. `Lines` finds a key's line (tomlpos scans the text) only when a problem has to be placed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from functools import cached_property
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from okrbridge import catalog_schema as schema
from okrbridge.cycles import CycleError, FiscalCalendar
from okrbridge.domain import (
    EVERYONE,
    Aggregate,
    Catalog,
    Direction,
    Initiatives,
    KeyResult,
    Kpi,
    Measure,
    MeasureKind,
    Objective,
    Source,
    SourceKind,
)
from okrbridge.lint import Problem, Severity
from okrbridge.safe_text import UNSAFE_PATTERN, describe, unsafe_character
from okrbridge.tomlpos import Loc, TomlPositions, dotted, scan

__all__ = ["CatalogReader", "EntryReader", "Lines"]

_M = TypeVar("_M", bound=BaseModel)


def _num(value: float) -> str:
    """A number as people write it: 300, not 300.0."""
    return str(int(value)) if float(value).is_integer() else repr(value)


def _cut(text: str, limit: int = 40) -> str:
    """A long text shortened for a message: its start and an ellipsis."""
    return text if len(text) <= limit else f"{text[:limit - 1]}…"


def _blank(value: str | None) -> bool:
    """Whether an optional string says nothing."""
    return value is None or not value.strip()


def _a(word: str) -> str:
    """The word with its indefinite article: "an increase", "a decrease"."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _and(words: list[str]) -> str:
    """["low", "high", "start"] -> "low, high and start"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


# --------------------------------------------------------------------------- the loader


class Lines:
    """The positions of one TOML text's keys, scanned on first use (a clean file never needs them)."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def positions(self) -> TomlPositions:
        """Every key's line (see tomlpos.scan)."""
        return scan(self.text)

    def line_of(self, loc: Loc) -> int | None:
        """The line of `loc` or of its nearest enclosing entry (see TomlPositions.line_of)."""
        return self.positions.line_of(loc)


class EntryReader:
    """Collects problems for one file, placing each on a line."""

    def __init__(self, file: str, positions: Lines) -> None:
        self.file = file
        self.positions = positions
        self.problems: list[Problem] = []

    @property
    def errors(self) -> list[Problem]:
        """The problems so far that stop the file from loading."""
        return [p for p in self.problems if p.is_error]

    def report(self, subject: str | None, at: Loc, loc: Loc, message: str,
               severity: Severity = "error") -> None:
        """Record a problem about key `loc` of the entry at path `at` (whose id is `subject`)."""
        line = self.positions.line_of((*at, *loc)) if at or loc else None
        self.problems.append(Problem(severity, self.file, line, subject, dotted(loc) or None, message))

    def validate(self, model: type[_M], data: Any, subject: str | None, at: Loc) -> _M | None:
        """`data` as `model`, reporting every error; a retry without the failing keys keeps what is good.

        Text fields are checked for control characters too (see `check_text`).
        """
        try:
            entry = model.model_validate(data)
        except ValidationError as error:
            for detail in error.errors():
                self.report(subject, at, tuple(detail["loc"]), schema.explain(model, detail))
            failed = {detail["loc"][0] for detail in error.errors() if detail["loc"]}
            if not isinstance(data, dict):
                return None
            try:
                entry = model.model_validate({k: v for k, v in data.items() if k not in failed})
            except ValidationError:
                return None
        self.check_text(entry, subject, at, ())
        return entry

    def check_text(self, value: object, subject: str | None, at: Loc, loc: Loc) -> None:
        """Refuse control characters in every string of a validated entry, nested ones included.

        They would reach terminals, remote-link titles and pages verbatim (see safe_text); queries
        alone may span lines and hold tabs. One pattern search clears a clean string, so a
        10,000-KR file's texts are checked in a fraction of its parse.
        """
        if isinstance(value, str):
            if UNSAFE_PATTERN.search(value) is None:
                return
            allow = "\t\n\r" if loc and loc[-1] in schema.MULTILINE_TEXT else ""
            char = unsafe_character(value, allow=allow)
            if char is not None:
                self.report(subject, at, loc, f"{_cut(value)!r} holds the control character "
                            f"{describe(char)}; write plain text (control characters would reach "
                            "terminals and Jira verbatim)")
        elif isinstance(value, BaseModel):
            # a model's __dict__ holds its fields in declaration order, as model_fields lists them
            for name, item in value.__dict__.items():
                if item is not None and type(item) not in _NOT_TEXT:
                    self.check_text(item, subject, at, (*loc, name))
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                self.check_text(item, subject, at, (*loc, i))


_NOT_TEXT = frozenset({bool, int, float, dict})
"""Field types that hold no text to check (an entry's raw sub-tables are checked on their own)."""


class CatalogReader(EntryReader):
    """Turns a parsed okrs.toml into domain objects, checking meaning as well as shape."""

    def __init__(self, file: str, positions: Lines) -> None:
        super().__init__(file, positions)
        self.calendar = FiscalCalendar()
        self.ids: list[tuple[str, str, Loc]] = []       # every id, its kind and path, in file order
        self.where: dict[str, Loc] = {}                 # id -> path of its first entry
        self.kpi_refs: list[tuple[str, Loc, str]] = []  # (subject, path, KPI id) of `kpi` sources

    def read(self, data: dict[str, Any]) -> Catalog:
        """Every check; the catalog returned is only meaningful when no error was reported."""
        top = self.validate(schema._FileIn, data, None, ()) or schema._FileIn()
        self.calendar = FiscalCalendar(top.fiscal_year_start, top.fiscal_year_named_by)
        kpis = [k for i, raw in enumerate(top.kpi) if (k := self._kpi(raw, ("kpi", i)))]
        # each objective with the path of its entry: an objective whose id is unusable (blank) has
        # no entry in `where`, yet its parent still has to be checked and placed on a line
        placed: list[tuple[Objective, Loc]] = [(o, ("objective", i)) for i, raw in enumerate(top.objective)
                  if (o := self._objective(raw, ("objective", i)))]
        catalog = Catalog(tuple(o for o, _ in placed), tuple(kpis), self.calendar)
        self._check_ids()
        self._check_parents(placed)
        self._check_kpi_refs()
        if not top.objective and not top.kpi and not self.errors:
            # Opening a workspace archives whatever the file no longer names: an empty (or truncated)
            # file must not silently archive every objective and KPI recorded so far.
            self.report(None, (), (), "the file defines no [[objective]] and no [[kpi]]; loading it would "
                        "archive every objective and KPI recorded so far (add at least one entry)")
        return catalog

    def _register(self, raw: dict[str, Any], kind: str, at: Loc) -> str:
        """The entry's id for messages (or its position when it has none); remembers real ids."""
        raw_id = raw.get("id")
        if isinstance(raw_id, str) and raw_id.strip():
            self.ids.append((raw_id, kind, at))
            self.where.setdefault(raw_id, at)
            return raw_id
        return dotted(at)

    def _check_common(self, subject: str, at: Loc,
                      entry: schema._KpiIn | schema._ObjectiveIn | schema._KeyResultIn) -> None:
        """Checks every entry shares: a usable id, a title or name, and (not for KRs) an audience."""
        if not schema.ID.fullmatch(entry.id):
            self.report(subject, at, ("id",), f"id {_cut(entry.id)!r} must be ASCII letters, digits, "
                        "'.', '_' or '-', starting with a letter or digit (it becomes a Jira label such as "
                        "kr-CO-1.1)")
        elif len(entry.id) > schema.MAX_ID_LENGTH:
            self.report(subject, at, ("id",), f"id {_cut(entry.id)!r} is {len(entry.id)} characters; the "
                        f"limit is {schema.MAX_ID_LENGTH} (ids go into Jira labels, remote links, page "
                        "titles and URLs)")
        label = "name" if isinstance(entry, schema._KpiIn) else "title"
        if _blank(getattr(entry, label)):
            self.report(subject, at, (label,), f"the {label} is empty")
        if isinstance(entry, schema._KeyResultIn):
            return
        if not entry.visible_to:
            self.report(subject, at, ("visible_to",), f"name at least one group, or [\"{EVERYONE}\"]")
        for i, group in enumerate(entry.visible_to):
            if _blank(group):
                self.report(subject, at, ("visible_to", i), "a group name is empty")

    def _source(self, subject: str, at: Loc, src: schema._SourceIn, allowed: Iterable[SourceKind]) -> Source:
        """The domain Source, once its kind is checked as allowed here and its fields as exactly
        those the kind needs."""
        allowed = tuple(allowed)
        if src.kind not in allowed:
            self.report(subject, at, ("source", "kind"), f"{_a(src.kind.value)} source is not allowed here; "
                        f"allowed: {', '.join(k.value for k in allowed)}")
        needs = schema.SOURCE_NEEDS[src.kind]
        for name in needs:
            if _blank(getattr(src, name)):
                self.report(subject, at, ("source", name), f"{_a(src.kind.value)} source needs {name}")
        for name in ("jql", "numerator", "denominator", "field", "kpi", "issue", "agg"):
            unused = name not in needs and not (name == "agg" and src.kind is SourceKind.JQL_SUM)
            if unused and getattr(src, name) is not None:
                self.report(subject, at, ("source", name), f"{_a(src.kind.value)} source does not use {name}")
        if src.kind is SourceKind.MILESTONE and src.issue and not schema.ISSUE_KEY.fullmatch(src.issue):
            self.report(subject, at, ("source", "issue"), f"{src.issue!r} is not a Jira issue key like ENG-1")
        if src.kind is SourceKind.KPI and src.kpi:
            self.kpi_refs.append((subject, at, src.kpi))
        return Source(kind=src.kind, jql=src.jql, numerator=src.numerator, denominator=src.denominator,
                      field=src.field, agg=src.agg or Aggregate.SUM, kpi=src.kpi, issue=src.issue)

    def _kpi(self, raw: dict[str, Any], at: Loc) -> Kpi | None:
        """One [[kpi]] entry as a Kpi, or None when it is too broken to build."""
        subject = self._register(raw, "KPI", at)
        entry = self.validate(schema._KpiIn, raw, subject, at)
        if entry is None:
            return None
        self._check_common(subject, at, entry)
        source = self._source(subject, at, entry.source, schema.KPI_SOURCES)
        if entry.baseline is None and entry.target is None:
            self.report(subject, at, ("target",), "a KPI needs a baseline, a target or both to be judged "
                        "against")
        elif entry.baseline is not None and entry.target is not None:
            worse = entry.target < entry.baseline if entry.direction is Direction.INCREASE \
                else entry.target > entry.baseline
            if worse:
                self.report(subject, at, ("target",), f"target {_num(entry.target)} is worse than baseline "
                            f"{_num(entry.baseline)} for a KPI that should {entry.direction.value}")
        return Kpi(id=entry.id, name=entry.name, direction=entry.direction, unit=entry.unit,
                   baseline=entry.baseline, target=entry.target, source=source, team=entry.team,
                   owner=entry.owner or None, visible_to=tuple(entry.visible_to))

    def _objective(self, raw: dict[str, Any], at: Loc) -> Objective | None:
        """One [[objective]] entry with its key results, or None when it is too broken to build."""
        subject = self._register(raw, "objective", at)
        entry = self.validate(schema._ObjectiveIn, raw, subject, at)
        # key results are read even when their objective is broken, so their own problems show too
        raw_krs = entry.key_result if entry else raw.get("key_result", [])
        key_results = [kr for i, kr_raw in enumerate(raw_krs if isinstance(raw_krs, list) else [])
                       if isinstance(kr_raw, dict)
                       and (kr := self._key_result(kr_raw, (*at, "key_result", i)))]
        if entry is None:
            return None
        self._check_common(subject, at, entry)
        cycle = entry.cycle
        try:
            cycle = self.calendar.parse(entry.cycle).label
        except CycleError as error:
            self.report(subject, at, ("cycle",), str(error))
        return Objective(id=entry.id, title=entry.title, cycle=cycle, level=entry.level, team=entry.team,
                         owner=entry.owner or None, parent=entry.parent.strip() or None,
                         visible_to=tuple(entry.visible_to),
                         key_results=tuple(replace(kr, objective_id=entry.id) for kr in key_results))

    def _key_result(self, raw: dict[str, Any], at: Loc) -> KeyResult | None:
        """One [[objective.key_result]] entry, or None when it is too broken to build."""
        subject = self._register(raw, "key result", at)
        entry = self.validate(schema._KeyResultIn, raw, subject, at)
        if entry is None:
            return None
        self._check_common(subject, at, entry)
        if entry.weight <= 0:
            self.report(subject, at, ("weight",), f"weight must be above 0, not {_num(entry.weight)}")
        measure = self._measure(subject, at, entry)
        source = self._source(subject, at, entry.source, SourceKind)
        initiatives = Initiatives()
        if entry.initiatives is not None:
            given = entry.initiatives
            initiatives = Initiatives(jql=given.jql or None, epics=tuple(given.epics),
                                      label=given.label or None)
            if not initiatives:
                self.report(subject, at, ("initiatives",),
                            "initiatives need a jql, a label or a list of epics")
            if given.label is not None and (not given.label.strip() or any(c.isspace() for c in given.label)):
                self.report(subject, at, ("initiatives", "label"),
                            f"{given.label!r} is not a Jira label: labels have no spaces")
            for i, key in enumerate(entry.initiatives.epics):
                if not schema.ISSUE_KEY.fullmatch(key):
                    self.report(subject, at, ("initiatives", "epics", i), f"{key!r} is not a Jira issue key "
                                "like ENG-12")
        return KeyResult(id=entry.id, title=entry.title, measure=measure, owner=entry.owner or None,
                         weight=entry.weight, unit=entry.unit, source=source, initiatives=initiatives)

    def _measure(self, subject: str, at: Loc, kr: schema._KeyResultIn) -> Measure:
        """The KR's Measure, after checking it has the numbers its kind needs and that they can move."""
        kind = kr.measure
        numbers = [n for n in schema.MEASURE_USES[kind] if n not in ("better", "partial_credit")]
        for name in numbers:
            if getattr(kr, name) is None:
                self.report(subject, at, (name,), f"{_a(kind.value)} measure needs {_and(numbers)}; "
                            f"{name} is missing")
        for name in ("start", "target", "low", "high", "baseline", "better", "partial_credit"):
            if name not in schema.MEASURE_USES[kind] and name in kr.model_fields_set:
                self.report(subject, at, (name,), f"{_a(kind.value)} measure does not use {name}; "
                            "it is ignored", "warning")
        start, target, low, high = kr.start, kr.target, kr.low, kr.high
        if kind in (MeasureKind.INCREASE, MeasureKind.DECREASE) and start is not None and target is not None:
            if math.isclose(start, target):
                self.report(subject, at, ("target",), f"start and target are both {_num(start)}; "
                            "a key result must move")
            elif (target < start) == (kind is MeasureKind.INCREASE):
                other = "decrease" if kind is MeasureKind.INCREASE else "increase"
                self.report(subject, at, ("target",), f"{_a(kind.value)} measure cannot go from "
                            f"{_num(start)} to {_num(target)}; use measure = \"{other}\"")
        if kind is MeasureKind.THRESHOLD and low is not None and high is not None and low > high:
            self.report(subject, at, ("high",), f"low {_num(low)} is above high {_num(high)}")
        return Measure(kind=kind, start=start, target=target, low=low, high=high, baseline=kr.baseline,
                       better=kr.better, partial_credit=kr.partial_credit)

    def _check_ids(self) -> None:
        """Ids are unique across objectives, key results and KPIs: they name pages, labels and snapshots."""
        first: dict[str, tuple[str, Loc]] = {}
        for entry_id, kind, at in self.ids:
            if entry_id in first:
                seen_kind, seen_at = first[entry_id]
                line = self.positions.line_of((*seen_at, "id"))
                self.report(entry_id, at, ("id",), f"id {entry_id!r} is already used by the {seen_kind}"
                            + (f" at line {line}" if line else ""))
            else:
                first[entry_id] = (kind, at)

    def _kind_of(self, entry_id: str) -> str | None:
        """What kind of entry first used `entry_id`, or None when nothing did."""
        return next((kind for i, kind, _ in self.ids if i == entry_id), None)

    def _check_parents(self, placed: list[tuple[Objective, Loc]]) -> None:
        """Each parent is a known objective, and parents never loop back (`placed`: each objective
        with the path of its entry)."""
        for objective, at in placed:
            if objective.parent is None:
                continue
            subject = objective.id if objective.id in self.where else dotted(at)
            kind = self._kind_of(objective.parent)
            if kind is None:
                self.report(subject, at, ("parent",), f"unknown parent objective {objective.parent!r}")
            elif kind != "objective":
                self.report(subject, at, ("parent",), f"parent {objective.parent!r} is {_a(kind)}, "
                            "not an objective")
        parents = {o.id: o.parent for o, _ in placed if o.id in self.where}
        reported: set[str] = set()
        for objective, at in placed:
            chain, current = [objective.id], parents.get(objective.id)
            while current is not None and current not in chain and current in parents:
                chain.append(current)
                current = parents[current]
            if current == objective.id and objective.id not in reported:
                reported.update(chain)
                self.report(objective.id, at, ("parent",),
                            f"parents form a loop: {' -> '.join([*chain, objective.id])}")

    def _check_kpi_refs(self) -> None:
        """Each `kpi` source names a KPI of this file."""
        for subject, at, kpi_id in self.kpi_refs:
            kind = self._kind_of(kpi_id)
            if kind is None:
                self.report(subject, at, ("source", "kpi"), f"unknown KPI {kpi_id!r}")
            elif kind != "KPI":
                self.report(subject, at, ("source", "kpi"), f"{kpi_id!r} is {_a(kind)}, not a KPI")
