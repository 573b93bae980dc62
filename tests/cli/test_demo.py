"""`okrbridge demo`: the main job on embedded defaults, end to end, against the live sandbox."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from okrbridge.cli import cli
from okrbridge.config import load_settings
from okrbridge.demo import DemoRun, publish_moments, replay_days, run_demo, running_sandbox, running_web_app
from okrbridge.demo_folder import BOT_TOKEN, DemoFolderError, demo_env, free_port, prepare_folder
from okrbridge.workspace import Workspace
from sandbox.server import SandboxServer

NOW = datetime(2026, 2, 12, 12, tzinfo=UTC)
WEB_PORT = free_port()  # the links point here; the web app listens here where a test starts it


def test_replay_runs_weekly_and_ends_now() -> None:
    start, now = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 29, 9, tzinfo=UTC)
    days = replay_days(start, now, every=timedelta(days=7))
    assert [d.isoformat() for d in days] == [
        "2026-01-08T18:00:00+00:00", "2026-01-15T18:00:00+00:00", "2026-01-22T18:00:00+00:00",
        "2026-01-29T09:00:00+00:00"]  # the 29th's 18:00 is after now: that week's sync is now


def test_the_last_sync_of_each_month_and_the_last_of_all_publish() -> None:
    moments = [datetime(2026, 1, 22, tzinfo=UTC), datetime(2026, 1, 29, tzinfo=UTC),
               datetime(2026, 2, 5, tzinfo=UTC), datetime(2026, 2, 12, tzinfo=UTC),
               datetime(2026, 2, 19, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC),
               datetime(2026, 3, 9, tzinfo=UTC)]
    assert sorted(publish_moments(moments)) == [moments[1], moments[4], moments[6]]
    assert publish_moments([moments[0]]) == {moments[0]}


def test_a_folder_not_made_by_the_demo_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(DemoFolderError, match=f"--dir {tmp_path}: the folder is not empty"):
        prepare_folder(tmp_path)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_demo_folder_is_recreated_empty(tmp_path: Path) -> None:
    folder = prepare_folder(tmp_path / "demo")
    folder.database.write_text("old run", encoding="utf-8")
    again = prepare_folder(tmp_path / "demo")
    assert again.path == folder.path and not again.database.exists()


Replayed = tuple[SandboxServer, DemoRun, Workspace]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replayed]:
    """Six weeks of the year replayed (two publishes: January's last sync and now), sandbox still up."""
    folder = tmp_path_factory.mktemp("replay") / "okrbridge-demo"
    with running_sandbox("cloud", size=300) as server:
        run, ws = run_demo(server, folder, web_port=WEB_PORT, now=NOW)
        try:
            yield server, run, ws
        finally:
            ws.close()


def _as(login: str) -> dict[str, str]:
    """Basic credentials of a seeded sandbox person."""
    token = base64.b64encode(f"{login}@example.com:sandbox-token-{login}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_a_replayed_year_leaves_a_history_of_real_counts(replayed: Replayed) -> None:
    _, run, ws = replayed
    history = ws.store.history("CO-1.1")
    assert [s.taken_at.date().isoformat() for s in history] == [
        "2026-01-08", "2026-01-15", "2026-01-22", "2026-01-29", "2026-02-05", "2026-02-12"]
    assert history[-1].taken_at == NOW
    visits = [s.explanation.denominator.count for s in history if s.explanation.denominator]
    assert len(visits) == len(history)
    assert visits == sorted(visits) and visits[0] < visits[-1]  # WEB visits accumulate week by week
    assert all(not report.failed for report in run.syncs)
    assert run.checkins > 0 and ws.store.history("CO-1.2")


def test_the_replay_publishes_at_month_end_and_the_pages_keep_each_month_as_a_version(
        replayed: Replayed) -> None:
    server, run, ws = replayed
    assert [at.date().isoformat() for at, _ in run.publishes] == ["2026-01-29", "2026-02-12"]
    first, last = (report.counts() for _, report in run.publishes)
    assert set(first) == {"created"} and "created" not in last  # February rewrote January's pages
    company = ws.store.publish_records()["period:2026/audience:company"]
    assert company.version == 2 and company.published_at == NOW
    page = requests.get(f"{server.url}/wiki/rest/api/content/{company.page_id}", params={"expand": "version"},
                        headers=_as("frank"), timeout=10)
    assert page.status_code == 200, page.text
    assert page.json()["version"]["number"] == 2 and page.json()["version"]["when"].startswith("2026-02-12")
    viewer = requests.get(f"{server.url}/pages/{company.page_id}?version=1", headers=_as("frank"), timeout=10)
    assert viewer.status_code == 200 and "Company overview" in viewer.text


def test_a_restricted_team_page_opens_for_its_team_and_not_for_others(replayed: Replayed) -> None:
    server, _, ws = replayed
    sales = ws.store.publish_records()["period:2026/audience:team-sales"]
    url = f"{server.url}/pages/{sales.page_id}"
    assert requests.get(url, headers=_as("bob"), timeout=10).status_code == 200
    assert requests.get(url, headers=_as("carol"), timeout=10).status_code == 404


def test_epics_carry_remote_links_to_the_web_apps_kr_pages(replayed: Replayed) -> None:
    server, _, ws = replayed
    epics = {i.epic_key for i in ws.store.initiatives_for("CO-1.1")}
    assert epics
    epic = sorted(epics)[0]
    links = requests.get(f"{server.url}/rest/api/3/issue/{epic}/remotelink", headers=_as("alice"), timeout=10)
    assert links.status_code == 200, links.text
    urls = {link["object"]["url"] for link in links.json()}
    assert f"http://127.0.0.1:{WEB_PORT}/kr/CO-1.1" in urls


def test_the_web_app_answers_the_remote_links_and_the_sandbox_issue_page_shows_its_panel(
        replayed: Replayed) -> None:
    server, _, ws = replayed
    epic = sorted({i.epic_key for i in ws.store.initiatives_for("CO-1.1")})[0]
    links = requests.get(f"{server.url}/rest/api/3/issue/{epic}/remotelink", headers=_as("alice"), timeout=10)
    kr_url = next(link["object"]["url"] for link in links.json() if link["object"]["url"].endswith("/CO-1.1"))
    with running_web_app(ws, server.url) as web_url:
        kr_page = requests.get(kr_url, timeout=10)
        dashboard = requests.get(f"{web_url}/", timeout=10)
        issue_page = requests.get(f"{server.url}/browse/{epic}", headers=_as("alice"), timeout=30)
    assert kr_url.startswith(web_url)
    assert kr_page.status_code == 200 and "CO-1.1" in kr_page.text
    assert dashboard.status_code == 200 and "CO-1" in dashboard.text
    assert issue_page.status_code == 200, issue_page.text
    panel = issue_page.text.split('id="okr-panel"', 1)[1]  # the panel, fetched with a fresh invocation token
    assert "did not answer" not in panel
    assert "CO-1.1" in panel


def test_the_written_config_reaches_the_sandbox_without_holding_a_token(replayed: Replayed) -> None:
    server, run, ws = replayed
    assert BOT_TOKEN not in run.config_file.read_text(encoding="utf-8")
    settings = load_settings(run.config_file, {})
    assert settings.database_url == f"sqlite:///{run.folder.database}"
    assert settings.jira.url == settings.confluence.url == server.url
    assert settings.web.base_url == f"http://127.0.0.1:{WEB_PORT}"
    assert settings.jira_token() is None  # the file names the variables; the values stay in the environment
    dry = CliRunner(env=demo_env()).invoke(cli, ["--config", str(run.config_file), "publish", "--dry-run",
                                                 "--json"])
    assert dry.exit_code == 0, dry.output
    outcomes = {page["title"]: page["outcome"] for page in json.loads(dry.output)["pages"]}
    # Today's publish finds every page the demo wrote (none is a conflict or created again); the
    # quarters after the replay's February are new.
    written = {record.title for record in ws.store.publish_records().values()}
    assert {outcomes[title] for title in written} <= {"unchanged", "updated"}


def test_demo_command_prints_grades_that_explain_themselves(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--once", "--no-history", "--size", "300",
                                      "--dir", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["last_sync"]["status"] == "succeeded" and data["checkins"] > 0
    assert data["folder"] == str(folder.resolve()) and Path(data["config"]).parent == folder.resolve()
    year = data["grades"][0]
    krs = {kr["id"]: kr for objective in year["objectives"] for kr in objective["krs"]}
    assert krs["CO-1.1"]["explanation"]["numerator"]["jql"].startswith("project = WEB")
    assert krs["CO-1.2"]["value"] == 400 and krs["CO-1.2"]["score"] == 0.5
    explore = CliRunner().invoke(cli, ["--config", data["config"], "history", "CO-1.1", "--json"])
    assert explore.exit_code == 0 and len(json.loads(explore.output)) == 1


def test_demo_command_lists_where_to_look(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--once", "--no-history", "--size", "300",
                                      "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "Where to look" in result.output
    assert "/pages/" in result.output and "/remotelink" in result.output
    assert "sign in as frank@example.com / sandbox-token-frank" in result.output
    export = ("export OKRBRIDGE_JIRA_TOKEN=sandbox-token-okrbot "
              "OKRBRIDGE_CONFLUENCE_TOKEN=sandbox-token-okrbot")
    assert export in result.output
    assert "serving" not in result.output


def test_demo_refuses_once_with_serve(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--once", "--serve", "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "--once exits after the demo and --serve keeps serving" in result.output


def test_demo_names_a_folder_it_will_not_wipe(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x", encoding="utf-8")
    result = CliRunner().invoke(cli, ["demo", "--once", "--no-history", "--size", "300",
                                      "--dir", str(tmp_path)])
    assert result.exit_code == 1 and f"--dir {tmp_path.resolve()}: the folder is not empty" in result.output
    assert (tmp_path / "keep.txt").exists()
