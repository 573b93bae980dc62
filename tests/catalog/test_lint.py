"""OKR style warnings: KR count, owners, task-like titles, alignment; each tested both ways."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from okrbridge.catalog import load_catalog
from okrbridge.domain import Catalog, KeyResult, Level, Measure, MeasureKind, Objective
from okrbridge.lint import ACTIVITY_VERBS, lint, task_verb

Write = Callable[..., Path]


OUTCOME = "Increase conversion from 2% to 2.5%"


def kr(kr_id: str, title: str = OUTCOME, owner: str | None = "bob") -> KeyResult:
    """A well-formed key result."""
    return KeyResult(id=kr_id, title=title, owner=owner, objective_id=kr_id.split(".")[0],
                     measure=Measure(MeasureKind.INCREASE, start=2, target=2.5))


def objective(obj_id: str, count: int = 3, level: Level = Level.TEAM, parent: str | None = "CO-1",
              cycle: str = "2026") -> Objective:
    """An objective with `count` well-formed key results."""
    return Objective(id=obj_id, title="Grow", cycle=cycle, level=level, parent=parent,
                     key_results=tuple(kr(f"{obj_id}.{i + 1}") for i in range(count)))


COMPANY = objective("CO-1", level=Level.COMPANY, parent=None)


def warnings_about(catalog: Catalog, subject: str) -> list[tuple[str | None, str]]:
    """(field, message) of every lint warning about `subject`."""
    return [(p.field, p.message) for p in lint(catalog) if p.subject == subject]


@pytest.mark.parametrize("title", [
    "Launch the new pricing page",
    "A/B test 10 copy variations",
    "Hire 5 engineers",
    "Write 20 blog posts",
    "Run 3 customer workshops",
    "Set up a customer advisory board",
    "organise 4 meetups in Berlin",
    "Organize the partner summit",
    "Release v2 of the public API",
    "Migrate 12 services to Kubernetes",
    "Ship the self-serve checkout",
    "Complete 40 story points",
    "Hold 2 hackathons",
])
def test_activity_verb_without_a_measured_outcome_reads_like_a_task(title: str) -> None:
    assert task_verb(title) is not None


@pytest.mark.parametrize("title", [
    "Increase conversion from 2% to 2.5%",
    "Reduce churn from 20% to 15%",
    "Grow qualified opportunities from 0 to 120",
    "Self-serve checkout is live for every customer",
    "Keep employee satisfaction at 4 out of 5 or better",
    "Ship checkout with p95 latency under 300 ms",
    "Launch in two new markets bringing $1M in new ARR",
    "Run onboarding so that activation goes from 40 to 60",
    "Deliver 95 percent of orders on time",
    "Release fixes within 2 days of a report",
    "Testimonials on every product page double sign-ups",
    "Ship 3x faster page loads",
])
def test_outcomes_and_measured_activities_are_not_tasks(title: str) -> None:
    assert task_verb(title) is None


def test_task_verb_names_the_matched_verb() -> None:
    assert task_verb("A/B test 10 copy variations") == "a/b test"
    assert task_verb("Set up the data warehouse") == "set up"
    assert task_verb("Testing more") is None  # only the bare imperative form is matched


def test_every_activity_verb_is_lower_case_and_unique() -> None:
    assert all(v == v.lower().strip() for v in ACTIVITY_VERBS)
    assert len(set(ACTIVITY_VERBS)) == len(ACTIVITY_VERBS)


def test_well_formed_catalog_has_no_warnings() -> None:
    assert lint(Catalog(objectives=(COMPANY, objective("ENG-1", count=5)))) == []


@pytest.mark.parametrize("count", [0, 1, 2, 6, 9])
def test_objective_outside_three_to_five_key_results_is_warned(count: int) -> None:
    found = warnings_about(Catalog(objectives=(COMPANY, objective("ENG-1", count=count))), "ENG-1")
    plural = "s" if count != 1 else ""
    assert found == [(None, f"{count} key result{plural}; an objective should have 3 to 5")]


@pytest.mark.parametrize("count", [3, 4, 5])
def test_objective_with_three_to_five_key_results_is_fine(count: int) -> None:
    assert warnings_about(Catalog(objectives=(COMPANY, objective("ENG-1", count=count))), "ENG-1") == []


@pytest.mark.parametrize(("owner", "warned"), [(None, True), ("", True), ("bob", False)])
def test_key_result_without_owner_is_warned(owner: str | None, warned: bool) -> None:
    company = replace(COMPANY, key_results=(kr("CO-1.1", owner=owner), kr("CO-1.2"), kr("CO-1.3")))
    found = warnings_about(Catalog(objectives=(company,)), "CO-1.1")
    assert found == ([("owner", "no owner; every key result needs exactly one owner")] if warned else [])


def test_task_like_key_result_title_is_warned_with_advice() -> None:
    hire = kr("CO-1.1", title="Hire 5 engineers")
    company = replace(COMPANY, key_results=(hire, kr("CO-1.2"), kr("CO-1.3")))
    [(field, message)] = warnings_about(Catalog(objectives=(company,)), "CO-1.1")
    assert field == "title"
    assert "'Hire 5 engineers' reads like a task ('hire ...'), not an outcome" in message


@pytest.mark.parametrize("level", [Level.TEAM, Level.INDIVIDUAL])
def test_team_or_individual_objective_without_parent_is_warned(level: Level) -> None:
    orphan = objective("ENG-1", level=level, parent=None)
    found = warnings_about(Catalog(objectives=(COMPANY, orphan)), "ENG-1")
    message = f'a {level.value} objective should align to a parent objective (parent = "...")'
    assert found == [("parent", message)]


def test_company_objective_with_parent_is_warned() -> None:
    child = objective("CO-2", level=Level.COMPANY, parent="CO-1")
    assert [f for f, _ in warnings_about(Catalog(objectives=(COMPANY, child)), "CO-2")] == ["parent"]


def test_aligned_team_objective_and_parentless_company_objective_are_fine() -> None:
    catalog = Catalog(objectives=(COMPANY, objective("ENG-1", parent="CO-1")))
    assert warnings_about(catalog, "CO-1") == warnings_about(catalog, "ENG-1") == []


def test_child_cycle_outside_its_parent_cycle_is_warned() -> None:
    catalog = Catalog(objectives=(COMPANY, objective("ENG-1", cycle="2025-Q4"),
                                  objective("ENG-2", cycle="2026-Q4")))
    assert warnings_about(catalog, "ENG-1") == [
        ("cycle", "cycle 2025-Q4 does not overlap the cycle 2026 of its parent CO-1")]
    assert warnings_about(catalog, "ENG-2") == []


def test_loader_places_lint_warnings_on_their_lines(write: Write, valid_okrs: str) -> None:
    text = (valid_okrs.replace('  owner = "frank"\n', "")
            .replace("Grow qualified opportunities from 0 to 120", "Run 12 sales webinars"))
    path = write(text)
    loaded = load_catalog(path)
    lines = text.splitlines()
    assert [(w.subject, w.field, lines[(w.line or 0) - 1].strip()) for w in loaded.warnings] == [
        ("SALES-1.1", "title", 'title = "Run 12 sales webinars"'),
        ("SALES-1.2", "owner", 'id = "SALES-1.2"'),
    ]
    assert all(w.file == str(path) and w.severity == "warning" for w in loaded.warnings)


def test_key_result_count_warning_points_at_the_objective_id(write: Write, valid_okrs: str) -> None:
    cut = valid_okrs.index("  [[objective.key_result]]\n  id = \"SALES-1.2\"")
    text = valid_okrs[:cut]
    [warning] = load_catalog(write(text)).warnings
    assert (warning.subject, warning.field) == ("SALES-1", None)
    assert text.splitlines()[(warning.line or 0) - 1] == 'id = "SALES-1"'
