"""`python3 -m bench`: the figures that say how okrbridge scales, in one run. It asserts nothing.

1. Sync: a cold sync of `--krs` KRs over `--distinct` distinct JQLs against the sandbox in its own
   process (with `--latency-ms` injected), beside a fair peer: what a competent user would write with
   atlassian-python-api (the JQLs deduplicated, asked through a pool of the same width). Requests,
   wall and their ratio. Then the same sync again with nothing changed in Jira: requests and the
   snapshot rows it wrote (change-only history: none).
2. Grades at scale: `--grade-krs` KRs over `--hours` hourly syncs in which `--change` of the values
   move per sync, generated straight into a store (bench/history.py); `okrbridge grades --json` for
   the year, a quarter, a month and --nested, each in its own process: wall, CPU and peak RSS, and
   the database size.
3. Start-up: `okrbridge --help` and `okrbridge grades` on an empty store.

`--quick` shrinks every size so the whole run takes a few minutes on a small machine.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from atlassian import Jira

from bench import history
from bench.sync_bench import BOT_EMAIL, BOT_PAT, BOT_TOKEN, Target, make_catalog, make_jqls
from connectors.jira import JiraConnection
from okrbridge.domain import Catalog
from okrbridge.store import Store
from okrbridge.sync import LinkOptions, run_sync


def _snapshot_rows(store: Store) -> int:
    """How many snapshot rows the store holds."""
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM snapshot")).scalar_one())


def okrbridge_syncs(target: Target, catalog: Catalog, args: argparse.Namespace) -> dict[str, Any]:
    """A cold sync into a fresh store, then the same sync again with nothing changed in Jira."""
    with tempfile.TemporaryDirectory(prefix="okrbridge-bench-") as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        try:
            store.migrate()
            store.sync_catalog(catalog)
            figures: dict[str, Any] = {}
            for phase in ("cold", "unchanged"):
                if phase == "cold":
                    target.cold()
                else:
                    target.admin("DELETE", "requests")
                rows_before = _snapshot_rows(store)
                with JiraConnection(target.url, deployment=args.deployment, email=BOT_EMAIL, token=BOT_TOKEN,
                                    max_connections=max(args.workers, 10)) as jira:
                    started = time.perf_counter()
                    report = run_sync(catalog, store, jira, max_concurrency=args.workers,
                                      links=LinkOptions(enabled=False))
                    wall = time.perf_counter() - started
                figures[phase] = {"wall_s": round(wall, 2), "requests": target.work().requests,
                                  "snapshot_rows_written": _snapshot_rows(store) - rows_before,
                                  "synced": len(report.synced), "failed": len(report.failed)}
            return figures
        finally:
            store.close()


def fair_peer(target: Target, kr_jqls: Sequence[str], args: argparse.Namespace) -> dict[str, Any]:
    """The sync a competent user writes with atlassian-python-api: distinct JQLs, a pool as wide."""
    target.cold()
    if args.deployment == "cloud":
        client = Jira(target.url, username=BOT_EMAIL, password=BOT_TOKEN, cloud=True)

        def count(jql: str) -> int:
            return int((client.approximate_issue_count(jql) or {})["count"])
    else:
        client = Jira(target.url, token=BOT_PAT)

        def count(jql: str) -> int:
            return int((client.jql(jql, limit=0) or {})["total"])

    distinct = list(dict.fromkeys(kr_jqls))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        counts = dict(zip(distinct, pool.map(count, distinct), strict=True))
    wall = time.perf_counter() - started
    return {"wall_s": round(wall, 2), "requests": target.work().requests, "values": len(counts)}


def sync_figures(args: argparse.Namespace) -> dict[str, Any]:
    """Phase 1: okrbridge's cold and unchanged syncs beside the fair peer."""
    jqls = make_jqls(args.distinct)
    catalog, kr_jqls = make_catalog(jqls, args.krs)
    target = Target(argparse.Namespace(latency_ms=args.latency_ms, size=args.size, in_process=False,
                                       deployment=args.deployment))
    try:
        ours = okrbridge_syncs(target, catalog, args)
        peer = fair_peer(target, kr_jqls, args)
    finally:
        target.stop()
    cold = ours["cold"]
    limit_s = math.ceil(len(jqls) / args.workers) * args.latency_ms / 1000
    return {"setup": {"krs": args.krs, "distinct_jqls": len(jqls), "latency_ms": args.latency_ms,
                      "workers": args.workers, "deployment": args.deployment,
                      "concurrency_limit_s": round(limit_s, 2)},
            "okrbridge": ours, "fair_peer": peer,
            "cold_wall_ratio_okrbridge_over_peer": round(cold["wall_s"] / peer["wall_s"], 2),
            "cold_requests_ratio_okrbridge_over_peer": round(cold["requests"] / max(1, peer["requests"]), 2)}


def grades_figures(args: argparse.Namespace) -> dict[str, Any]:
    """Phase 2: grades over a simulated year of hourly syncs."""
    with tempfile.TemporaryDirectory(prefix="okrbridge-bench-grades-") as tmp:
        directory = Path(tmp)
        setup = history.generate(directory, args.grade_krs, args.hours, args.change)
        return {"setup": setup, "grades": history.grades_figures(directory, "2026-12-31")}


def startup_figures() -> dict[str, Any]:
    """Phase 3: `okrbridge --help`, and `okrbridge grades` on an empty store (the sample OKRs)."""
    with tempfile.TemporaryDirectory(prefix="okrbridge-bench-start-") as tmp:
        config = Path(tmp) / "okrbridge.toml"
        config.write_text(f'database_url = "sqlite:///{tmp}/empty.db"\n')
        grades = [*history.OKRBRIDGE, "--config", str(config), "grades"]
        return {"help": history.measure([*history.OKRBRIDGE, "--help"]),
                "grades_empty_store": history.measure(grades)}


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
        out["startup"] = startup_figures()
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
