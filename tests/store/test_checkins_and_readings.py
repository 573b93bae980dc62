"""Manual check-ins and what grading reads back: readings, history, latest snapshot."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from okrbridge.domain import Catalog
from okrbridge.explanation import Explanation
from okrbridge.store import Store, SubjectKind, UnknownSubject
from okrbridge.store.tables import SnapshotRow

from .support import T0, without_key_result


def test_a_checkin_stores_a_manual_snapshot_with_note_and_author(loaded: Store) -> None:
    snapshot = loaded.record_checkin("CO-1.2", 3, at=T0, note="Q1 stories", author="carol", score=0.25)

    assert (snapshot.subject_id, snapshot.subject_kind, snapshot.taken_at) == ("CO-1.2", SubjectKind.KR, T0)
    assert (snapshot.value, snapshot.source_kind) == (3, "manual")
    assert (snapshot.note, snapshot.author, snapshot.sync_run_id) == ("Q1 stories", "carol", None)
    assert loaded.history("CO-1.2") == [snapshot]


def test_a_checkin_for_a_kpi_is_stored_as_a_kpi_value(loaded: Store) -> None:
    snapshot = loaded.record_checkin("web-conversion", 2.2, at=T0)

    assert snapshot.subject_kind is SubjectKind.KPI


def test_a_checkin_for_an_unknown_id_is_refused_naming_the_id(loaded: Store) -> None:
    with pytest.raises(UnknownSubject, match=r"'CO-9\.9'") as raised:
        loaded.record_checkin("CO-9.9", 1.0, at=T0)

    assert raised.value.subject_id == "CO-9.9"
    assert loaded.readings() == {}


def test_a_checkin_for_an_archived_key_result_is_refused(loaded: Store, catalog: Catalog) -> None:
    archived_at = T0 + timedelta(days=1)
    loaded.sync_catalog(without_key_result(catalog, "CO-1.2"), now=archived_at)

    with pytest.raises(UnknownSubject, match=r"'CO-1\.2' was archived") as raised:
        loaded.record_checkin("CO-1.2", 1.0, at=T0 + timedelta(days=2))

    assert raised.value.archived_at == archived_at
    assert loaded.history("CO-1.2") == []


def test_a_checkin_for_an_objective_id_is_refused(loaded: Store) -> None:
    with pytest.raises(UnknownSubject):
        loaded.record_checkin("CO-1", 1.0, at=T0)


@pytest.mark.parametrize(
    ("value", "score", "message"),
    [(float("nan"), None, "value must be a finite"), (1.0, 1.5, "score must be within")],
)
def test_a_checkin_with_an_impossible_number_is_refused(
    loaded: Store, value: float, score: float | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        loaded.record_checkin("CO-1.2", value, at=T0, score=score)


def test_a_checkin_at_a_naive_time_is_refused(loaded: Store) -> None:
    with pytest.raises(ValueError, match="at must be timezone-aware"):
        loaded.record_checkin("CO-1.2", 1.0, at=T0.replace(tzinfo=None))


def test_readings_come_back_oldest_first_per_subject(loaded: Store) -> None:
    for days, value in ((3, 3.0), (1, 1.0), (2, 2.0)):
        loaded.record_checkin("CO-1.2", value, at=T0 + timedelta(days=days))
    loaded.record_checkin("web-conversion", 2.1, at=T0)

    readings = loaded.readings()

    assert [r.value for r in readings["CO-1.2"]] == [1.0, 2.0, 3.0]
    assert [r.taken_at for r in readings["CO-1.2"]] == [T0 + timedelta(days=d) for d in (1, 2, 3)]
    assert [r.value for r in readings["web-conversion"]] == [2.1]


def test_readings_until_keep_only_values_taken_strictly_before_it(loaded: Store) -> None:
    for days in (0, 1, 2):
        loaded.record_checkin("CO-1.2", float(days), at=T0 + timedelta(days=days))

    readings = loaded.readings(until=T0 + timedelta(days=1))

    assert [r.taken_at for r in readings["CO-1.2"]] == [T0]


def test_readings_for_chosen_subjects_list_each_even_without_values(loaded: Store) -> None:
    loaded.record_checkin("CO-1.2", 1.0, at=T0)
    loaded.record_checkin("web-conversion", 2.0, at=T0)

    readings = loaded.readings(["CO-1.2", "CO-1.1"])

    assert set(readings) == {"CO-1.2", "CO-1.1"}
    assert readings["CO-1.1"] == []


def test_a_reading_explains_where_its_value_came_from(loaded: Store) -> None:
    loaded.record_checkin("CO-1.2", 4.0, at=T0, note="from the blog", author="carol")

    (reading,) = loaded.readings()["CO-1.2"]

    assert reading.explanation == Explanation("manual", note="from the blog", author="carol")
    assert reading.explanation.describe() == 'check-in "from the blog" by carol'


def test_readings_and_history_survive_archiving(loaded: Store, catalog: Catalog) -> None:
    loaded.record_checkin("web-conversion", 2.0, at=T0)
    loaded.sync_catalog(replace(catalog, kpis=()), now=T0 + timedelta(days=1))

    assert [r.value for r in loaded.readings()["web-conversion"]] == [2.0]
    assert [s.value for s in loaded.history("web-conversion")] == [2.0]


def test_history_of_an_id_never_catalogued_is_refused(loaded: Store) -> None:
    with pytest.raises(UnknownSubject, match="'nope'"):
        loaded.history("nope")


def test_history_of_a_subject_without_values_is_empty(loaded: Store) -> None:
    assert loaded.history("CO-1.1") == []


def test_latest_snapshot_is_the_newest_by_time_not_by_insertion(loaded: Store) -> None:
    loaded.record_checkin("CO-1.2", 2.0, at=T0 + timedelta(days=2))
    loaded.record_checkin("CO-1.2", 1.0, at=T0 + timedelta(days=1))

    latest = loaded.latest_snapshot("CO-1.2")

    assert latest is not None
    assert latest.value == 2.0


def test_latest_snapshot_of_a_subject_without_values_is_none(loaded: Store) -> None:
    assert loaded.latest_snapshot("CO-1.1") is None


def test_a_row_written_by_an_earlier_version_decodes_into_an_explanation(loaded: Store) -> None:
    old_detail = {"source": "kpi", "kpi": "web-conversion", "deployment": "cloud",
                  "kpi_detail": {"source": "jql_count", "jql": "project = WEB", "count": 640}}
    with loaded.session(write=True) as session:
        session.add(SnapshotRow(subject_id="CO-1.2", subject_kind="kr", taken_at=T0, confirmed_at=T0,
                                value=640.0, score=0.3, source_kind="kpi", source_detail=old_detail))

    [snapshot] = loaded.history("CO-1.2")
    [reading] = loaded.readings()["CO-1.2"]

    assert snapshot.explanation == reading.explanation
    assert snapshot.explanation.kpi_explanation == Explanation("jql_count", jql="project = WEB", count=640)
    assert snapshot.explanation.describe() == "from KPI web-conversion: count 640: [project = WEB]"
