"""The kinds the store's text columns are limited to (CHECK constraints keep them): what a row is
about, how a run ended, where telling a silent KR's owner stands."""

from __future__ import annotations

from enum import StrEnum


class SubjectKind(StrEnum):
    """What a snapshot or a subject state is about: a key result or a KPI."""

    KR = "kr"
    KPI = "kpi"


class RunStatus(StrEnum):
    """How a sync run ended (or that it has not ended yet)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    ABANDONED = "abandoned"  # its process died; closed by a later sync


class NoticeState(StrEnum):
    """Where telling a silent KR's owner stands: being told (claimed), told on the epic, or listed
    in the log because the KR has no epic."""

    TELLING = "telling"
    TOLD = "told"
    LISTED = "listed"
