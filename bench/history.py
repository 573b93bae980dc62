"""A simulated year of hourly syncs written straight into a store, and `okrbridge grades` timed on it.

The history is generated in bulk (no sync runs against Jira): `--krs` KRs, one sync an hour for
`--hours` hours, and at each sync about `--change` of the values move. With change-only history a
value that did not move is a confirmation of its reading, so the store holds one row per change
(plus the first value of each KR) and each row's `confirmed_at` is the last sync before the next
change. "Equivalent" history is what a store with a row per KR per sync would hold.

`grades` runs as the user runs it, `okrbridge --config ... grades --json`, in a child process whose
peak RSS is read with resource.getrusage(RUSAGE_CHILDREN) afterwards.
"""

from __future__ import annotations

import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from okrbridge.catalog import load_catalog
from okrbridge.store import Store
from okrbridge.workspace import record_catalog

YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
KRS_PER_OBJECTIVE = 5
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
OKRBRIDGE = [sys.executable, "-c",
             "import sys; from okrbridge.cli import main; sys.argv[0] = 'okrbridge'; main()"]
"""The `okrbridge` command as this interpreter runs it (the code on its path, not an installed copy)."""


def okrs_toml(krs: int) -> str:
    """An okrs.toml of yearly objectives holding `krs` jql_count KRs (five per objective)."""
    parts = ["fiscal_year_start = 1\n"]
    for number in range(0, krs, KRS_PER_OBJECTIVE):
        objective = f"O-{number // KRS_PER_OBJECTIVE}"
        parts.append(f'[[objective]]\nid = "{objective}"\ntitle = "Objective {objective}"\nlevel = "team"\n'
                     f'team = "t{number % 40}"\nowner = "dave"\ncycle = "2026"\n')
        for kr in range(number, min(number + KRS_PER_OBJECTIVE, krs)):
            parts.append(f'  [[objective.key_result]]\n  id = "{objective}.{kr}"\n  title = "KR {kr}"\n'
                         f'  owner = "dave"\n  measure = "increase"\n  start = 0\n  target = 1000\n'
                         f'  source = {{ kind = "jql_count", jql = "project = ENG AND labels = k{kr}" }}\n')
    return "\n".join(parts)


def _changes(rng: random.Random, hours: int, change: float) -> Iterator[tuple[int, int]]:
    """(first hour, last confirmed hour) of each value one KR takes over `hours` hourly syncs."""
    start = 0
    while start < hours:
        # Hours until the value next moves: geometric with success `change`.
        stay = 1
        while rng.random() >= change and start + stay < hours:
            stay += 1
        yield start, min(start + stay, hours) - 1
        start += stay


def generate(directory: Path, krs: int, hours: int, change: float, seed: int = 1) -> dict[str, Any]:
    """Write okrs.toml, a config and a migrated SQLite store holding the catalog and the simulated history."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "okrs.toml").write_text(okrs_toml(krs))
    database = directory / "okrbridge.db"
    (directory / "okrbridge.toml").write_text(f'okrs = "okrs.toml"\ndatabase_url = "sqlite:///{database}"\n')
    store = Store(f"sqlite:///{database}")
    store.migrate()
    # Recorded as the first sync would record it, fingerprint included: read-only commands then take
    # the catalog from the store instead of parsing the 10,000-KR file (see workspace.open_workspace).
    record_catalog(store, load_catalog(directory / "okrs.toml"), YEAR_START)
    store.close()
    started = time.perf_counter()
    times = [(YEAR_START + timedelta(hours=h)).strftime(_SQLITE_TIME) for h in range(hours)]
    isos = [(YEAR_START + timedelta(hours=h)).isoformat() for h in range(hours)]
    rng = random.Random(seed)
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.executemany(
        "INSERT INTO sync_run (id, started_at, finished_at, status, deployment, counts, errors, dry_run)"
        " VALUES (?, ?, ?, 'succeeded', 'cloud', '{}', '[]', 0)",
        [(h + 1, times[h], times[h]) for h in range(hours)])
    rows = 0
    batch: list[tuple[Any, ...]] = []
    for number in range(krs):
        kr_id = f"O-{number // KRS_PER_OBJECTIVE}.{number}"
        jql = f"project = ENG AND labels = k{number}"
        value = rng.randint(0, 200)
        for first, last in _changes(rng, hours, change):
            value = max(0, value + rng.randint(-3, 6))
            detail = json.dumps({"source": "jql_count", "deployment": "cloud", "jira": "http://jira",
                                 "queried_at": isos[first], "jql": jql, "count": value})
            batch.append((kr_id, times[first], times[last], float(value), detail, first + 1,
                          last + 1 if last > first else None))
            if len(batch) >= 50_000:
                rows += _insert(conn, batch)
        rows += _insert(conn, batch)
    conn.commit()
    conn.close()
    generated = time.perf_counter() - started
    # What the first sync after an upgrade does once (migration 0009 marks every month of the
    # history due): every month's sums worked out from the rows.
    started = time.perf_counter()
    store = Store(f"sqlite:///{database}")
    months = store.refresh_month_sums()
    first_refresh = time.perf_counter() - started
    after_sync = _sync_confirmation(store, database, times[hours - 1])
    store.close()
    return {"krs": krs, "hourly_syncs": hours, "change_per_sync": change, "rows": rows,
            "equivalent_rows_one_per_sync": krs * hours,
            "generate_s": round(generated, 1),
            "month_sums_after_upgrade": months, "month_sums_after_upgrade_s": round(first_refresh, 1),
            **after_sync,
            "database_mib": round(database.stat().st_size / 2**20, 1)}


def _sync_confirmation(store: Store, database: Path, last: str) -> dict[str, Any]:
    """What the month sums cost a sync: every KR's latest reading confirmed again (as a sync that
    finds nothing changed does; the triggers mark each KR's last month due), then the refresh
    `okrbridge sync` runs after writing, timed."""
    conn = sqlite3.connect(database)
    started = time.perf_counter()
    conn.execute("UPDATE snapshot SET confirmed_at = ? WHERE confirmed_at = ?", (last, last))
    conn.commit()
    confirmed = time.perf_counter() - started
    conn.close()
    started = time.perf_counter()
    months = store.refresh_month_sums()
    return {"sync_confirmation_update_s": round(confirmed, 2), "month_sums_after_a_sync": months,
            "month_sums_after_a_sync_s": round(time.perf_counter() - started, 2)}


def _insert(conn: sqlite3.Connection, batch: list[tuple[Any, ...]]) -> int:
    """Insert a batch of snapshot rows and empty it; how many were inserted."""
    conn.executemany(
        "INSERT INTO snapshot (subject_id, subject_kind, taken_at, confirmed_at, value, score,"
        " source_kind, source_detail, sync_run_id, confirmed_run_id)"
        " VALUES (?, 'kr', ?, ?, ?, NULL, 'jql_count', ?, ?, ?)",
        batch)
    count = len(batch)
    batch.clear()
    return count


def timed_command(args: list[str], cwd: Path | None = None) -> dict[str, Any]:
    """Run a command in a child process: wall seconds, its peak RSS (MiB), exit code."""
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    wall = time.perf_counter() - started
    # ru_maxrss of the children is the largest child's peak: run one command per measuring process.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU beside wall: on a shared machine wall time includes waiting for a core.
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1), "exit": done.returncode,
            "error": done.stderr.strip().splitlines()[-1] if done.returncode else None}


def measure_once(argv: list[str]) -> None:
    """Child entry point: run one command, print its figures as JSON (a fresh RUSAGE_CHILDREN)."""
    print(json.dumps(timed_command(argv)))


def measure(args: list[str], repeat: int = 1) -> dict[str, Any]:
    """`timed_command` in a process of its own, so each peak RSS belongs to that command alone;
    `repeat` times, giving the fastest run's figures and every run's wall (on a shared machine the
    same run's CPU time varies by half from one run to the next: the fastest is the least disturbed)."""
    runs = []
    for _ in range(max(repeat, 1)):
        done = subprocess.run([sys.executable, "-m", "bench.history", *args], capture_output=True, text=True,
                              check=True)
        runs.append(json.loads(done.stdout))
    result: dict[str, Any] = min(runs, key=lambda run: float(run["wall_s"]))
    if len(runs) > 1:
        result = {**result, "wall_s_runs": [run["wall_s"] for run in runs]}
    return result


def grades_figures(directory: Path, at: str, earlier: str, repeat: int = 1) -> dict[str, Any]:
    """`okrbridge grades --json` for the year, Q4, November and --nested as of `at` (after the last
    sync, as a user asks), and the year as of `earlier` (inside the last month, whose observations
    after it are read from the rows), each in its own process, `repeat` times (see `measure`); then
    `history` of one KR (`repeat` times) and November's `export` (once: it builds the views, the
    dashboard's and the status pages' data, of every KR)."""
    okrbridge = [*OKRBRIDGE, "--config", str(directory / "okrbridge.toml")]
    config = [*okrbridge, "grades", "--json"]
    base = [*config, "--at", at]
    return {
        "year": measure([*base, "--cycle", "2026"], repeat),
        "quarter": measure([*base, "--cycle", "2026-Q4"], repeat),
        "month": measure([*base, "--cycle", "2026-11"], repeat),
        "nested": measure([*base, "--cycle", "2026", "--nested"], repeat),
        f"year_as_of_{earlier}": measure([*config, "--at", earlier, "--cycle", "2026"], repeat),
        "history_one_kr": measure([*okrbridge, "history", "O-0.0", "--json"], repeat),
        "views_month_export": measure([*okrbridge, "export", "--csv", "--period", "2026-11",
                                       "--output", str(directory / "export.csv")]),
    }


if __name__ == "__main__":
    measure_once(sys.argv[1:])
