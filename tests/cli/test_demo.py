"""`okrbridge demo`: the main job on embedded defaults, end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from okrbridge.cli import cli
from okrbridge.demo import replay_days, run_demo, running_sandbox


def test_replay_runs_weekly_and_ends_now() -> None:
    start, now = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 29, 9, tzinfo=UTC)
    days = replay_days(start, now, every=timedelta(days=7))
    assert [d.isoformat() for d in days] == [
        "2026-01-08T18:00:00+00:00", "2026-01-15T18:00:00+00:00", "2026-01-22T18:00:00+00:00",
        "2026-01-29T09:00:00+00:00"]  # the 29th's 18:00 is after now: that week's sync is now


def test_a_replayed_year_leaves_a_history_of_real_counts(tmp_path: Path) -> None:
    now = datetime(2026, 2, 12, 12, tzinfo=UTC)
    with running_sandbox("cloud") as server:
        run, ws = run_demo(server, tmp_path / "demo.db", now=now)
        try:
            history = ws.store.history("CO-1.1")
            assert [s.taken_at.date().isoformat() for s in history] == [
                "2026-01-08", "2026-01-15", "2026-01-22", "2026-01-29", "2026-02-05", "2026-02-12"]
            assert history[-1].taken_at == now
            visits = [s.explanation.denominator.count for s in history if s.explanation.denominator]
            assert len(visits) == len(history)
            assert visits == sorted(visits) and visits[0] < visits[-1]  # WEB visits accumulate week by week
            assert all(not report.failed for report in run.syncs)
            assert run.checkins > 0 and ws.store.history("CO-1.2")
        finally:
            ws.close()
    assert f"sqlite:///{(tmp_path / 'demo.db').resolve()}" in run.config_file.read_text(encoding="utf-8")


def test_demo_command_prints_grades_that_explain_themselves(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--no-history", "--database", str(database), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["last_sync"]["status"] == "succeeded" and data["checkins"] > 0
    year = data["grades"][0]
    krs = {kr["id"]: kr for objective in year["objectives"] for kr in objective["krs"]}
    assert krs["CO-1.1"]["explanation"]["numerator"]["jql"].startswith("project = WEB")
    assert krs["CO-1.2"]["value"] == 400 and krs["CO-1.2"]["score"] == 0.5
    explore = CliRunner().invoke(cli, ["--config", data["config"], "history", "CO-1.1", "--json"])
    assert explore.exit_code == 0 and len(json.loads(explore.output)) == 1
