"""The bundled sample OKRs and check-ins are a model: they load cleanly and hang together."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from okrbridge.catalog import LoadedCatalog, bundled_sample, check_catalog_file, load_catalog, load_checkins
from okrbridge.domain import EVERYONE, Level, MeasureKind, SourceKind


@pytest.fixture(scope="module")
def sample() -> LoadedCatalog:
    """The bundled okrs.toml, loaded."""
    return load_catalog(bundled_sample("okrs.toml"))


def test_sample_loads_with_no_errors_and_no_warnings(sample: LoadedCatalog) -> None:
    assert sample.warnings == []
    assert check_catalog_file(bundled_sample("okrs.toml")) == []


def test_sample_uses_every_measure_and_source_kind(sample: LoadedCatalog) -> None:
    krs = sample.catalog.key_results()
    assert {kr.measure.kind for kr in krs} == set(MeasureKind)
    assert {kr.source.kind for kr in krs} == set(SourceKind)


def test_sample_has_the_classic_company_objectives(sample: LoadedCatalog) -> None:
    catalog = sample.catalog
    co1, co2 = catalog.objective("CO-1"), catalog.objective("CO-2")
    assert co1 is not None and co1.title == "Increase sales revenue" and co1.level is Level.COMPANY
    assert co2 is not None and co2.title == "Reduce employee turnover"
    conversion = catalog.key_result("CO-1.1")
    assert conversion is not None and conversion.source.kind is SourceKind.JQL_RATIO
    assert (conversion.measure.start, conversion.measure.target) == (2.0, 2.5)
    assert "project = WEB" in (conversion.source.numerator or "")
    satisfaction = catalog.key_result("CO-2.2")
    assert satisfaction is not None and satisfaction.measure.kind is MeasureKind.BASELINE
    assert {k.id for k in catalog.kpis} == {"avg-contract-value", "ticket-resolution-time", "materials-cost"}


def test_sample_company_objectives_are_public_and_team_ones_are_restricted(sample: LoadedCatalog) -> None:
    for objective in sample.catalog.objectives:
        if objective.level is Level.COMPANY:
            assert objective.visible_to == (EVERYONE,)
        else:
            assert objective.visible_to and EVERYONE not in objective.visible_to
            assert all(group.startswith("okr-") for group in objective.visible_to)


def test_sample_has_yearly_and_quarterly_cycles(sample: LoadedCatalog) -> None:
    assert {o.cycle for o in sample.catalog.objectives} == {"2026", "2026-Q4"}


def test_sample_kr_labels_name_existing_key_results(sample: LoadedCatalog) -> None:
    labelled = [kr for kr in sample.catalog.key_results() if kr.initiatives.label]
    assert labelled
    for kr in labelled:
        # Each KR's epics carry its own label, which the query quotes ('.' is reserved in JQL).
        assert kr.initiatives.label == f"kr-{kr.id}"
        assert kr.initiatives.query == f'issuetype = Epic AND labels = "kr-{kr.id}"'


def test_sample_jira_projects_and_custom_fields_are_the_documented_ones(sample: LoadedCatalog) -> None:
    jqls = [j for kr in sample.catalog.key_results() for j in kr.source.jqls]
    jqls += [j for kpi in sample.catalog.kpis for j in kpi.source.jqls]
    projects = {p for j in jqls for p in re.findall(r"project = (\w+)", j)}
    assert projects <= {"WEB", "SALES", "MKT", "PEOPLE", "ENG"}
    fields = {s.field for s in [kr.source for kr in sample.catalog.key_results()]
              + [k.source for k in sample.catalog.kpis] if s.field}
    assert fields == {"customfield_10016", "customfield_10050"}


def test_sample_checkins_cover_every_manual_key_result_and_kpi(sample: LoadedCatalog) -> None:
    checkins = load_checkins(bundled_sample("checkins.toml"), sample.catalog)
    manual = {kr.id for kr in sample.catalog.key_results() if kr.source.kind is SourceKind.MANUAL}
    manual |= {k.id for k in sample.catalog.kpis if k.source.kind is SourceKind.MANUAL}
    assert {c.subject_id for c in checkins} == manual
    assert all(c.at.tzinfo is UTC and c.at.year == 2026 for c in checkins)


@pytest.mark.parametrize(("kr_id", "latest", "score"), [("CO-1.2", 400, 0.5), ("CO-2.1", 17.5, 0.5),
                                                        ("CO-1.3", 20, 0.0)])
def test_sample_latest_checkins_give_the_documented_scores(sample: LoadedCatalog, kr_id: str, latest: float,
                                                           score: float) -> None:
    checkins = [c for c in load_checkins(bundled_sample("checkins.toml")) if c.subject_id == kr_id]
    newest = max(checkins, key=lambda c: c.at)
    assert newest.value == latest
    kr = sample.catalog.key_result(kr_id)
    assert kr is not None and kr.measure.start is not None and kr.measure.target is not None
    # the increase/decrease formula of DESIGN.md, which is the same expression for both directions
    assert (newest.value - kr.measure.start) / (kr.measure.target - kr.measure.start) == score


def test_sample_checkins_are_in_the_past_of_their_cycle_year() -> None:
    checkins = load_checkins(bundled_sample("checkins.toml"))
    assert all(c.at < datetime(2026, 11, 23, tzinfo=UTC) for c in checkins)
