"""What the fault suite shares: configs on the sandbox, the CLI as a subprocess, database checks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import text

from okrbridge.demo import BOT_EMAIL, BOT_TOKEN
from okrbridge.store import Store

TOKEN_ENV = "FAULTS_JIRA_TOKEN"
KR_PAGES = "https://okr.example.com"
"""web.base_url of the fault suite's configs: remote links need it to be written at all."""


def write_config(folder: Path, jira_url: str, database_url: str, okrs: str | None = None,
                 **jira: object) -> Path:
    """An okrbridge.toml for the sandbox at `jira_url` and the database at `database_url`.

    `jira` adds `[jira]` settings (tiny timeouts and caps keep fault runs fast); `web.base_url` is set.
    """
    lines = [f'database_url = "{database_url}"']
    if okrs is not None:
        (folder / "okrs.toml").write_text(okrs, encoding="utf-8")
        lines.append('okrs = "okrs.toml"')
    lines += ["[jira]", f'url = "{jira_url}"', f'email = "{BOT_EMAIL}"', f'token_env = "{TOKEN_ENV}"']
    for key, value in jira.items():
        rendered = str(value).lower() if isinstance(value, bool) else repr(value).replace("'", '"')
        lines.append(f"{key} = {rendered}")
    lines += ["[web]", f'base_url = "{KR_PAGES}"']  # where remote links point, so they are written
    path = folder / "okrbridge.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cli_env() -> dict[str, str]:
    """The environment for a CLI subprocess: ours (PYTHONPATH included) plus the sandbox bot's token."""
    return {**os.environ, TOKEN_ENV: BOT_TOKEN}


def start_cli(config: Path, *args: str) -> subprocess.Popen[str]:
    """`okrbridge --config CONFIG ARGS...` in a subprocess of this interpreter, output captured."""
    command = [sys.executable, "-c", "from okrbridge.cli import main; main()", "--config", str(config), *args]
    return subprocess.Popen(command, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def set_faults(server_url: str, settings: Mapping[str, Any], *, reset: bool = True) -> None:
    """Switch the sandbox's faults through its admin API (JSON, as its clients must send)."""
    answer = requests.put(f"{server_url}/_sandbox/faults", json={**settings, "reset": reset}, timeout=5)
    answer.raise_for_status()


def running_runs(store: Store) -> list[int]:
    """Ids of the runs still marked running."""
    return [run.id for run in store.runs(limit=1000) if run.status.value == "running"]


def integrity_problems(store: Store) -> list[str]:
    """What is wrong with the database's own structure (SQLite's integrity check; PostgreSQL's
    constraints are enforced on every write) and with the store's invariants."""
    problems: list[str] = []
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            result = [row[0] for row in conn.execute(text("PRAGMA integrity_check"))]
            if result != ["ok"]:
                problems += [f"integrity_check: {line}" for line in result]
            dangling = conn.execute(text("PRAGMA foreign_key_check"))
            problems += [f"foreign key: {tuple(row)}" for row in dangling]
        # A snapshot written by a run belongs to a run that finished with results.
        orphans = conn.execute(text(
            "SELECT count(*) FROM snapshot s JOIN sync_run r ON r.id = s.sync_run_id "
            "WHERE r.status NOT IN ('succeeded', 'partial')")).scalar_one()
        if orphans:
            problems.append(f"{orphans} snapshot(s) of a run that did not store results")
        half = conn.execute(text(
            "SELECT count(*) FROM sync_run WHERE status <> 'running' AND finished_at IS NULL")).scalar_one()
        if half:
            problems.append(f"{half} finished run(s) without a finish time")
    return problems


def snapshot_ids(store: Store) -> dict[int, tuple[str, Any, Any]]:
    """Every snapshot by id: (subject, taken_at, value), to prove earlier ones are never altered."""
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, subject_id, taken_at, value FROM snapshot"))
        return {int(r[0]): (str(r[1]), str(r[2]), r[3]) for r in rows}
