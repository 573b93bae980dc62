"""The catalog tables' rows: upserted to match a loaded catalog, and looked up by KR/KPI id.

`Store.sync_catalog` owns the transaction and the lock; this module holds what happens inside
it: refusing ids the store cannot key, turning the catalog into column values (with the content
hash that lets an unchanged item go unwritten), and adding, updating, archiving or restoring rows
while recording each change for the caller's summary, and the fingerprint of the file recorded
(its hash and the catalog as data) that lets an unchanged file go unrecorded. The id lookup
(`find_subjects`) lives here too because check-ins, history and run results all ask the catalog
tables what an id names.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from okrbridge.domain import Catalog
from okrbridge.store import definitions
from okrbridge.store.records import (
    CatalogChanges,
    CatalogConflict,
    CatalogItem,
    CatalogKind,
    UnknownSubject,
    repeated,
)
from okrbridge.store.tables import KeyResultRow, KpiRow, ObjectiveRow, SubjectKind

_CatalogRow = TypeVar("_CatalogRow", ObjectiveRow, KeyResultRow, KpiRow)


class ChangeLog:
    """Collects what a catalog load did, in the order it happened."""

    def __init__(self) -> None:
        self.added: list[CatalogItem] = []
        self.updated: list[CatalogItem] = []
        self.archived: list[CatalogItem] = []
        self.restored: list[CatalogItem] = []
        self.unchanged = 0

    def result(self) -> CatalogChanges:
        """The frozen summary."""
        return CatalogChanges(
            added=tuple(self.added),
            updated=tuple(self.updated),
            archived=tuple(self.archived),
            restored=tuple(self.restored),
            unchanged=self.unchanged,
        )


def check_catalog_ids(catalog: Catalog) -> None:
    """Refuse a catalog whose ids would collide in the store's tables or in snapshots."""
    for kind, ids in (
        ("objective", [o.id for o in catalog.objectives]),
        ("key result", [kr.id for kr in catalog.key_results()]),
        ("KPI", [k.id for k in catalog.kpis]),
    ):
        duplicates = repeated(ids)
        if duplicates:
            raise CatalogConflict(f"{kind} id used more than once: {', '.join(duplicates)}")
    # Snapshots and subject state are keyed by subject id alone, so a KR and a KPI cannot share one.
    shared = sorted({kr.id for kr in catalog.key_results()} & {k.id for k in catalog.kpis})
    if shared:
        raise CatalogConflict(f"id used by both a key result and a KPI: {', '.join(shared)}")


def apply_catalog(
    session: Session,
    model: type[_CatalogRow],
    kind: CatalogKind,
    wanted: Mapping[str, dict[str, Any]],
    now: datetime,
    log: ChangeLog,
) -> None:
    """Upsert one catalog table to `wanted` (id -> column values) and archive what is missing.

    Rows whose content hash matches are left untouched, so an unchanged catalog writes nothing.
    """
    existing = {row.id: row for row in session.exec(select(model))}
    for item_id, values in wanted.items():
        row = existing.get(item_id)
        if row is None:
            session.add(model(id=item_id, created_at=now, updated_at=now, archived_at=None, **values))
            log.added.append(CatalogItem(kind, item_id))
            continue
        if row.archived_at is None and row.content_hash == values["content_hash"]:
            log.unchanged += 1
            continue
        (log.restored if row.archived_at is not None else log.updated).append(CatalogItem(kind, item_id))
        for name, value in values.items():
            setattr(row, name, value)
        row.archived_at = None
        row.updated_at = now
    for item_id, row in existing.items():
        if item_id not in wanted and row.archived_at is None:
            row.archived_at = now
            row.updated_at = now
            log.archived.append(CatalogItem(kind, item_id))
    # Flush per table: key results reference objectives, and rows here carry no relationships
    # from which the unit of work could infer that order.
    session.flush()


def catalog_values(catalog: Catalog) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Column values for every objective, key result and KPI of the catalog, keyed by id."""
    objectives: dict[str, dict[str, Any]] = {}
    key_results: dict[str, dict[str, Any]] = {}
    kpis: dict[str, dict[str, Any]] = {}
    for objective in catalog.objectives:
        definition = definitions.objective_definition(objective)
        objectives[objective.id] = {
            "title": objective.title,
            "cycle": objective.cycle,
            "level": objective.level.value,
            "team": objective.team,
            "owner": objective.owner,
            # okrs.toml writes "no parent" as parent = "".
            "parent": objective.parent or None,
            "visible_to": list(objective.visible_to),
            "definition": definition,
            "content_hash": definitions.content_hash(definition),
        }
        for kr in objective.key_results:
            definition = definitions.key_result_definition(kr, objective.id)
            key_results[kr.id] = {
                "objective_id": objective.id,
                "title": kr.title,
                "owner": kr.owner,
                "weight": kr.weight,
                "unit": kr.unit,
                "measure_kind": kr.measure.kind.value,
                "source_kind": kr.source.kind.value,
                "definition": definition,
                "content_hash": definitions.content_hash(definition),
            }
    for kpi in catalog.kpis:
        definition = definitions.kpi_definition(kpi)
        kpis[kpi.id] = {
            "name": kpi.name,
            "direction": kpi.direction.value,
            "unit": kpi.unit,
            "team": kpi.team,
            "owner": kpi.owner,
            "visible_to": list(kpi.visible_to),
            "source_kind": kpi.source.kind.value,
            "definition": definition,
            "content_hash": definitions.content_hash(definition),
        }
    return objectives, key_results, kpis


class Subject:
    """What the store knows about a KR or KPI id when recording values for it."""

    def __init__(self, kind: SubjectKind, source_kind: str, archived_at: datetime | None) -> None:
        self.kind = kind
        self.source_kind = source_kind
        self.archived_at = archived_at


def find_subjects(session: Session, subject_ids: Collection[str]) -> dict[str, Subject]:
    """The KRs and KPIs among `subject_ids`, archived ones included; an active one wins a tie."""
    found: dict[str, Subject] = {}
    if not subject_ids:
        return found
    ids = list(subject_ids)
    for kpi in session.exec(select(KpiRow).where(col(KpiRow.id).in_(ids))):
        found[kpi.id] = Subject(SubjectKind.KPI, kpi.source_kind, kpi.archived_at)
    for kr in session.exec(select(KeyResultRow).where(col(KeyResultRow.id).in_(ids))):
        if kr.id not in found or kr.archived_at is None:
            found[kr.id] = Subject(SubjectKind.KR, kr.source_kind, kr.archived_at)
    return found


def require_subjects(session: Session, subject_ids: Collection[str]) -> dict[str, Subject]:
    """Like find_subjects, raising UnknownSubject for the first id (in order) never catalogued."""
    found = find_subjects(session, subject_ids)
    for subject_id in subject_ids:
        if subject_id not in found:
            raise UnknownSubject(subject_id)
    return found
