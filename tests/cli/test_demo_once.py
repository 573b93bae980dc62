"""`okrbridge demo --once` as a user runs it: a subprocess in an empty folder, the whole year replayed.

The sandbox is gone when the command exits, so what it left is read from the demo's folder: its
database (snapshots, publish records) and the JSON the command printed.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from okrbridge.store import Store

LAUNCH = [sys.executable, "-c", "from okrbridge.cli import main; main()"]


def test_demo_once_replays_the_year_publishes_monthly_and_exits_0(tmp_path: Path) -> None:
    done = subprocess.run([*LAUNCH, "demo", "--once", "--size", "300", "--json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    data = json.loads(done.stdout)
    folder = tmp_path / "okrbridge-demo"
    assert data["folder"] == str(folder.resolve()) and (folder / "okrbridge-demo.toml").is_file()

    store = Store(data["database"])
    try:
        history = store.history("CO-1.1")
        records = store.publish_records()
    finally:
        store.close()
    # History grows with change: a reading per value the weekly syncs found, each confirmed until the
    # next one (a week at most apart), from the year's first week to the last sync.
    assert 1 < len(history) <= data["syncs"]
    readings = sorted(history, key=lambda s: s.taken_at)
    assert all(b.taken_at - a.confirmed_at <= timedelta(days=7) for a, b in itertools.pairwise(readings))
    first, last = readings[0].taken_at, readings[-1].confirmed_at
    assert first.month == 1 and first.day <= 8  # the sample's fiscal year starts on 1 January
    weeks = [first + timedelta(days=7 * n) for n in range((last - first).days // 7 + 1)] + [last]
    days = sorted(set(weeks))

    # A publish after each month's last sync and after the last one; the company page is among them.
    months = {(d.year, d.month) for d in days}
    assert len(data["publishes"]) == len(months)
    assert data["publishes"][0]["counts"].get("created", 0) > 0
    company = records[f"period:{days[-1].year}/audience:company"]
    assert company.version >= 1 and company.published_at == days[-1]
    assert any(p["url"].endswith(f"/pages/{company.page_id}") for p in data["where_to_look"])

    # The epics got remote links (the sandbox's remote links went with it; the sync counted them).
    assert data["last_sync"]["links_written"] > 0 and not data["last_sync"]["link_errors"]
