"""`okrbridge compact` on a simulated year: rows removed, database size before and after, wall and RSS.

The history is `bench/history.py`'s (`--krs` KRs, hourly syncs for `--hours` hours, `--change` of
the values moving per sync, one row per change), with what a year of operation adds beside it:

- `--overlap` of the hours had a manual `okrbridge sync` that asked Jira ten minutes before the
  daemon's sync and finished after it, storing again every value the daemon's sync first saw
  (a copy of a reading the daemon then confirmed stays; a copy of one that changed again at the
  next sync is the same reading stored twice, which compaction merges);
- `--down` of the hours had an extra sync refused by Jira (a failed run with its error);
- `--dry-runs` of the hours had a recorded dry run.

`okrbridge compact --json` then runs in a child process with `scheduler.keep_runs_days` =
`--keep-days`, as of the end of the simulated span; `grades --nested --json` is run before and
after and compared (printed as a figure, never asserted: the tests prove it).

    python3 bench/compact_bench.py [--krs 1000] [--hours 8760] [--change 0.05] [--overlap 0.03]
                                   [--down 0.02] [--dry-runs 0.01] [--keep-days 90] [--dir DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.history import OKRBRIDGE, YEAR_START, generate, measure
from okrbridge.catalog import load_catalog
from okrbridge.store import Store

_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def add_operations(database: Path, hours: int, *, overlap: float, down: float, dry_runs: float,
                   seed: int = 7) -> dict[str, int]:
    """Add the overlapping manual syncs, refused syncs and dry runs to a generated store."""
    rng = random.Random(seed)
    conn = sqlite3.connect(database)
    next_id = conn.execute("SELECT MAX(id) FROM sync_run").fetchone()[0] + 1
    added = {"overlapping_runs": 0, "copies": 0, "failed_runs": 0, "dry_runs": 0}
    for hour in range(1, hours):
        at = YEAR_START + timedelta(hours=hour)
        if rng.random() < overlap:
            early = at - timedelta(minutes=10)
            finished = (at + timedelta(minutes=1)).strftime(_SQLITE_TIME)
            conn.execute("INSERT INTO sync_run (id, started_at, finished_at, status, deployment, counts,"
                         " errors, dry_run) VALUES (?, ?, ?, 'succeeded', 'cloud', '{}', '[]', 0)",
                         (next_id, early.strftime(_SQLITE_TIME), finished))
            rows = conn.execute("SELECT subject_id, value, source_detail FROM snapshot WHERE sync_run_id = ?",
                                (hour + 1,)).fetchall()
            copies = []
            for subject_id, value, detail in rows:
                moved = json.loads(detail)
                moved["queried_at"] = early.isoformat()
                copies.append((subject_id, early.strftime(_SQLITE_TIME), early.strftime(_SQLITE_TIME), value,
                               json.dumps(moved), next_id))
            conn.executemany(
                "INSERT INTO snapshot (subject_id, subject_kind, taken_at, confirmed_at, value, score,"
                " source_kind, source_detail, sync_run_id, confirmed_run_id)"
                " VALUES (?, 'kr', ?, ?, ?, NULL, 'jql_count', ?, ?, NULL)", copies)
            added["overlapping_runs"] += 1
            added["copies"] += len(copies)
            next_id += 1
        for kind, share, status, errors in (
                ("failed_runs", down, "failed", '[{"subject": null, "error": "Jira is unavailable: 503"}]'),
                ("dry_runs", dry_runs, "succeeded", "[]")):
            if rng.random() < share:
                moment = (at + timedelta(minutes=20)).strftime(_SQLITE_TIME)
                conn.execute("INSERT INTO sync_run (id, started_at, finished_at, status, deployment, counts,"
                             " errors, dry_run) VALUES (?, ?, ?, ?, 'cloud', '{}', ?, ?)",
                             (next_id, moment, moment, status, errors, kind == "dry_runs"))
                added[kind] += 1
                next_id += 1
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return added


def _rows(database: Path) -> dict[str, int]:
    """Snapshot and run rows in the store, and its size in bytes (pages in use and the file once the
    write-ahead log is folded in)."""
    conn = sqlite3.connect(database)
    try:
        counts = {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                  for table in ("snapshot", "sync_run")}
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        used = pages - conn.execute("PRAGMA freelist_count").fetchone()[0]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return {**counts, "bytes_in_use": used * page, "file_bytes": database.stat().st_size}
    finally:
        conn.close()


def _grades(config: Path, at: str) -> str:
    """`okrbridge grades --nested --json` for the year, as of `at`."""
    done = subprocess.run([*OKRBRIDGE, "--config", str(config), "grades", "--cycle", "2026", "--nested",
                           "--json", "--at", at], capture_output=True, text=True, check=True)
    return done.stdout


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build the store, compact it, and collect the figures."""
    directory = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="okrbridge-compact-"))
    figures: dict[str, Any] = {"history": generate(directory, args.krs, args.hours, args.change)}
    database, config = directory / "okrbridge.db", directory / "okrbridge.toml"
    with config.open("a", encoding="utf-8") as handle:
        handle.write(f"[scheduler]\nkeep_runs_days = {args.keep_days}\n")
    figures["operations"] = add_operations(database, args.hours, overlap=args.overlap, down=args.down,
                                           dry_runs=args.dry_runs)
    # The catalog is recorded first (compact records it, as every recording command does), so the
    # sizes below differ by what compaction removed alone.
    store = Store(f"sqlite:///{database}")
    store.sync_catalog(load_catalog(directory / "okrs.toml").catalog)
    store.close()
    end = (YEAR_START + timedelta(hours=args.hours)).date().isoformat()
    grades_before = _grades(config, end)
    figures["rows_before"] = _rows(database)
    # `compact` compacts as of now; the simulated span ends in the past, so every run is old enough.
    figures["compact"] = measure([*OKRBRIDGE, "--config", str(config), "compact", "--json"])
    again = [*OKRBRIDGE, "--config", str(config), "compact", "--json", "--dry-run"]
    report = json.loads(subprocess.run(again, capture_output=True, text=True, check=True).stdout)
    figures["left_to_remove_after"] = report["rows_removed"]
    figures["rows_after"] = _rows(database)
    figures["grades_identical"] = _grades(config, end) == grades_before
    return figures


def main() -> None:
    """Parse the options, run, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--krs", type=int, default=1000)
    parser.add_argument("--hours", type=int, default=8760)
    parser.add_argument("--change", type=float, default=0.05)
    parser.add_argument("--overlap", type=float, default=0.03)
    parser.add_argument("--down", type=float, default=0.02)
    parser.add_argument("--dry-runs", type=float, default=0.01)
    parser.add_argument("--keep-days", type=int, default=90)
    parser.add_argument("--dir", default=None, help="where to build the store (default: a new temporary one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    before, after = figures["rows_before"], figures["rows_after"]
    print(f"history: {figures['history']['krs']:,} KRs, {figures['history']['hourly_syncs']:,} hourly syncs, "
          f"{figures['history']['change_per_sync']:.0%} change per sync; {figures['operations']}")
    print(f"snapshots {before['snapshot']:,} -> {after['snapshot']:,}; runs {before['sync_run']:,} -> "
          f"{after['sync_run']:,}; in use {before['bytes_in_use'] / 2**20:.2f} MiB -> "
          f"{after['bytes_in_use'] / 2**20:.2f} MiB, file {before['file_bytes'] / 2**20:.2f} MiB -> "
          f"{after['file_bytes'] / 2**20:.2f} MiB")
    compact = figures["compact"]
    print(f"okrbridge compact: {compact['wall_s']} s wall, {compact['cpu_s']} s CPU, "
          f"{compact['peak_rss_mib']} MiB peak RSS; left to remove afterwards: "
          f"{figures['left_to_remove_after']}; "
          f"grades --nested identical before and after: {figures['grades_identical']}")


if __name__ == "__main__":
    main()
