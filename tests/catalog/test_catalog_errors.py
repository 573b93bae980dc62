"""Every error the OKR file loader reports names the file, the line, the id and the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from okrbridge.catalog import CatalogError, Problem, check_catalog_file, load_catalog

Write = Callable[..., Path]


def line_of(text: str, snippet: str, after: str = "") -> int:
    """The 1-based line of the first `snippet` that comes after `after`."""
    return text[:text.index(snippet, text.index(after))].count("\n") + 1


def expect_error(path: Path, subject: str | None, field: str | None, line: int | None,
                 fragment: str) -> Problem:
    """Loading `path` fails with an error about subject.field on `line` whose message has `fragment`."""
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    found = [p for p in caught.value.problems if p.subject == subject and p.field == field]
    assert found, f"no error for {subject}.{field} in:\n{caught.value}"
    problem = found[0]
    assert problem.severity == "error"
    assert problem.file == str(path)
    assert problem.line == line, str(problem)
    assert fragment in problem.message
    where = f"{path}:{line}" if line else str(path)
    what = ".".join(x for x in (subject, field) if x)
    assert str(problem) == f"{where}: {what}: {problem.message}"
    assert str(problem) in str(caught.value)
    return problem


def test_problem_str_reads_file_line_subject_field_message() -> None:
    problem = Problem("error", "okrs.toml", 42, "CO-1.2", "target",
                      "start and target are both 300; a key result must move")
    assert str(problem) == ("okrs.toml:42: CO-1.2.target: "
                            "start and target are both 300; a key result must move")


def test_problem_str_marks_warnings_and_omits_unknown_line() -> None:
    problem = Problem("warning", "okrs.toml", None, "CO-1", None, "2 key results")
    assert str(problem) == "okrs.toml: CO-1: warning: 2 key results"


def test_the_valid_fixture_loads_cleanly(write: Write, valid_okrs: str) -> None:
    loaded = load_catalog(write(valid_okrs))
    assert loaded.warnings == []
    assert [o.id for o in loaded.catalog.objectives] == ["CO-1", "SALES-1"]


def test_toml_syntax_error_is_one_problem_with_tomllib_line(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('owner = "carol"\n  measure', 'owner = "carol\n  measure')
    path = write(text)
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    [problem] = caught.value.problems
    assert problem.line == line_of(text, 'owner = "carol\n')
    assert problem.message.startswith("invalid TOML: ")
    assert str(problem).startswith(f"{path}:{problem.line}: invalid TOML")


def test_a_key_defined_twice_points_at_the_second_definition(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace("  target = 500\n", "  target = 500\n  target = 600\n")
    path = write(text)
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    [problem] = caught.value.problems
    assert problem.line == line_of(text, "target = 600")
    assert f"defined twice (first at line {line_of(text, 'target = 500')})" in problem.message


def test_a_key_defined_twice_after_a_sub_table_points_at_the_second_definition(write: Write,
                                                                              valid_okrs: str) -> None:
    text = valid_okrs.replace("  target = 17\n", "  target = 17\n  target = 16\n")
    with pytest.raises(CatalogError) as caught:
        load_catalog(write(text))
    [problem] = caught.value.problems
    assert problem.line == line_of(text, "target = 16")
    assert "objective[1].key_result[1].target is defined twice" in problem.message


def test_unknown_key_in_a_key_result_is_named_with_allowed_keys(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace("  target = 500\n", '  target = 500\n  colour = "red"\n')
    problem = expect_error(write(text), "CO-1.2", "colour", line_of(text, "colour"), "unknown key 'colour'")
    assert "allowed keys: id, title, measure" in problem.message


def test_unknown_key_inside_a_source_names_the_key_path(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('kind = "jql_count"\n', 'kind = "jql_count"\n    jqll = "x"\n')
    expect_error(write(text), "SALES-1.1", "source.jqll", line_of(text, "jqll"), "unknown key 'jqll'")


def test_unknown_top_level_key_has_no_subject(write: Write, valid_okrs: str) -> None:
    text = "fiscal_year_begin = 1\n" + valid_okrs
    expect_error(write(text), None, "fiscal_year_begin", 1, "unknown key")


def test_wrong_type_names_the_field_and_the_value(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace("start = 300", 'start = "300"')
    expect_error(write(text), "CO-1.2", "start", line_of(text, 'start = "300"'), "valid number (got '300')")


def test_missing_required_key_points_at_the_entry_id(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('  title = "Increase average subscription value from $300 to $500"\n', "")
    expect_error(write(text), "CO-1.2", "title", line_of(text, 'id = "CO-1.2"'),
                 "missing required key 'title'")


def test_entry_without_id_is_named_by_its_position(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('  id = "CO-1.2"\n', "")
    expect_error(write(text), "objective[0].key_result[1]", "id",
                 line_of(text, "[[objective.key_result]]", after="CO-1.1"), "missing required key 'id'")


def test_objective_as_a_plain_table_asks_for_an_array_of_tables(write: Write) -> None:
    text = '[objective]\nid = "CO-1"\ntitle = "Grow"\ncycle = "2026"\n'
    expect_error(write(text), None, "objective", 1, "write [[objective]]")


def test_duplicate_key_result_id_names_the_first_use(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('id = "CO-1.3"', 'id = "CO-1.1"')
    first = line_of(text, 'id = "CO-1.1"')
    second = line_of(text, 'id = "CO-1.1"', after="CO-1.2")
    expect_error(write(text), "CO-1.1", "id", second, f"already used by the key result at line {first}")


def test_ids_are_unique_across_objectives_key_results_and_kpis(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('id = "SALES-1.2"', 'id = "acv"').replace('id = "SALES-1"\n', 'id = "CO-1.2"\n')
    path = write(text)
    first = line_of(text, 'id = "CO-1.2"')
    expect_error(path, "CO-1.2", "id", line_of(text, 'id = "CO-1.2"', after="CO-1.3"),
                 f"already used by the key result at line {first}")
    expect_error(path, "acv", "id", line_of(text, 'id = "acv"', after="SALES"),
                 "already used by the KPI at line 4")


def test_unknown_parent_objective(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('parent = "CO-1"', 'parent = "CO-9"')
    expect_error(write(text), "SALES-1", "parent", line_of(text, 'parent = "CO-9"'),
                 "unknown parent objective 'CO-9'")


def test_parent_that_is_a_key_result_is_refused(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('parent = "CO-1"', 'parent = "CO-1.1"')
    expect_error(write(text), "SALES-1", "parent", line_of(text, 'parent = "CO-1.1"'),
                 "'CO-1.1' is a key result, not an objective")


def test_parent_loop_is_reported_once_with_its_chain(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('cycle = "2026"\n', 'cycle = "2026"\nparent = "SALES-1"\n', 1)
    path = write(text)
    problem = expect_error(path, "CO-1", "parent", line_of(text, 'parent = "SALES-1"'),
                           "parents form a loop: CO-1 -> SALES-1 -> CO-1")
    loops = [p for p in check_catalog_file(path) if "loop" in p.message]
    assert loops == [problem]


def test_objective_that_is_its_own_parent_is_a_loop(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('parent = "CO-1"', 'parent = "SALES-1"')
    expect_error(write(text), "SALES-1", "parent", line_of(text, 'parent = "SALES-1"'),
                 "loop: SALES-1 -> SALES-1")


def test_unknown_kpi_in_a_kpi_source(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('kpi = "acv"', 'kpi = "arr"')
    expect_error(write(text), "CO-1.3", "source.kpi", line_of(text, 'kpi = "arr"'), "unknown KPI 'arr'")


def test_kpi_source_naming_an_objective_is_refused(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('kpi = "acv"', 'kpi = "CO-1"')
    expect_error(write(text), "CO-1.3", "source.kpi", line_of(text, 'kpi = "CO-1"'),
                 "'CO-1' is an objective, not a KPI")


@pytest.mark.parametrize("cycle", ["2026-Q5", "26", "2026-13", "FY2026", "2026-q1"])
def test_cycle_that_does_not_parse(write: Write, valid_okrs: str, cycle: str) -> None:
    text = valid_okrs.replace('cycle = "2026-Q4"', f'cycle = "{cycle}"')
    expect_error(write(text), "SALES-1", "cycle", line_of(text, f'cycle = "{cycle}"'), "is not a year (2026)")


def test_fiscal_year_start_must_be_a_month(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace("fiscal_year_start = 1", "fiscal_year_start = 13")
    expect_error(write(text), None, "fiscal_year_start", 1, "less than or equal to 12")


def test_fiscal_year_named_by_lists_the_choices(write: Write, valid_okrs: str) -> None:
    text = 'fiscal_year_named_by = "middle"\n' + valid_okrs
    expect_error(write(text), None, "fiscal_year_named_by", 1, "allowed: 'end' or 'start'")


@pytest.mark.parametrize(("old", "new", "subject", "field", "fragment"), [
    ("  target = 500\n", "", "CO-1.2", "target",
     "an increase measure needs start and target; target is missing"),
    ("  start = 20\n", "", "SALES-1.2", "start",
     "a decrease measure needs start and target; start is missing"),
    ("  low = 5\n", "", "SALES-1.3", "low",
     "a threshold measure needs low, high and start; low is missing"),
    ("  start = 18\n", "", "SALES-1.3", "start",
     "a threshold measure needs low, high and start; start is missing"),
])
def test_measure_without_the_numbers_it_needs(write: Write, valid_okrs: str, old: str, new: str,
                                              subject: str, field: str, fragment: str) -> None:
    text = valid_okrs.replace(old, new)
    expect_error(write(text), subject, field, line_of(text, f'id = "{subject}"'), fragment)


def test_baseline_measure_needs_a_baseline(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('measure = "threshold"', 'measure = "baseline"').replace(
        "  start = 18\n  low = 5\n  high = 10\n", "")
    expect_error(write(text), "SALES-1.3", "baseline", line_of(text, 'id = "SALES-1.3"'),
                 "a baseline measure needs baseline")


def test_threshold_low_above_high(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace("low = 5", "low = 12")
    expect_error(write(text), "SALES-1.3", "high", line_of(text, "high = 10"), "low 12 is above high 10")


def test_start_equal_to_target_must_move(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace("target = 500", "target = 300")
    expect_error(write(text), "CO-1.2", "target", line_of(text, "target = 300"),
                 "start and target are both 300; a key result must move")


@pytest.mark.parametrize(("old", "new", "subject", "fragment"), [
    ("target = 500", "target = 200", "CO-1.2",
     'an increase measure cannot go from 300 to 200; use measure = "decrease"'),
    ("target = 17", "target = 25", "SALES-1.2",
     'a decrease measure cannot go from 20 to 25; use measure = "increase"'),
])
def test_target_on_the_wrong_side_of_start(write: Write, valid_okrs: str, old: str, new: str, subject: str,
                                           fragment: str) -> None:
    text = valid_okrs.replace(old, new)
    expect_error(write(text), subject, "target", line_of(text, new), fragment)


@pytest.mark.parametrize("weight", ["0", "-1.5"])
def test_weight_must_be_positive(write: Write, valid_okrs: str, weight: str) -> None:
    text = valid_okrs.replace("  target = 500\n", f"  target = 500\n  weight = {weight}\n")
    expect_error(write(text), "CO-1.2", "weight", line_of(text, "weight ="),
                 f"weight must be above 0, not {weight}")


@pytest.mark.parametrize(("source", "field"), [
    ('{ kind = "jql_count" }', "jql"),
    ('{ kind = "jql_ratio", numerator = "project = WEB" }', "denominator"),
    ('{ kind = "jql_ratio", denominator = "project = WEB" }', "numerator"),
    ('{ kind = "jql_sum", jql = "project = ENG" }', "field"),
    ('{ kind = "jql_sum", field = "customfield_10016" }', "jql"),
    ('{ kind = "kpi" }', "kpi"),
    ('{ kind = "milestone" }', "issue"),
    ('{ kind = "jql_count", jql = "  " }', "jql"),
])
def test_source_without_its_fields(write: Write, valid_okrs: str, source: str, field: str) -> None:
    text = valid_okrs.replace("  target = 500\n", f"  target = 500\n  source = {source}\n")
    kind = source.split('"')[1]
    expect_error(write(text), "CO-1.2", f"source.{field}", line_of(text, f"source = {source}"),
                 f"source needs {field}")
    assert kind in str(load_error(write(text)))


def load_error(path: Path) -> CatalogError:
    """The CatalogError loading `path` raises."""
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    return caught.value


def test_source_field_the_kind_does_not_use_is_an_error(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('kind = "jql_count"\n', 'kind = "jql_count"\n    numerator = "x"\n')
    expect_error(write(text), "SALES-1.1", "source.numerator", line_of(text, 'numerator = "x"'),
                 "a jql_count source does not use numerator")


def test_milestone_issue_must_be_an_issue_key(write: Write, valid_okrs: str) -> None:
    source = '  source = { kind = "milestone", issue = "checkout" }\n'
    text = valid_okrs.replace("  target = 500\n", "  target = 500\n" + source)
    expect_error(write(text), "CO-1.2", "source.issue", line_of(text, "milestone"), "not a Jira issue key")


@pytest.mark.parametrize(("old", "new", "subject", "field", "allowed"), [
    ('measure = "decrease"', 'measure = "shrink"', "SALES-1.2", "measure",
     "unknown measure 'shrink'; allowed: 'increase', 'decrease', 'threshold', 'baseline' or 'milestone'"),
    ('kind = "jql_count"', 'kind = "jql"', "SALES-1.1", "source.kind",
     "unknown source kind 'jql'; "
     "allowed: 'manual', 'jql_count', 'jql_ratio', 'jql_sum', 'kpi' or 'milestone'"),
    ('level = "team"', 'level = "squad"', "SALES-1", "level",
     "unknown level 'squad'; allowed: 'company', 'team' or 'individual'"),
])
def test_unknown_kinds_list_the_allowed_ones(write: Write, valid_okrs: str, old: str, new: str, subject: str,
                                             field: str, allowed: str) -> None:
    text = valid_okrs.replace(old, new)
    expect_error(write(text), subject, field, line_of(text, new), allowed)


@pytest.mark.parametrize("initiatives", ["{}", '{ jql = "" }', "{ epics = [] }"])
def test_initiatives_need_a_jql_a_label_or_epics(write: Write, valid_okrs: str, initiatives: str) -> None:
    text = valid_okrs.replace('initiatives = { jql = "issuetype = Epic AND labels = \\"kr-SALES-1.1\\"" }',
                              f"initiatives = {initiatives}")
    expect_error(write(text), "SALES-1.1", "initiatives", line_of(text, "initiatives ="),
                 "initiatives need a jql, a label or a list of epics")


def test_an_initiatives_label_cannot_hold_a_space(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('initiatives = { jql = "issuetype = Epic AND labels = \\"kr-SALES-1.1\\"" }',
                              'initiatives = { label = "kr SALES-1.1" }')
    expect_error(write(text), "SALES-1.1", "initiatives.label", line_of(text, "initiatives ="),
                 "'kr SALES-1.1' is not a Jira label")


def test_initiative_epics_must_be_issue_keys(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('initiatives = { jql = "issuetype = Epic AND labels = \\"kr-SALES-1.1\\"" }',
                              'initiatives = { epics = ["SALES-12", "big epic"] }')
    expect_error(write(text), "SALES-1.1", "initiatives.epics[1]", line_of(text, "initiatives ="),
                 "'big epic' is not a Jira issue key")


def test_id_that_cannot_be_a_jira_label_is_refused(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('id = "CO-1.2"', 'id = "CO 1.2"')
    expect_error(write(text), "CO 1.2", "id", line_of(text, 'id = "CO 1.2"'), "becomes a Jira label")


def test_empty_visible_to_is_refused(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('visible_to = ["okr-sales"]', "visible_to = []")
    expect_error(write(text), "SALES-1", "visible_to", line_of(text, "visible_to = []"), "at least one group")


def test_kpi_needs_a_baseline_or_a_target(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace("baseline = 10000\ntarget = 15000\n", "")
    expect_error(write(text), "acv", "target", line_of(text, 'id = "acv"'),
                 "needs a baseline, a target or both")


def test_kpi_target_worse_than_its_baseline(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace("target = 15000\n", "target = 9000\n", 1)
    expect_error(write(text), "acv", "target", line_of(text, "target = 9000"),
                 "target 9000 is worse than baseline 10000")


def test_kpi_cannot_take_its_value_from_another_kpi(write: Write, valid_okrs: str) -> None:
    source = 'source = { kind = "kpi", kpi = "acv" }\n'
    text = valid_okrs.replace("target = 15000\n", "target = 15000\n" + source, 1)
    expect_error(write(text), "acv", "source.kind", line_of(text, 'source = { kind = "kpi"'),
                 "a kpi source is not allowed here; allowed: manual, jql_count, jql_ratio, jql_sum")


def test_every_problem_is_collected_not_only_the_first(write: Write, valid_okrs: str) -> None:
    text = (valid_okrs.replace("target = 500", "target = 300")
            .replace('parent = "CO-1"', 'parent = "CO-9"')
            .replace('kpi = "acv"', 'kpi = "arr"')
            .replace('cycle = "2026-Q4"', 'cycle = "2026-Q9"')
            .replace('measure = "decrease"', 'measure = "shrink"'))
    error = load_error(write(text))
    assert {(p.subject, p.field) for p in error.problems} == {
        ("CO-1.2", "target"), ("SALES-1", "parent"), ("CO-1.3", "source.kpi"), ("SALES-1", "cycle"),
        ("SALES-1.2", "measure")}
    assert [p.line for p in error.problems] == sorted(p.line or 0 for p in error.problems)
    assert len(str(error).splitlines()) == 5


def test_key_results_of_a_broken_objective_are_still_checked(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('level = "company"', "level = 3").replace("target = 500", "target = 300")
    error = load_error(write(text))
    assert {(p.subject, p.field) for p in error.problems} == {("CO-1", "level"), ("CO-1.2", "target")}


def test_problems_in_a_source_sub_table_point_at_the_sub_table_key(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace('kind = "jql_count"', 'kind = "jql_sum"')
    expect_error(write(text), "SALES-1.1", "source.field", line_of(text, "[objective.key_result.source]"),
                 "a jql_sum source needs field")


def test_missing_file_is_a_catalog_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    error = load_error(path)
    assert [p.message for p in error.problems] == ["cannot read the file: No such file or directory"]
    assert str(error) == f"{path}: cannot read the file: No such file or directory"


def test_check_catalog_file_returns_errors_instead_of_raising(write: Write, valid_okrs: str) -> None:
    problems = check_catalog_file(write(valid_okrs.replace("target = 500", "target = 300")))
    assert [(p.severity, p.subject, p.field) for p in problems] == [("error", "CO-1.2", "target")]


def test_numbers_a_measure_does_not_use_are_a_warning(write: Write, valid_okrs: str) -> None:
    text = valid_okrs.replace("  high = 10\n", "  high = 10\n  target = 7\n")
    loaded = load_catalog(write(text))
    [warning] = loaded.warnings
    assert (warning.severity, warning.subject, warning.field, warning.line) == (
        "warning", "SALES-1.3", "target", line_of(text, "target = 7"))
    assert "a threshold measure does not use target" in warning.message


def test_settings_of_another_measure_kind_are_a_warning(write: Write, valid_okrs: str) -> None:
    extra = '  better = "decrease"\n  partial_credit = true\n'
    text = valid_okrs.replace("  target = 500\n", "  target = 500\n" + extra)
    loaded = load_catalog(write(text))
    assert [(w.subject, w.field, w.line) for w in loaded.warnings] == [
        ("CO-1.2", "better", line_of(text, "better =")),
        ("CO-1.2", "partial_credit", line_of(text, "partial_credit ="))]
