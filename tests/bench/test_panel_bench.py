"""The panel benchmark runs end to end at a tiny size (store filled in bulk against the current
schema, FITs verified, every answer a 200): a smoke test of the script, never of its timings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_panel_benchmark_runs_and_prints_its_figures() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "panel_bench.py"), "--krs", "60",
                           "--snapshots", "600", "--requests", "20", "--concurrency", "2", "--json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert (figures["krs"], figures["snapshots"], figures["epics"]) == (60, 600, 20)
    for row in ("panel", "healthz", "store_reads"):
        assert figures[row]["requests"] == 20 and figures[row]["p99_ms"] >= figures[row]["p50_ms"] > 0
    # three KRs per epic, every other objective restricted: some shown, some hidden, three in all
    panel = figures["panel"]
    assert panel["krs_shown_per_answer"] > 0 and panel["krs_hidden_per_answer"] > 0
    assert panel["krs_shown_per_answer"] + panel["krs_hidden_per_answer"] == pytest.approx(3)
