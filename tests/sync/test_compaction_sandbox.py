"""Compaction on a store a year of real syncs against the sandbox wrote: every answer stays, rows go."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from connectors.jira import JiraConnection
from okrbridge.cycles import PeriodKind
from okrbridge.demo_folder import BOT_EMAIL
from okrbridge.store.compaction import compact
from okrbridge.sync import SyncAborted
from okrbridge.workspace import Workspace, grades, history, jira_connection, sync
from sandbox.seed import populate
from sandbox.server import SandboxServer
from tests.sync.conftest import MakeWorkspace

START = datetime(2026, 1, 6, 18, 0, tzinfo=UTC)
WEEKS = 9


def _fixed(moment: datetime) -> Callable[[], datetime]:
    """A clock stopped at `moment`."""
    return lambda: moment


def _answers(ws: Workspace, now: datetime) -> dict[str, Any]:
    """Grades of the year with its quarters and months, every KR's and KPI's history as
    (value, first seen, last confirmed, explanation), and every observation grading reads."""
    year = ws.loaded.calendar.period_of(PeriodKind.YEAR, START)
    reports = [report.to_dict() for report in grades(ws, year, now=now, nested=True)]
    ids = [kr.id for kr in ws.catalog.key_results()] + [kpi.id for kpi in ws.catalog.kpis]
    observed = {subject: [(r.taken_at, r.value, r.explanation.to_dict()) for r in readings]
                for subject, readings in ws.store.readings(ids).items()}
    spans: dict[str, list[tuple[Any, ...]]] = {}
    for subject in ids:
        for entry in history(ws, subject):
            s = entry.snapshot
            spans.setdefault(subject, []).append((s.value, entry.score, s.explanation.to_dict()))
    return {"grades": reports, "observed": observed, "values": spans}


def _untimed(detail: Any) -> Any:
    """An explanation without its times of asking (at any depth: a KR taking a KPI's value nests one)."""
    if isinstance(detail, dict):
        return {k: _untimed(v) for k, v in detail.items() if k != "queried_at"}
    if isinstance(detail, list):
        return [_untimed(item) for item in detail]
    return detail


def _value_changes(spans: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[Any]]:
    """Each subject's history as the sequence of values it moved through, with their scores and
    explanations (repeats folded: a merged pair shows once where it showed twice)."""
    folded: dict[str, list[Any]] = {}
    for subject, entries in spans.items():
        values: list[Any] = []
        for value, score, explanation in entries:
            shown = (value, score, _untimed(explanation))
            if not values or values[-1] != shown:
                values.append(shown)
        folded[subject] = values
    return folded


def test_compacting_a_store_of_real_syncs_keeps_every_grade_and_history_answer(
        cloud_sandbox: SandboxServer, make_workspace: MakeWorkspace) -> None:
    ws = make_workspace(cloud_sandbox)
    seed = cloud_sandbox.state.seed_info
    overlaps = 0
    syncs = 0
    with jira_connection(ws.settings) as jira:
        for week in range(WEEKS):
            at = START + timedelta(weeks=week)
            populate(cloud_sandbox.state, seed=int(seed["seed"]), size=int(seed["size"]), as_of=at)
            cloud_sandbox.state.clock.set_now(at)
            if week % 2 == 0:
                for hour in (0, 2, 4):  # the daemon's syncs that day: the later ones confirm
                    sync(ws, jira, now=_fixed(at + timedelta(hours=hour)))
                    syncs += 1
                continue
            sync(ws, jira, now=_fixed(at))
            # Someone ran `okrbridge sync` by hand: it asked Jira ten minutes before the daemon's
            # sync and finished after it, storing the values the daemon had just stored.
            sync(ws, jira, now=_fixed(at - timedelta(minutes=10)))
            syncs += 2
            overlaps += 1
            if week == 3:
                refused = JiraConnection(cloud_sandbox.url, deployment="cloud", email=BOT_EMAIL,
                                         token="wrong-token")
                with refused, pytest.raises(SyncAborted):
                    sync(ws, refused, now=_fixed(at + timedelta(hours=1)))
                syncs += 1
    cloud_sandbox.state.clock.offset = timedelta(0)
    now = datetime.combine((START + timedelta(weeks=WEEKS + 20)).date(), time(12), tzinfo=UTC)
    before = _answers(ws, now)
    runs_before = len(ws.store.runs(limit=1000))
    rows_before = sum(len(entries) for entries in before["values"].values())

    report = compact(ws.store, now=now, keep_runs_days=90)

    after = _answers(ws, now)
    rows_after = sum(len(entries) for entries in after["values"].values())
    print(f"\n{syncs} syncs ({overlaps} overlapping, 1 refused): readings {rows_before} -> "
          f"{rows_after}, runs {runs_before} -> {len(ws.store.runs(limit=1000))}; {report.describe()}")
    assert report.readings_merged > 0 and rows_before - rows_after == report.readings_merged
    assert report.runs_deleted.get("failed") == 1 and report.runs_deleted.get("succeeded", 0) > 0
    assert after["grades"] == before["grades"]
    assert after["observed"] == before["observed"]
    assert _value_changes(after["values"]) == _value_changes(before["values"])
