"""The sync phase of `python3 -m bench`: cold, unchanged and 1 %-changed syncs, beside a fair peer.

The catalog mixes what real ones hold: counts over `--distinct` JQLs, sums of Story Points over
paged issues (every `SUM_EVERY`th KR), and initiatives (every `EPIC_EVERY`th KR names an epic),
which bring the epics' progress and a remote link per (epic, KR) pair.

The fair peer is what a competent user writes instead with atlassian-python-api: each distinct
JQL counted once, each distinct sum paged once, each epic read once with its two progress counts,
and every link upserted by globalId (one POST each, no read), all through a pool as wide as
okrbridge's. It keeps nothing between runs, so it asks everything every time.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from atlassian import Jira

from bench.sync_bench import BOT_EMAIL, BOT_PAT, BOT_TOKEN, Target, make_catalog, make_jqls
from connectors.jira import JiraConnection
from okrbridge.change_probe import ChangeDetection
from okrbridge.domain import Catalog, Initiatives, Objective, Source, SourceKind
from okrbridge.store import Store
from okrbridge.sync import LinkOptions, run_sync

STORY_POINTS = "customfield_10016"
SUM_EVERY = 10
EPIC_EVERY = 50
BASE_URL = "https://okr.example"


@dataclass(frozen=True)
class Workload:
    """What the catalog asks, as the peer sees it."""

    counts: tuple[str, ...]
    sums: tuple[str, ...]
    links: tuple[tuple[str, str], ...]  # (epic key, KR id)


def seeded_epics(target: Target, deployment: str) -> list[str]:
    """The epic keys the seeded sandbox holds."""
    with JiraConnection(target.url, deployment=deployment, email=BOT_EMAIL, token=BOT_TOKEN) as jira:
        found = jira.epics(jql="project in (ENG, WEB, SALES, MKT, PEOPLE) AND issuetype = Epic")
    return [epic.key for epic in found.epics]


def rich_catalog(jqls: Sequence[str], krs: int, epics: Sequence[str]) -> tuple[Catalog, Workload]:
    """`make_catalog`'s counts, with every SUM_EVERY-th KR a Story Points sum and every
    EPIC_EVERY-th KR driven by one of `epics` (round robin)."""
    catalog, _ = make_catalog(jqls, krs)
    counts: dict[str, None] = {}
    sums: dict[str, None] = {}
    links: list[tuple[str, str]] = []
    objectives: list[Objective] = []
    number = 0
    for objective in catalog.objectives:
        key_results = []
        for kr in objective.key_results:
            number += 1
            jql = kr.source.jql or ""
            if number % SUM_EVERY == 0:
                kr = replace(kr, source=Source(SourceKind.JQL_SUM, jql=jql, field=STORY_POINTS))
                sums.setdefault(jql)
            else:
                counts.setdefault(jql)
            if number % EPIC_EVERY == 0 and epics:
                epic = epics[(number // EPIC_EVERY) % len(epics)]
                kr = replace(kr, initiatives=Initiatives(epics=(epic,)))
                links.append((epic, kr.id))
            key_results.append(kr)
        objectives.append(replace(objective, key_results=tuple(key_results)))
    return Catalog(objectives=tuple(objectives)), Workload(tuple(counts), tuple(sums), tuple(links))


def _snapshot_rows(store: Store) -> int:
    """How many snapshot rows the store holds."""
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM snapshot")).scalar_one())


class Peer:
    """The fair peer's sync (see the module docstring)."""

    def __init__(self, target: Target, deployment: str, workers: int) -> None:
        """A client for the deployment, as its documentation says to build one."""
        self.cloud = deployment == "cloud"
        self.client = Jira(target.url, username=BOT_EMAIL, password=BOT_TOKEN, cloud=True) if self.cloud \
            else Jira(target.url, token=BOT_PAT)
        self.workers = workers

    def count(self, jql: str) -> int:
        """One count."""
        if self.cloud:
            return int((self.client.approximate_issue_count(jql) or {})["count"])
        return int((self.client.jql(jql, limit=0) or {})["total"])

    def total(self, jql: str) -> float:
        """Story Points summed over every page of the JQL's issues."""
        points = 0.0
        if self.cloud:
            token = None
            while True:
                page = self.client.enhanced_jql(jql, fields=[STORY_POINTS], nextPageToken=token, limit=100)
                points += sum(float(i["fields"].get(STORY_POINTS) or 0) for i in page["issues"])
                token = page.get("nextPageToken")
                if page.get("isLast", token is None) or not token:
                    return points
        start = 0
        while True:
            found: dict[str, Any] = self.client.jql(jql, fields=STORY_POINTS, start=start, limit=100) or {}
            points += sum(float(i["fields"].get(STORY_POINTS) or 0) for i in found["issues"])
            start += len(found["issues"])
            if not found["issues"] or start >= found["total"]:
                return points

    def epic(self, key: str) -> tuple[str, int, int]:
        """An epic's status and its children done / in all."""
        status = self.client.get_issue(key, fields="status")["fields"]["status"]["name"]
        children = f"parent = {key}" if self.cloud else f'"Epic Link" = {key}'
        return status, self.count(f"{children} AND statusCategory = Done"), self.count(children)

    def link(self, epic: str, kr: str) -> None:
        """Upsert the KR's link on the epic by globalId."""
        self.client.create_or_update_issue_remote_links(
            epic, f"{BASE_URL}/kr/{kr}", f"KR {kr}", global_id=f"peer:kr={kr}")

    def sync(self, work: Workload) -> float:
        """Everything once; the wall time."""
        epics = dict.fromkeys(e for e, _ in work.links)
        jobs: list[Callable[[], Any]] = [*(lambda j=j: self.count(j) for j in work.counts),
                                         *(lambda j=j: self.total(j) for j in work.sums),
                                         *(lambda e=e: self.epic(e) for e in epics),
                                         *(lambda e=e, k=k: self.link(e, k) for e, k in work.links)]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            list(pool.map(lambda job: job(), jobs))
        return time.perf_counter() - started


def _ours(target: Target, catalog: Catalog, store: Store, args: argparse.Namespace) -> dict[str, Any]:
    """One okrbridge sync with change detection and remote links; its figures."""
    target.admin("DELETE", "requests")
    rows_before = _snapshot_rows(store)
    with JiraConnection(target.url, deployment=args.deployment, email=BOT_EMAIL, token=BOT_TOKEN,
                        max_connections=max(args.workers, 10)) as jira:
        started = time.perf_counter()
        report = run_sync(catalog, store, jira, max_concurrency=args.workers,
                          links=LinkOptions(enabled=True, base_url=BASE_URL),
                          change_detection=ChangeDetection())
        wall = time.perf_counter() - started
    work = target.work()  # serverInfo is one of okrbridge's probes: it counts here
    return {"wall_s": round(wall, 2), "requests": work.requests + work.excluded_probe,
            "questions": report.questions, "answers_stood": report.answers_stood,
            "snapshot_rows_written": _snapshot_rows(store) - rows_before,
            "links_written": report.links_written, "links_in_place": report.links_in_place,
            "synced": len(report.synced), "failed": len(report.failed)}


def _peer(target: Target, peer: Peer, work: Workload) -> dict[str, Any]:
    """One peer sync; its figures."""
    target.admin("DELETE", "requests")
    wall = peer.sync(work)
    return {"wall_s": round(wall, 2), "requests": target.work().requests}


def sync_figures(args: argparse.Namespace) -> dict[str, Any]:
    """Cold, unchanged and 1 %-changed syncs of okrbridge beside the fair peer, in one run."""
    target = Target(argparse.Namespace(latency_ms=args.latency_ms, size=args.size, in_process=False,
                                       deployment=args.deployment))
    try:
        epics = seeded_epics(target, args.deployment)
        catalog, work = rich_catalog(make_jqls(args.distinct), args.krs, epics)
        peer = Peer(target, args.deployment, args.workers)
        phases: dict[str, dict[str, Any]] = {}
        with tempfile.TemporaryDirectory(prefix="okrbridge-bench-") as tmp:
            store = Store(f"sqlite:///{tmp}/bench.db")
            try:
                store.migrate()
                store.sync_catalog(catalog)
                # The peer first: a cold start re-seeds a child sandbox, which would drop our links.
                target.cold()
                cold_peer = _peer(target, peer, work)
                target.cold()
                phases["cold"] = {"okrbridge": _ours(target, catalog, store, args), "fair_peer": cold_peer}
                phases["unchanged"] = {"okrbridge": _ours(target, catalog, store, args),
                                       "fair_peer": _peer(target, peer, work)}
                churned = target.admin("POST", "churn", {"share": 0.01, "seed": 7})
                phases["one_percent_changed"] = {"changes": churned,
                                                 "okrbridge": _ours(target, catalog, store, args),
                                                 "fair_peer": _peer(target, peer, work)}
            finally:
                store.close()
    finally:
        target.stop()
    for figures in phases.values():
        ours, theirs = figures["okrbridge"], figures["fair_peer"]
        figures["wall_ratio_okrbridge_over_peer"] = round(ours["wall_s"] / max(theirs["wall_s"], 1e-9), 2)
        ratio = ours["requests"] / max(1, theirs["requests"])
        figures["requests_ratio_okrbridge_over_peer"] = round(ratio, 2)
    limit_s = math.ceil(len(work.counts) / args.workers) * args.latency_ms / 1000
    return {"setup": {"krs": args.krs, "distinct_count_jqls": len(work.counts),
                      "distinct_sums": len(work.sums), "epic_links": len(work.links),
                      "latency_ms": args.latency_ms, "workers": args.workers,
                      "deployment": args.deployment, "issues": target.issues,
                      "concurrency_limit_of_the_counts_s": round(limit_s, 2)},
            **phases}
