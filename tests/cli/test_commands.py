"""The command line: thin over the library, documented, and clear about bad input."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from okrbridge.cli import cli
from okrbridge.config import load_settings
from okrbridge.workspace import grades, open_workspace

README = Path(__file__).parents[2] / "README.md"


def test_every_command_is_documented_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", readme, flags=re.MULTILINE))
    assert set(cli.commands) <= documented, f"undocumented: {set(cli.commands) - documented}"


def test_every_command_has_help_text() -> None:
    for name, command in cli.commands.items():
        assert command.help or command.short_help, f"{name} has no help"


def test_validate_accepts_the_bundled_sample(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate"])
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output


def test_validate_names_file_line_id_and_field_of_an_error(runner: CliRunner, tmp_path: Path) -> None:
    okrs = tmp_path / "okrs.toml"
    okrs.write_text('[[objective]]\nid = "O-1"\ntitle = "Grow"\ncycle = "2026-Q5"\n', encoding="utf-8")
    config = tmp_path / "broken.toml"
    config.write_text(f'okrs = "{okrs}"\n', encoding="utf-8")
    result = runner.invoke(cli, ["--config", str(config), "validate", "--json"])
    assert result.exit_code == 1
    problems = json.loads(result.output)["problems"]
    cycle = next(p for p in problems if p["field"] == "cycle")
    assert (cycle["subject"], cycle["line"], cycle["severity"]) == ("O-1", 4, "error")
    assert "2026-Q5" in cycle["message"]


def test_a_config_error_names_the_key_and_exits_non_zero(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[jira]\nmax_concurrency = \"many\"\n", encoding="utf-8")
    result = runner.invoke(cli, ["--config", str(config), "grades"])
    assert result.exit_code == 1
    assert "jira.max_concurrency" in result.output


def test_checkin_then_grades_follow_the_scoring_table(runner: CliRunner) -> None:
    for kr, value in (("CO-1.2", "400"), ("CO-2.1", "17.5"), ("CO-1.3", "20")):
        result = runner.invoke(cli, ["checkin", kr, value, "--at", "2026-06-15", "--note", "test"])
        assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["grades", "--cycle", "2026-Q2", "--at", "2026-07-01", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    krs = {kr["id"]: kr for o in report["objectives"] for kr in o["krs"]}
    assert (krs["CO-1.2"]["value"], krs["CO-1.2"]["score"]) == (400, 0.5)
    assert krs["CO-2.1"]["score"] == 0.5
    assert krs["CO-1.3"]["score"] == 0.0
    assert krs["CO-1.2"]["status"] == "at risk"


def test_the_pace_tolerance_setting_changes_the_pace_grades_report(runner: CliRunner,
                                                                   config_file: Path) -> None:
    # 0.5 of the way on 1 March, when 59/365 (~0.16) of the year has passed: 0.34 ahead.
    runner.invoke(cli, ["checkin", "CO-1.2", "400", "--at", "2026-02-15"])

    def pace() -> str:
        result = runner.invoke(cli, ["grades", "--cycle", "2026", "--at", "2026-03-01", "--json"])
        assert result.exit_code == 0, result.output
        return next(kr["pace"] for o in json.loads(result.output)["objectives"] for kr in o["krs"]
                    if kr["id"] == "CO-1.2")

    assert pace() == "ahead"  # the default tolerance, 0.1
    config_file.write_text(config_file.read_text() + "[grading]\npace_tolerance = 0.5\n", encoding="utf-8")
    assert pace() == "on pace"


def test_a_grade_is_taken_at_the_period_end_not_later(runner: CliRunner) -> None:
    runner.invoke(cli, ["checkin", "CO-1.2", "350", "--at", "2026-03-15"])
    runner.invoke(cli, ["checkin", "CO-1.2", "450", "--at", "2026-05-15"])
    result = runner.invoke(cli, ["grades", "--cycle", "2026", "--nested", "--at", "2026-12-31", "--json"])
    reports = {r["period"]: r for r in json.loads(result.output)}
    assert set(reports) >= {"2026", "2026-Q1", "2026-Q2", "2026-03", "2026-12"}

    def value(period: str) -> float | None:
        krs = {kr["id"]: kr for o in reports[period]["objectives"] for kr in o["krs"]}
        return krs["CO-1.2"]["value"]

    assert value("2026-Q1") == 350
    assert value("2026-Q2") == 450
    assert value("2026-02") is None


def test_nested_grades_are_written_one_report_at_a_time_as_the_json_of_the_whole_list(
        runner: CliRunner, config_file: Path) -> None:
    runner.invoke(cli, ["checkin", "CO-1.2", "350", "--at", "2026-03-15", "--note", "line one\nline two"])
    result = runner.invoke(cli, ["grades", "--cycle", "2026", "--nested", "--at", "2026-12-31", "--json"])
    assert result.exit_code == 0, result.output
    ws = open_workspace(load_settings(config_file, {}), mode="read")
    try:
        year = ws.loaded.calendar.parse("2026")
        reports = grades(ws, year, now=datetime(2026, 12, 31, tzinfo=UTC), nested=True)
    finally:
        ws.close()
    # byte for byte what printing the whole list at once gives (17 reports: the year, 4 quarters, 12 months)
    assert len(reports) == 17
    assert result.output == json.dumps([r.to_dict() for r in reports], indent=2, default=str,
                                       ensure_ascii=False) + "\n"


@pytest.mark.parametrize("output", [["--json"], []], ids=["json", "text"])
def test_nested_grades_from_worker_processes_are_the_grades_of_one_process(
        runner: CliRunner, output: list[str]) -> None:
    runner.invoke(cli, ["checkin", "CO-1.2", "350", "--at", "2026-03-15"])
    runner.invoke(cli, ["checkin", "CO-1.2", "450", "--at", "2026-05-15"])
    nested = ["grades", "--cycle", "2026", "--nested", "--at", "2026-12-31", *output]
    alone = runner.invoke(cli, [*nested, "--jobs", "1"])
    assert alone.exit_code == 0, alone.output
    assert runner.invoke(cli, [*nested, "--jobs", "3"]).output == alone.output


def test_checkin_to_an_unknown_kr_is_refused_by_name(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["checkin", "NOPE-9", "1"])
    assert result.exit_code == 1
    assert "NOPE-9" in result.output


def test_history_lists_checkins_with_their_notes(runner: CliRunner) -> None:
    runner.invoke(cli, ["checkin", "CO-1.2", "420", "--at", "2026-03-01", "--note", "March invoices"])
    result = runner.invoke(cli, ["history", "CO-1.2", "--json"])
    assert result.exit_code == 0, result.output
    [snapshot] = json.loads(result.output)
    assert (snapshot["value"], snapshot["score"], snapshot["note"]) == (420, 0.6, "March invoices")
    assert snapshot["taken_at"].startswith("2026-03-01")


@pytest.mark.parametrize("args", [["grades", "--cycle", "2026-Q7"], ["grades", "--at", "yesterday"]])
def test_bad_cycle_or_date_is_a_clear_error(runner: CliRunner, args: list[str]) -> None:
    runner.invoke(cli, ["checkin", "CO-1.2", "420"])  # a database to read
    result = runner.invoke(cli, args)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "2026-Q7" in result.output or "yesterday" in result.output


def test_sync_dry_run_lists_each_distinct_query_once_and_touches_nothing(
        runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["sync", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["dry_run"] is True
    assert len(report["planned"]) == len(set(report["planned"])) == report["questions"]
    assert any("labels = converted" in q for q in report["planned"])


def test_sync_without_a_jira_url_says_what_to_set(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["sync"])
    assert result.exit_code == 1
    assert "jira.url" in result.output


def test_a_checkin_on_a_jira_backed_kr_is_stored_with_a_warning(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["checkin", "CO-1.1", "2.2", "--at", "2026-03-01"])
    assert result.exit_code == 0
    assert "warning: CO-1.1 is synced from Jira (jql_ratio)" in result.stderr
    assert runner.invoke(cli, ["checkin", "CO-1.2", "410"]).stderr == ""


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    readme = README.read_text(encoding="utf-8")
    [command] = [line.split("#")[0].strip() for line in readme.splitlines() if line.endswith("# the tests")]
    ci_lines = (README.parent / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci_lines[-1].strip() == command


def test_the_readme_quick_start_runs_the_demo() -> None:
    readme = README.read_text(encoding="utf-8")
    assert "python3 -m pip install -e . && okrbridge demo" in readme
