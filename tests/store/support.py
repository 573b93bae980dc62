"""Test data shared by the store tests: a fixed clock and a sample catalog."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import sqlalchemy as sa

from okrbridge.domain import (
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
from okrbridge.store import InitiativeRecord, Store
from okrbridge.store.tables import SnapshotRow

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
"""A fixed instant the tests count from."""


def sample_catalog() -> Catalog:
    """Two objectives (company and an aligned team one), three key results and one KPI."""
    arr = KeyResult(
        id="CO-1.1",
        title="Increase average subscription value from $300 to $500",
        measure=Measure(MeasureKind.INCREASE, start=300, target=500),
        objective_id="CO-1",
        owner="bob",
        unit="$",
        source=Source(SourceKind.JQL_COUNT, jql="project = SALES AND labels = won"),
    )
    notes = KeyResult(
        id="CO-1.2",
        title="Publish 12 customer stories",
        measure=Measure(MeasureKind.INCREASE, start=0, target=12),
        objective_id="CO-1",
        owner="carol",
        weight=0.5,
    )
    launch = KeyResult(
        id="T-1.1",
        title="Launch the self-serve checkout",
        measure=Measure(MeasureKind.MILESTONE, partial_credit=True),
        objective_id="T-1",
        owner="dave",
        source=Source(SourceKind.MILESTONE, issue="SHOP-1"),
        initiatives=Initiatives(jql="issuetype = Epic AND labels = kr-T-1.1"),
    )
    return Catalog(
        objectives=(
            Objective(
                id="CO-1",
                title="Increase sales revenue",
                cycle="2026",
                level=Level.COMPANY,
                team="leadership",
                owner="alice",
                parent="",
                key_results=(arr, notes),
            ),
            Objective(
                id="T-1",
                title="Make buying effortless",
                cycle="2026-Q1",
                team="shop",
                owner="erin",
                parent="CO-1",
                visible_to=("shop", "leadership"),
                key_results=(launch,),
            ),
        ),
        kpis=(
            Kpi(
                id="web-conversion",
                name="Web conversion rate",
                direction=Direction.INCREASE,
                unit="%",
                baseline=2.0,
                target=2.5,
                source=Source(
                    SourceKind.JQL_RATIO, numerator="labels = converted", denominator="type = Visit"
                ),
                team="web",
                owner="frank",
            ),
        ),
    )


def without_key_result(catalog: Catalog, kr_id: str) -> Catalog:
    """The catalog with one key result taken out of its objective."""
    objectives = tuple(
        replace(o, key_results=tuple(kr for kr in o.key_results if kr.id != kr_id))
        for o in catalog.objectives
    )
    return replace(catalog, objectives=objectives)


# An epic driving T-1.1 with 1 of 4 children done; tests vary it with dataclasses.replace.
EPIC = InitiativeRecord(
    epic_key="SHOP-7",
    kr_id="T-1.1",
    summary="One-page checkout",
    status="In Progress",
    status_category="indeterminate",
    done=False,
    children_done=1,
    children_total=4,
    url="https://jira.example/browse/SHOP-7",
)


def snapshot_rows(store: Store) -> int:
    """How many snapshot rows the store holds."""
    with store.session() as session:
        return int(session.execute(sa.select(sa.func.count()).select_from(SnapshotRow)).scalar_one())
