"""The store's tables: the catalog as last loaded, snapshots, sync runs, subject state, initiatives,
the leader lease, publish records and what silent KRs' owners were told.

Every table lives in the store's own SQLModel registry (`StoreModel.metadata`), not the global
`SQLModel.metadata`, so the alembic migrations describe exactly these tables and nothing another
module happens to declare. Constraint names follow a naming convention so migrations (and SQLite's
batch mode, which recreates tables) can address them by a stable name.

Datetimes are stored in UTC and always come back as aware UTC datetimes (see `UTCDateTime`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, MetaData, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from okrbridge.store.kinds import NoticeState, RunStatus, SubjectKind
from okrbridge.store.types import UTCDateTime

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class StoreModel(SQLModel, registry=registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))):
    """Base of every store table; owns the metadata the migrations are checked against."""


def _kind_check(column: str, kinds: type[StrEnum], name: str) -> CheckConstraint:
    """A CHECK constraint that keeps a text column within an enum's values."""
    values = ", ".join(f"'{k.value}'" for k in kinds)
    return CheckConstraint(f"{column} IN ({values})", name=name)


class CatalogEntry(StoreModel):
    """The columns every catalog table shares: the whole definition as data, a hash of it (so an
    unchanged entry is not rewritten), and its life: created, last updated, archived when it left
    the file (never deleted, so its history keeps an owner)."""

    definition: dict[str, Any] = Field(sa_type=JSON)
    content_hash: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ObjectiveRow(CatalogEntry, table=True):
    """An objective as last loaded from okrs.toml; archived (never deleted) when it leaves the file."""

    __tablename__ = "objective"

    id: str = Field(primary_key=True)
    title: str
    cycle: str
    level: str
    team: str
    owner: str | None = None
    parent: str | None = None
    visible_to: list[str] = Field(sa_type=JSON)


class KeyResultRow(CatalogEntry, table=True):
    """A key result as last loaded; its `definition` holds the whole KeyResult as data."""

    __tablename__ = "key_result"

    id: str = Field(primary_key=True)
    objective_id: str = Field(foreign_key="objective.id", index=True)
    title: str
    owner: str | None = None
    weight: float
    unit: str
    measure_kind: str
    source_kind: str


class KpiRow(CatalogEntry, table=True):
    """A KPI as last loaded; its `definition` holds the whole Kpi as data."""

    __tablename__ = "kpi"

    id: str = Field(primary_key=True)
    name: str
    direction: str
    unit: str
    team: str
    owner: str | None = None
    visible_to: list[str] = Field(sa_type=JSON)
    source_kind: str


class SyncRunRow(StoreModel, table=True):
    """One sync of Jira into snapshots: when, against which deployment, how it went."""

    __tablename__ = "sync_run"
    __table_args__ = (_kind_check("status", RunStatus, "status"),)

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str
    deployment: str | None = None
    counts: dict[str, int] = Field(sa_type=JSON)
    errors: list[Any] = Field(sa_type=JSON)
    dry_run: bool
    # Which process runs it, so a later sync can tell a dead run from a live one.
    host: str | None = None
    pid: int | None = None


class SnapshotRow(StoreModel, table=True):
    """One value of a KR or KPI, from a sync run or a manual check-in, and how long it held.

    History is change-only: `taken_at` is when the value was first seen, `confirmed_at` the last
    time a sync found it unchanged (equal to `taken_at` until then), by run `confirmed_run_id`.
    A sync that finds the same value and explanation moves `confirmed_at` instead of adding a row.
    """

    __tablename__ = "snapshot"
    # History and the latest value read "this subject, ordered by time"; as-of reads select the
    # rows still confirmed after a cycle's start (confirmed_at) and, per subject, the last one
    # confirmed before it (subject_id, confirmed_at). `grades` reads each subject's rows since the
    # cycle's start from the (subject_id, confirmed_at) index, which holds every column it reads,
    # so a year of rows is read in subject order without touching the wide rows.
    __table_args__ = (
        Index("ix_snapshot_subject_id_taken_at", "subject_id", "taken_at"),
        Index("ix_snapshot_subject_id_confirmed_at_taken_at_value_id",
              "subject_id", "confirmed_at", "taken_at", "value", "id"),
        Index("ix_snapshot_confirmed_at", "confirmed_at"),
        _kind_check("subject_kind", SubjectKind, "subject_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_id: str
    subject_kind: str
    taken_at: datetime = Field(sa_type=UTCDateTime)
    value: float | None = None
    score: float | None = None
    source_kind: str
    source_detail: dict[str, Any] = Field(sa_type=JSON)
    sync_run_id: int | None = Field(default=None, foreign_key="sync_run.id", index=True)
    note: str | None = Field(default=None, sa_type=Text)
    author: str | None = None
    confirmed_at: datetime = Field(sa_type=UTCDateTime)
    # Indexed so that deleting a run (compaction) finds the readings it confirmed without a scan.
    confirmed_run_id: int | None = Field(default=None, foreign_key="sync_run.id", index=True)


class SubjectStateRow(StoreModel, table=True):
    """Where a KR's or KPI's sync stands: last success, last attempt, stale with Jira's message."""

    __tablename__ = "subject_state"
    __table_args__ = (_kind_check("subject_kind", SubjectKind, "subject_kind"),)

    subject_id: str = Field(primary_key=True)
    subject_kind: str
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stale: bool = False
    error: str | None = Field(default=None, sa_type=Text)
    last_sync_run_id: int | None = Field(default=None, foreign_key="sync_run.id")


class InitiativeRow(StoreModel, table=True):
    """A Jira epic that drives a key result, with its progress as of the last sync that saw it."""

    __tablename__ = "initiative"

    # epic_key leads the primary key, which also serves "which KRs does this epic drive" (the panel).
    epic_key: str = Field(primary_key=True)
    kr_id: str = Field(primary_key=True, foreign_key="key_result.id", index=True)
    summary: str
    status: str
    status_category: str
    done: bool
    progress: float
    children_done: int
    children_total: int
    url: str
    last_sync_run_id: int | None = Field(default=None, foreign_key="sync_run.id")
    synced_at: datetime = Field(sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LeaderLeaseRow(StoreModel, table=True):
    """Who leads the daemons sharing this database, until when: one row per lease name.

    A daemon holds the lease while `expires_at` is in the future and it keeps renewing it; any
    other daemon may take it once it has expired (see `okrbridge.store.lease`).
    """

    __tablename__ = "leader_lease"

    name: str = Field(primary_key=True)
    owner: str
    acquired_at: datetime = Field(sa_type=UTCDateTime)
    renewed_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class CatalogFingerprintRow(StoreModel, table=True):
    """The okrs.toml last recorded in the catalog tables: its content hash and the catalog it held.

    One row (id 1). A command that records the catalog first compares the file's hash with
    `digest` and records nothing when they match; a read-only command whose file matches takes
    the validated catalog from `catalog` instead of parsing the file again (see
    `Store.recorded_catalog`). Recording a catalog with no file behind it (a test, the bench)
    removes the row, so no later command can mistake the tables for a file's.
    """

    __tablename__ = "catalog_fingerprint"

    id: int = Field(primary_key=True)
    digest: str
    catalog: dict[str, Any] = Field(sa_type=JSON)
    recorded_at: datetime = Field(sa_type=UTCDateTime)


class PublishRecordRow(StoreModel, table=True):
    """What okrbridge last wrote to one Confluence page, keyed by the page's stable key.

    `version` is the page version that write produced and `content_hash` the hash of what was
    rendered (also stamped in that version's message): a page found at another version was edited
    by someone else; a page whose hash is unchanged is not written again.
    """

    __tablename__ = "publish_record"

    key: str = Field(primary_key=True)
    page_id: str = Field(index=True)
    title: str
    parent_id: str | None = None
    version: int
    content_hash: str
    published_at: datetime = Field(sa_type=UTCDateTime)


class JiraAnswerRow(StoreModel, table=True):
    """Jira's last answer to one distinct sync question, kept so an unchanged scope need not be
    asked again (see `okrbridge.change_scope`). `question` is the question's canonical JSON;
    `asked_at` and `confirmed_at` are Jira's clock when it was asked and when a probe last vouched
    for it."""

    __tablename__ = "jira_answer"

    question: str = Field(primary_key=True)
    answer: str
    asked_at: datetime = Field(sa_type=UTCDateTime)
    confirmed_at: datetime = Field(sa_type=UTCDateTime)


class JiraScopeRow(StoreModel, table=True):
    """A scope's baseline: the issue total Jira gave for a set of projects (or the site) and when,
    by Jira's clock, it was probed."""

    __tablename__ = "jira_scope"

    scope: str = Field(primary_key=True)
    total: int
    probed_at: datetime = Field(sa_type=UTCDateTime)


class MonthSumRow(StoreModel, table=True):
    """The exact running line sums of one subject's observations through one UTC month (every
    observation up to the month's end), and the month's latest observation (see
    okrbridge.month_series): what `grades` reads instead of every observation.

    Derived from `snapshot` and kept honest by the database: a trigger on every write to a
    snapshot row (migration 0010) deletes the sums of the first month whose observations the write
    changed and of every later month of that subject, and marks them due (`MonthSumDueRow`), so a
    sum that exists is never stale, whoever wrote the row. The sums are whole numbers too large for
    a 64-bit column, so they are kept as decimal text.
    """

    __tablename__ = "month_sum"
    # "the last row of each subject before a bound, holding nothing after the report's instant"
    __table_args__ = (Index("ix_month_sum_subject_id_month_last_at", "subject_id", "month", "last_at"),)

    subject_id: str = Field(primary_key=True)
    month: str = Field(primary_key=True)  # "YYYY-MM", UTC
    count: int
    sum_x: str
    sum_xx: str
    sum_y: str
    sum_xy: str
    exponent: int
    nonfinite: int
    last_at: int = Field(sa_type=BigInteger)  # microseconds since the Unix epoch
    last_ref: int = Field(sa_type=BigInteger)  # snapshot id * 2 + kind (0 first seen, 1 last confirmed)
    last_value: float


class MonthSumDueRow(StoreModel, table=True):
    """A subject's month whose sums must be worked out again (a snapshot row in it was written)."""

    __tablename__ = "month_sum_due"

    subject_id: str = Field(primary_key=True)
    month: str = Field(primary_key=True)


class OwnerNoticeRow(StoreModel, table=True):
    """What a silent key result's owner was told, once per silence (see okrbridge.owner_notices).

    A silence is the KR and the instant it counts from (`silent_since`: its last value, or its
    cycle's start when it never had one), so the same silence is never told twice, and a KR that
    got a value and fell silent again is a new row. `state` "telling" is a claim taken before the
    comment is sent (by `claimed_by`, at `claimed_at`); it becomes "told" with the comment's id, or
    is deleted when Jira refused it, so the next run tries again.
    """

    __tablename__ = "owner_notice"
    __table_args__ = (_kind_check("state", NoticeState, "state"),)

    subject_id: str = Field(primary_key=True, foreign_key="key_result.id")
    silent_since: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    state: str
    owner: str | None = None
    epic_key: str | None = None
    message: str = Field(sa_type=Text)
    claimed_by: str
    claimed_at: datetime = Field(sa_type=UTCDateTime)
    told_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    comment_id: str | None = None
