"""Silent KRs' owners told once, on the KR's first epic, over HTTP against the sandbox (Cloud and DC)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from okrbridge.daemon_jobs import stale_job
from okrbridge.demo import demo_settings
from okrbridge.store.notices import owner_notices
from okrbridge.store.tables import NoticeState
from okrbridge.sync import LeadershipLost
from okrbridge.workspace import Workspace, jira_connection, open_workspace, sync
from sandbox.server import SandboxServer
from tests.daemon.conftest import LAUNCH, SANDBOX_TOKEN, write_config
from tests.okr_files import BUGS_DONE, STORIES_DONE

OKRS = f"""
[[objective]]
id = "ENG-9"
title = "Keep engineering healthy"
level = "team"
team = "engineering"
owner = "dave"
cycle = "2026"

  [[objective.key_result]]
  id = "ENG-9.1"
  title = "Increase bugs resolved from 0 to 100"
  owner = "dave"
  measure = "increase"
  start = 0
  target = 100
  source = {{ kind = "jql_count", jql = "{BUGS_DONE}" }}
  initiatives = {{ epics = ["ENG-2", "ENG-1"] }}

  [[objective.key_result]]
  id = "ENG-9.2"
  title = "Increase stories done from 0 to 300"
  owner = "erin"
  measure = "increase"
  start = 0
  target = 300
  source = {{ kind = "jql_count", jql = "{STORIES_DONE}" }}

  [[objective.key_result]]
  id = "ENG-9.3"
  title = "Publish 4 engineering blog posts"
  owner = "carol"
  measure = "increase"
  start = 0
  target = 4
  source = {{ kind = "manual" }}
  initiatives = {{ epics = ["ENG-3"] }}
"""
"""ENG-9.1 synced, epics ENG-1 and ENG-2 (the first by key is ENG-1); ENG-9.2 synced, no epic;
ENG-9.3 manual, never checked in, epic ENG-3."""


@pytest.fixture(params=["cloud", "datacenter"])
def sandbox_server(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """The seeded sandbox as each deployment."""
    with SandboxServer(deployment=request.param, seed=1) as server:
        yield server


@pytest.fixture
def workspace(tmp_path: Path, sandbox_server: SandboxServer) -> Iterator[Workspace]:
    """A workspace on the sandbox with the OKRS above and `notify_silent = "epic-comment"`."""
    okrs = tmp_path / "okrs.toml"
    okrs.write_text(OKRS, encoding="utf-8")
    settings = demo_settings(sandbox_server.url, tmp_path / "okrbridge.db", dict(os.environ))
    scheduler = settings.scheduler.model_copy(update={"notify_silent": "epic-comment"})
    web = settings.web.model_copy(update={"base_url": "https://okr.example.com"})
    ws = open_workspace(settings.model_copy(update={"okrs": okrs, "scheduler": scheduler, "web": web}),
                        mode="record")
    yield ws
    ws.close()


def comments(server: SandboxServer, epic: str) -> list[str]:
    """The text of each comment on `epic`, read over HTTP as the bot, oldest first."""
    cloud = server.state.deployment == "cloud"
    auth: Any = ("okrbot@example.com", "sandbox-token-okrbot") if cloud else None
    headers = {} if cloud else {"Authorization": "Bearer sandbox-pat-okrbot"}
    answer = requests.get(f"{server.url}/rest/api/{3 if cloud else 2}/issue/{epic}/comment", auth=auth,
                          headers=headers, timeout=10)
    answer.raise_for_status()
    texts = []
    for comment in answer.json()["comments"]:
        body = comment["body"]
        if cloud:  # ADF: one paragraph per line of the notice
            texts.append("\n\n".join("".join(node["text"] for node in paragraph["content"])
                                     for paragraph in body["content"]))
        else:  # wiki markup, its escapes undone
            texts.append(re.sub(r"\\(.)", r"\1", body))
    return texts


def test_a_silent_krs_owner_is_told_once_then_again_only_after_it_speaks_and_falls_silent(
        workspace: Workspace, sandbox_server: SandboxServer) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0)
    with jira_connection(workspace.settings) as jira:
        sync(workspace, jira, now=lambda: t0)

        first = stale_job(workspace, jira, claimed_by="daemon-a", now=t0 + timedelta(days=4))

        assert first.status == "succeeded", first.detail
        assert "told=2 already_told=0 told_on=ENG-9.1@ENG-1,ENG-9.3@ENG-3 no_epic=ENG-9.2(owner:erin)" \
            in first.detail
        [told] = comments(sandbox_server, "ENG-1")
        assert comments(sandbox_server, "ENG-2") == []
        assert told.startswith(
            'okrbridge: key result ENG-9.1 "Increase bugs resolved from 0 to 100" is shown as stale '
            f"everywhere it appears: no fresh value since {t0:%Y-%m-%d %H:%M} UTC (stale after 3 days)."
            "\n\nOwner: dave.\n\nWhat to do: check that okrbridge's syncs are running")
        assert f"({BUGS_DONE})" in told and "Its page: https://okr.example.com/kr/ENG-9.1" in told
        [manual] = comments(sandbox_server, "ENG-3")
        assert "none stored since 2026-01-01 00:00 UTC (checked in every 7 days)" in manual
        assert "Owner: carol." in manual and "`okrbridge checkin ENG-9.3 VALUE" in manual

        again = stale_job(workspace, jira, claimed_by="daemon-b", now=t0 + timedelta(days=4, hours=1))
        assert "told=0 already_told=3" in again.detail and "no_epic" not in again.detail
        assert len(comments(sandbox_server, "ENG-1")) == 1 and len(comments(sandbox_server, "ENG-3")) == 1

        sync(workspace, jira, now=lambda: t0 + timedelta(days=5))                 # ENG-9.1 speaks again
        heard = stale_job(workspace, jira, claimed_by="daemon-a", now=t0 + timedelta(days=5, hours=1))
        assert "silent=1 " in heard.detail and "told=0 already_told=1" in heard.detail  # only ENG-9.3

        silent_again = stale_job(workspace, jira, claimed_by="daemon-a", now=t0 + timedelta(days=9))
        assert ("told=1 already_told=1 told_on=ENG-9.1@ENG-1 no_epic=ENG-9.2(owner:erin)"
                in silent_again.detail)
        second = comments(sandbox_server, "ENG-1")[1]
        assert f"no fresh value since {t0 + timedelta(days=5):%Y-%m-%d %H:%M} UTC" in second

    recorded = {(n.subject_id, n.state, n.epic_key) for n in owner_notices(workspace.store)}
    assert recorded == {("ENG-9.1", NoticeState.TOLD, "ENG-1"), ("ENG-9.2", NoticeState.LISTED, None),
                        ("ENG-9.3", NoticeState.TOLD, "ENG-3")}
    assert len(owner_notices(workspace.store, ["ENG-9.1"])) == 2


def test_a_comment_jira_refuses_is_reported_not_recorded_and_sent_at_the_next_check(
        workspace: Workspace, sandbox_server: SandboxServer) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0)
    with jira_connection(workspace.settings) as jira:
        sync(workspace, jira, now=lambda: t0)
        jira.deployment  # noqa: B018  (settled now, so the next request the sandbox sees is a comment)
        requests.put(f"{sandbox_server.url}/_sandbox/faults", json={"script": ["500"]}, timeout=5)

        refused = stale_job(workspace, jira, claimed_by="daemon-a", now=t0 + timedelta(days=4))

        assert refused.status == "partial" and not refused.ok
        assert re.search(r"told=1 .*notice_failures=ENG-9\.1: commenting on ENG-1: .*500", refused.detail), \
            refused.detail
        assert comments(sandbox_server, "ENG-1") == []
        told = [n.subject_id for n in owner_notices(workspace.store) if n.state is NoticeState.TOLD]
        assert told == ["ENG-9.3"]
        assert "ENG-9.1" not in {n.subject_id for n in owner_notices(workspace.store)}

        retried = stale_job(workspace, jira, claimed_by="daemon-a", now=t0 + timedelta(days=4, hours=1))

        assert retried.status == "succeeded"
        assert "told=1 already_told=2 told_on=ENG-9.1@ENG-1" in retried.detail
        assert len(comments(sandbox_server, "ENG-1")) == 1


def test_without_notify_silent_nobody_is_told(workspace: Workspace, sandbox_server: SandboxServer) -> None:
    scheduler = workspace.settings.scheduler.model_copy(update={"notify_silent": "off"})
    workspace.settings = workspace.settings.model_copy(update={"scheduler": scheduler})
    t0 = datetime.now(UTC)
    with jira_connection(workspace.settings) as jira:
        sync(workspace, jira, now=lambda: t0)
        outcome = stale_job(workspace, jira, claimed_by="daemon-a", now=t0 + timedelta(days=4))
    assert "told=" not in outcome.detail and "silent=3 " in outcome.detail
    assert comments(sandbox_server, "ENG-1") == [] and owner_notices(workspace.store) == []


def test_daemons_restarted_tell_a_silence_once(tmp_path: Path, sandbox_server: SandboxServer) -> None:
    # ENG-9.3, a manual KR never checked in, has been silent since the year began.
    config = write_config(tmp_path, sandbox_server, f"sqlite:///{tmp_path / 'okrbridge.db'}", okrs=OKRS)
    config.write_text(config.read_text(encoding="utf-8") + 'notify_silent = "epic-comment"\n',
                      encoding="utf-8")
    env = {**os.environ, "SANDBOX_PAT": SANDBOX_TOKEN}
    if sandbox_server.state.deployment == "cloud":
        config.write_text(config.read_text(encoding="utf-8").replace('email = "okrbot"',
                                                                     'email = "okrbot@example.com"'))
        env["SANDBOX_PAT"] = "sandbox-token-okrbot"
    lines = []
    for _ in range(2):
        done = subprocess.run([*LAUNCH, "--config", str(config), "daemon", "--once"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        [line] = [line for line in done.stderr.splitlines() if "job=stale" in line]
        lines.append(line)
    assert "told=1 already_told=0 told_on=ENG-9.3@ENG-3" in lines[0]
    assert "told=0 already_told=1" in lines[1]
    assert len(comments(sandbox_server, "ENG-3")) == 1


def test_a_daemon_that_lost_its_lease_tells_nobody_and_leaves_the_silence_to_the_new_leader(
        workspace: Workspace, sandbox_server: SandboxServer) -> None:
    t0 = datetime.now(UTC)
    with jira_connection(workspace.settings) as jira:
        sync(workspace, jira, now=lambda: t0)
        with pytest.raises(LeadershipLost):
            stale_job(workspace, jira, claimed_by="old-leader", still_leader=lambda: False,
                      now=t0 + timedelta(days=4))
        assert comments(sandbox_server, "ENG-1") == [] and comments(sandbox_server, "ENG-3") == []
        assert [n.state for n in owner_notices(workspace.store)] == []   # no claim left behind

        taken_over = stale_job(workspace, jira, claimed_by="new-leader", still_leader=lambda: True,
                               now=t0 + timedelta(days=4, minutes=1))
    assert "told=2 " in taken_over.detail and len(comments(sandbox_server, "ENG-1")) == 1
