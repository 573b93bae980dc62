"""Loading okrs.toml into the catalog tables: add, update by content, skip unchanged, archive, restore."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from okrbridge.domain import Catalog, KeyResult, Kpi, Measure, MeasureKind
from okrbridge.store import CatalogConflict, CatalogItem, Store
from okrbridge.store.tables import KeyResultRow, KpiRow, ObjectiveRow

from .support import T0, without_key_result

T1 = T0 + timedelta(days=1)
T2 = T0 + timedelta(days=2)


def kr_row(store: Store, kr_id: str) -> KeyResultRow:
    """The stored row of a key result."""
    with store.session() as session:
        row = session.get(KeyResultRow, kr_id)
        assert row is not None
        return row


def retitled(catalog: Catalog, kr_id: str, title: str) -> Catalog:
    """The catalog with one key result's title changed."""
    objectives = tuple(
        replace(
            o, key_results=tuple(replace(kr, title=title) if kr.id == kr_id else kr for kr in o.key_results)
        )
        for o in catalog.objectives
    )
    return replace(catalog, objectives=objectives)


def test_first_load_adds_every_objective_key_result_and_kpi(store: Store, catalog: Catalog) -> None:
    changes = store.sync_catalog(catalog, now=T0)

    assert changes.added == (
        CatalogItem("objective", "CO-1"),
        CatalogItem("objective", "T-1"),
        CatalogItem("kr", "CO-1.1"),
        CatalogItem("kr", "CO-1.2"),
        CatalogItem("kr", "T-1.1"),
        CatalogItem("kpi", "web-conversion"),
    )
    assert (changes.updated, changes.archived, changes.restored, changes.unchanged) == ((), (), (), 0)
    row = kr_row(store, "CO-1.1")
    assert (row.objective_id, row.owner, row.measure_kind, row.source_kind) == (
        "CO-1",
        "bob",
        "increase",
        "jql_count",
    )
    assert row.created_at == row.updated_at == T0
    assert row.archived_at is None


def test_reloading_an_unchanged_catalog_writes_nothing(store: Store, catalog: Catalog) -> None:
    store.sync_catalog(catalog, now=T0)

    changes = store.sync_catalog(catalog, now=T1)

    assert not changes
    assert changes.unchanged == 6
    with store.session() as session:
        rows = [
            *session.exec(select(ObjectiveRow)),
            *session.exec(select(KeyResultRow)),
            *session.exec(select(KpiRow)),
        ]
    assert {row.updated_at for row in rows} == {T0}


def test_a_changed_key_result_is_updated_and_nothing_else(store: Store, catalog: Catalog) -> None:
    store.sync_catalog(catalog, now=T0)
    before = kr_row(store, "CO-1.1").content_hash

    changes = store.sync_catalog(retitled(catalog, "CO-1.1", "Reach $500 ASV"), now=T1)

    assert changes.updated == (CatalogItem("kr", "CO-1.1"),)
    assert (changes.added, changes.archived, changes.restored, changes.unchanged) == ((), (), (), 5)
    row = kr_row(store, "CO-1.1")
    assert row.title == "Reach $500 ASV"
    assert row.definition["title"] == "Reach $500 ASV"
    assert row.content_hash != before
    assert (row.created_at, row.updated_at) == (T0, T1)


def test_a_change_inside_the_measure_counts_as_an_update(store: Store, catalog: Catalog) -> None:
    store.sync_catalog(catalog, now=T0)
    kr = catalog.key_result("CO-1.1")
    assert kr is not None
    moved_target = replace(kr, measure=Measure(MeasureKind.INCREASE, start=300, target=600))
    objectives = tuple(
        replace(o, key_results=tuple(moved_target if k.id == kr.id else k for k in o.key_results))
        for o in catalog.objectives
    )

    changes = store.sync_catalog(replace(catalog, objectives=objectives), now=T1)

    assert changes.ids("updated") == ("CO-1.1",)
    assert kr_row(store, "CO-1.1").definition["measure"]["target"] == 600


def test_an_item_missing_from_the_file_is_archived_not_deleted(store: Store, catalog: Catalog) -> None:
    store.sync_catalog(catalog, now=T0)

    changes = store.sync_catalog(without_key_result(catalog, "CO-1.2"), now=T1)

    # The objective lost a key result, so its definition (which lists KR ids) changed too.
    assert changes.archived == (CatalogItem("kr", "CO-1.2"),)
    assert changes.updated == (CatalogItem("objective", "CO-1"),)
    row = kr_row(store, "CO-1.2")
    assert row.archived_at == T1
    assert row.owner == "carol"  # history keeps its owner


def test_an_archived_item_that_reappears_is_restored(store: Store, catalog: Catalog) -> None:
    store.sync_catalog(catalog, now=T0)
    store.sync_catalog(replace(catalog, kpis=()), now=T1)

    changes = store.sync_catalog(catalog, now=T2)

    assert changes.restored == (CatalogItem("kpi", "web-conversion"),)
    with store.session() as session:
        kpi = session.get(KpiRow, "web-conversion")
        assert kpi is not None
        assert (kpi.archived_at, kpi.created_at, kpi.updated_at) == (None, T0, T2)


def test_an_archived_item_is_not_archived_again(store: Store, catalog: Catalog) -> None:
    store.sync_catalog(catalog, now=T0)
    store.sync_catalog(replace(catalog, kpis=()), now=T1)

    changes = store.sync_catalog(replace(catalog, kpis=()), now=T2)

    assert not changes
    with store.session() as session:
        kpi = session.get(KpiRow, "web-conversion")
        assert kpi is not None
        assert kpi.archived_at == T1


def test_a_key_result_moved_to_another_objective_follows_the_file(store: Store, catalog: Catalog) -> None:
    store.sync_catalog(catalog, now=T0)
    moved = catalog.key_result("CO-1.2")
    assert moved is not None
    first, second = catalog.objectives
    rearranged = replace(
        catalog,
        objectives=(
            replace(first, key_results=tuple(kr for kr in first.key_results if kr.id != "CO-1.2")),
            replace(second, key_results=(*second.key_results, moved)),
        ),
    )

    store.sync_catalog(rearranged, now=T1)

    row = kr_row(store, "CO-1.2")
    assert (row.objective_id, row.definition["objective_id"]) == ("T-1", "T-1")


def test_definitions_hold_each_item_as_data(loaded: Store) -> None:
    with loaded.session() as session:
        objective = session.get(ObjectiveRow, "CO-1")
        team = session.get(ObjectiveRow, "T-1")
        launch = session.get(KeyResultRow, "T-1.1")
    assert objective is not None and team is not None and launch is not None
    assert objective.parent is None  # okrs.toml's parent = "" means no parent
    assert objective.definition["key_results"] == ["CO-1.1", "CO-1.2"]
    assert objective.definition["level"] == "company"
    assert team.visible_to == ["shop", "leadership"]
    assert launch.definition["source"]["issue"] == "SHOP-1"
    assert launch.definition["initiatives"] == {"jql": "issuetype = Epic AND labels = kr-T-1.1", "epics": [],
                                                 "label": None}
    assert launch.definition["measure"]["partial_credit"] is True


def test_an_id_shared_by_a_key_result_and_a_kpi_is_refused(store: Store, catalog: Catalog) -> None:
    clash = replace(catalog, kpis=(*catalog.kpis, Kpi(id="CO-1.1", name="Clashing")))

    with pytest.raises(CatalogConflict, match=r"both a key result and a KPI: CO-1\.1"):
        store.sync_catalog(clash)

    with store.session() as session:
        assert session.exec(select(func.count()).select_from(ObjectiveRow)).one() == 0


def test_a_key_result_id_used_twice_is_refused(store: Store, catalog: Catalog) -> None:
    first, second = catalog.objectives
    twin = KeyResult(id="CO-1.1", title="Twin", measure=Measure(MeasureKind.MILESTONE))
    clash = replace(catalog, objectives=(first, replace(second, key_results=(twin,))))

    with pytest.raises(CatalogConflict, match=r"key result id used more than once: CO-1\.1"):
        store.sync_catalog(clash)


def test_naive_now_is_refused(store: Store, catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        store.sync_catalog(catalog, now=T0.replace(tzinfo=None))


def test_concurrent_loads_on_sqlite_add_each_item_once(
    sqlite_url: str, store: Store, catalog: Catalog, make_store: Callable[[str], Store]
) -> None:
    stores = [make_store(sqlite_url) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    results: list[object] = []

    def load(s: Store) -> None:
        barrier.wait()
        try:
            results.append(s.sync_catalog(catalog, now=T0))
        except Exception as exc:  # collected: a thread's exception would otherwise be lost
            results.append(exc)

    threads = [threading.Thread(target=load, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not [r for r in results if isinstance(r, Exception)]
    added = [item for r in results for item in getattr(r, "added")]  # noqa: B009
    assert len(added) == len(set(added)) == 6
    with store.session() as session:
        assert session.exec(select(func.count()).select_from(KeyResultRow)).one() == 3
