"""`python3 -m bench`: the figures that say how okrbridge scales, in one run. It asserts nothing.

1. Sync (bench/steady.py): a cold sync of `--krs` KRs (counts over `--distinct` distinct JQLs,
   sums over paged issues, initiatives with their epics' progress and remote links) against the
   sandbox in its own process (with `--latency-ms` injected), beside a fair peer: what a competent
   user would write with atlassian-python-api (deduplicated, through a pool of the same width).
   Then the same sync with nothing changed in Jira, and again after 1 % of the issues changed
   (status changes, new issues, deletions): requests, wall, answers that stood, snapshot rows and
   links written, beside the peer, which asks everything every time.
2. Grades at scale: `--grade-krs` KRs over `--hours` hourly syncs in which `--change` of the values
   move per sync, generated straight into a store (bench/history.py); `okrbridge grades --json` for
   the year, a quarter, a month and --nested, each in its own process: wall, CPU and peak RSS, and
   the database size; `history` of one KR, and `export` of a month (the views of every KR, what the
   dashboard and the status pages are built from).
3. Start-up: `okrbridge --help` and `okrbridge grades` on an empty store.

`--quick` shrinks every size so the whole run takes a few minutes on a small machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import history
from bench.steady import sync_figures


def grades_figures(args: argparse.Namespace) -> dict[str, Any]:
    """Phase 2: grades over a simulated year of hourly syncs."""
    with tempfile.TemporaryDirectory(prefix="okrbridge-bench-grades-") as tmp:
        directory = Path(tmp)
        setup = history.generate(directory, args.grade_krs, args.hours, args.change)
        return {"setup": setup,
                "grades": history.grades_figures(directory, "2027-01-01", "2026-12-15", args.repeat)}


def startup_figures(repeat: int) -> dict[str, Any]:
    """Phase 3: `okrbridge --help`, and `okrbridge grades` on an empty store (the sample OKRs, recorded
    as a first command that records would, and no value yet)."""
    import os

    from okrbridge.config import load_settings
    from okrbridge.workspace import open_workspace

    with tempfile.TemporaryDirectory(prefix="okrbridge-bench-start-") as tmp:
        config = Path(tmp) / "okrbridge.toml"
        config.write_text(f'database_url = "sqlite:///{tmp}/empty.db"\n')
        open_workspace(load_settings(config, dict(os.environ)), mode="record").close()
        grades = [*history.OKRBRIDGE, "--config", str(config), "grades"]
        return {"help": history.measure([*history.OKRBRIDGE, "--help"], repeat),
                "grades_empty_store": history.measure(grades, repeat)}


def parser() -> argparse.ArgumentParser:
    """The benchmark's command line."""
    cli = argparse.ArgumentParser(prog="python3 -m bench", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--quick", action="store_true", help="small sizes: a run of a few minutes")
    cli.add_argument("--krs", type=int, default=None, help="sync: KRs (default 2000; quick 300)")
    cli.add_argument("--distinct", type=int, default=None,
                     help="sync: distinct JQLs (default 1500; quick 200)")
    cli.add_argument("--latency-ms", type=float, default=50.0, help="sync: latency per request")
    cli.add_argument("--workers", type=int, default=8, help="sync: pool width, okrbridge and the peer alike")
    cli.add_argument("--deployment", choices=("cloud", "datacenter"), default="cloud")
    cli.add_argument("--size", type=int, default=3000, help="sandbox seed size")
    cli.add_argument("--grade-krs", type=int, default=None, help="grades: KRs (default 10000; quick 500)")
    cli.add_argument("--hours", type=int, default=None,
                     help="grades: hourly syncs (default 8760; quick 2000)")
    cli.add_argument("--change", type=float, default=0.05, help="grades: share of values moving per sync")
    cli.add_argument("--repeat", type=int, default=3,
                     help="grades and start-up: runs of each command; the fastest is reported, beside "
                          "every run's wall (default %(default)s)")
    cli.add_argument("--skip", action="append", choices=("sync", "grades", "startup"), default=[],
                     help="leave a phase out (repeatable)")
    cli.add_argument("--json", action="store_true", help="print the figures as JSON")
    return cli


def main(argv: Sequence[str] | None = None) -> int:
    """Run the phases and print their figures."""
    args = parser().parse_args(argv)
    args.krs = args.krs or (300 if args.quick else 2000)
    args.distinct = args.distinct or (200 if args.quick else 1500)
    args.grade_krs = args.grade_krs or (500 if args.quick else 10_000)
    args.hours = args.hours or (2000 if args.quick else 8760)
    out: dict[str, Any] = {}
    if "sync" not in args.skip:
        out["sync"] = sync_figures(args)
    if "grades" not in args.skip:
        out["grades_at_scale"] = grades_figures(args)
    if "startup" not in args.skip:
        out["startup"] = startup_figures(args.repeat)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        _print(out)
    return 0


def _print(out: dict[str, Any], indent: str = "") -> None:
    """The figures as an indented outline."""
    for key, value in out.items():
        if isinstance(value, dict):
            print(f"{indent}{key}:")
            _print(value, indent + "  ")
        else:
            print(f"{indent}{key}: {value}")


if __name__ == "__main__":
    sys.exit(main())
