"""What callers hand the store and what it hands back: small frozen dataclasses and errors.

Callers never build or receive table rows: rows are mutable, tied to a session, and would leak the
schema into the sync worker, grading and the web app. Inputs are validated when they are built, so
a bad value fails at its source rather than halfway through a run's transaction.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar

from okrbridge.explanation import Explanation
from okrbridge.store.kinds import RunStatus, SubjectKind

_Key = TypeVar("_Key", str, tuple[str, str])

CatalogKind = Literal["objective", "kr", "kpi"]

RunError = str | dict[str, Any]
"""One entry of a run's error list: a message, or a JSON object (e.g. {"subject": ..., "error": ...})."""


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class UnknownSubject(StoreError, LookupError):
    """A key result or KPI id the catalog does not know, or one that has been archived."""

    def __init__(self, subject_id: str, archived_at: datetime | None = None) -> None:
        self.subject_id = subject_id
        self.archived_at = archived_at
        if archived_at is None:
            message = f"no key result or KPI with id {subject_id!r} in the catalog"
        else:
            message = (
                f"{subject_id!r} was archived on {archived_at.isoformat()} "
                "(it is no longer in okrs.toml) and takes no new values"
            )
        super().__init__(message)


class SchemaNotReady(StoreError):
    """A database opened for reading that has no okrbridge tables, or another version's schema.

    Reading never creates or upgrades a database; the message says which command does.
    """


class UnknownRun(StoreError, LookupError):
    """A sync run id that was never started."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        super().__init__(f"no sync run with id {run_id}")


class RunAlreadyFinished(StoreError):
    """Results or a finish for a run that has already finished (writing twice would duplicate it)."""

    def __init__(self, run_id: int, status: str) -> None:
        self.run_id = run_id
        self.status = status
        super().__init__(f"sync run {run_id} has already finished ({status})")


class CatalogConflict(StoreError, ValueError):
    """A catalog the store cannot key unambiguously (an id used twice, or by a KR and a KPI)."""


def _check_unit_interval(name: str, value: float | None) -> None:
    """Refuse a score or progress outside 0..1 (or NaN), naming the field."""
    if value is not None and not (0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be within 0.0..1.0, got {value!r}")


def _check_finite(name: str, value: float | None) -> None:
    """Refuse NaN and infinities, which JSON and SQL comparisons both mishandle."""
    if value is not None and not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def repeated(items: Iterable[_Key]) -> list[_Key]:
    """The items that occur more than once, sorted (for stable error messages).

    Shared by the catalog checks and the run-results checks, which both refuse a batch naming
    one thing twice before any of it reaches a transaction.
    """
    return sorted(item for item, n in Counter(items).items() if n > 1)


def _normalise_kind(record: NewSnapshot | Failure) -> None:
    """Turn a subject kind given as text into SubjectKind (refusing anything else) on a frozen record."""
    if record.subject_kind is not None:
        object.__setattr__(record, "subject_kind", SubjectKind(record.subject_kind))


@dataclass(frozen=True)
class NewSnapshot:
    """A value a sync run obtained for a KR or KPI.

    `explanation` says how the number was obtained (which JQL, what count, where, when);
    `source_kind` defaults to the subject's configured source. `subject_kind`, when given, is
    checked against the catalog (the store looks the kind up either way). `score` is kept as a
    record of what the value scored when it was written; reads never return it, because a score is
    always derived from the value and the catalog's current measure (`grading.score_of`).
    """

    subject_id: str
    taken_at: datetime
    value: float | None
    score: float | None = None
    source_kind: str | None = None
    explanation: Explanation = field(default_factory=Explanation)
    subject_kind: SubjectKind | None = None

    def __post_init__(self) -> None:
        """Validate the numbers so a bad one fails here, not inside the run's transaction."""
        _check_finite("value", self.value)
        _check_unit_interval("score", self.score)
        _normalise_kind(self)


@dataclass(frozen=True)
class Failure:
    """A KR or KPI whose query failed in a run: its last good snapshot stays, marked stale.

    `error` is the message to show (Jira's, for a bad JQL); `at` defaults to the run's finish time.
    `subject_kind`, when given, is checked against the catalog.
    """

    subject_id: str
    error: str
    at: datetime | None = None
    subject_kind: SubjectKind | None = None

    def __post_init__(self) -> None:
        """Accept the kind as its text ("kr", "kpi") too."""
        _normalise_kind(self)


@dataclass(frozen=True)
class InitiativeRecord:
    """A Jira epic found to drive a key result in a run, with its progress at that moment."""

    epic_key: str
    kr_id: str
    summary: str
    status: str
    status_category: str
    done: bool
    children_done: int
    children_total: int
    url: str

    def __post_init__(self) -> None:
        """Refuse impossible child counts, which would give a progress outside 0..1."""
        if self.children_total < 0 or not (0 <= self.children_done <= self.children_total):
            raise ValueError(
                f"epic {self.epic_key}: children_done={self.children_done} "
                f"must be within 0..children_total={self.children_total}"
            )

    @property
    def progress(self) -> float:
        """Done children over all children; an epic without children counts by its own state."""
        if self.children_total == 0:
            return 1.0 if self.done else 0.0
        return self.children_done / self.children_total


@dataclass(frozen=True)
class CatalogItem:
    """One objective, key result or KPI named in a CatalogChanges."""

    kind: CatalogKind
    id: str


@dataclass(frozen=True)
class CatalogChanges:
    """What loading a catalog changed in the store.

    `restored` items were archived and reappeared (their definition is refreshed too);
    `unchanged` counts the items whose content hash matched, which were not rewritten.
    """

    added: tuple[CatalogItem, ...] = ()
    updated: tuple[CatalogItem, ...] = ()
    archived: tuple[CatalogItem, ...] = ()
    restored: tuple[CatalogItem, ...] = ()
    unchanged: int = 0

    def __bool__(self) -> bool:
        """True when anything was written."""
        return bool(self.added or self.updated or self.archived or self.restored)

    def ids(self, change: Literal["added", "updated", "archived", "restored"]) -> tuple[str, ...]:
        """The ids (of any kind) under one heading, e.g. `changes.ids("added")`."""
        items: tuple[CatalogItem, ...] = getattr(self, change)
        return tuple(item.id for item in items)


@dataclass(frozen=True)
class Snapshot:
    """A stored value of a KR or KPI (what `history` and `latest_snapshot` return).

    The value held from `taken_at` (first seen, by run `sync_run_id`) to at least `confirmed_at`
    (the last sync that found it unchanged, run `confirmed_run_id`; `taken_at` until one did).

    It carries no score: the score of a value is derived from it and the catalog's current measure
    by `grading.score_of`, so history, grades and remote links agree after a target is edited.
    `explanation` holds the check-in's note and author too (the same as `note` and `author`).
    """

    id: int
    subject_id: str
    subject_kind: SubjectKind
    taken_at: datetime
    value: float | None
    source_kind: str
    explanation: Explanation
    sync_run_id: int | None
    note: str | None
    author: str | None
    confirmed_at: datetime
    confirmed_run_id: int | None


@dataclass(frozen=True)
class SubjectState:
    """Where a KR's or KPI's sync stands; `stale` with `error` when its last attempt failed."""

    subject_id: str
    subject_kind: SubjectKind
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    stale: bool
    error: str | None
    last_sync_run_id: int | None


@dataclass(frozen=True)
class Initiative:
    """A stored epic-drives-KR link; `removed_at` is set once the epic no longer drives the KR."""

    epic_key: str
    kr_id: str
    summary: str
    status: str
    status_category: str
    done: bool
    progress: float
    children_done: int
    children_total: int
    url: str
    last_sync_run_id: int | None
    synced_at: datetime
    removed_at: datetime | None


@dataclass(frozen=True)
class SyncRun:
    """A stored sync run."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    deployment: str | None
    counts: dict[str, int]
    errors: list[RunError]
    dry_run: bool
    host: str | None = None
    pid: int | None = None


@dataclass(frozen=True)
class PublishRecord:
    """What okrbridge last wrote to a Confluence page: its id, title, parent, version and hash."""

    key: str
    page_id: str
    title: str
    parent_id: str | None
    version: int
    content_hash: str
    published_at: datetime
