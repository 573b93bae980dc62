"""The compaction benchmark runs end to end at a tiny size: a smoke test of the script, never of timings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_compaction_benchmark_runs_and_prints_its_figures(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "compact_bench.py"), "--krs", "20",
                           "--hours", "300", "--overlap", "0.2", "--dir", str(tmp_path / "store"), "--json"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    before, after, added = figures["rows_before"], figures["rows_after"], figures["operations"]
    assert figures["compact"]["exit"] == 0 and figures["left_to_remove_after"] == 0
    # every refused and dry run goes, and so do hourly runs whose confirmations later runs moved on
    assert after["sync_run"] < before["sync_run"] - added["failed_runs"] - added["dry_runs"]
    assert after["snapshot"] < before["snapshot"] and figures["grades_identical"] is True
