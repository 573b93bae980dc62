"""Benchmark: one okrbridge sync of a large catalog against the sandbox, beside the naive way.

    python3 bench/sync_bench.py [--krs 2000] [--distinct 1500] [--latency-ms 50] [--workers 8]
                                [--deployment cloud|datacenter] [--size 3000] [--naive-sample 200]
                                [--naive-full] [--json]

Everything runs in this process against an in-process `SandboxServer` (real HTTP on loopback) that
adds `--latency-ms` to every API request:

1. a catalog of `--krs` jql_count KRs over `--distinct` distinct, bounded JQLs (some shared);
2. `run_sync` into a fresh SQLite store through a `JiraConnection` (pool of `--workers`);
3. the sandbox's own work per request, from its request log (JQL evaluation and handling time
   minus the injected latency), so the wall time can be read against the concurrency limit
   ceil(distinct / workers) x latency;
4. the naive way: one atlassian-python-api request per KR, serially, no dedup (a sample of
   `--naive-sample` KRs extrapolated to all, or `--naive-full`);
5. memory: peak RSS and the tracemalloc peak of a second, traced sync (tracing slows allocation,
   so the timed sync runs untraced).

It prints figures; it asserts nothing about timings. `--json` prints the same figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from atlassian import Jira

from connectors.jira import JiraConnection
from okrbridge.domain import Catalog, KeyResult, Measure, MeasureKind, Objective, Source, SourceKind
from okrbridge.store import Store
from okrbridge.sync import LinkOptions, SyncReport, run_sync
from sandbox.runtime import RUNTIME_KEY, SandboxRuntime
from sandbox.server import SandboxServer

BOT_EMAIL = "okrbot@example.com"
BOT_TOKEN = "sandbox-token-okrbot"
BOT_PAT = "sandbox-pat-okrbot"
SEED = 1
KRS_PER_OBJECTIVE = 20

# What each seeded project holds (sandbox/seed.py, seed_issues.py), so that most JQLs
# match something: (project, issue type or None for any) -> status clauses, label clauses.
GENERIC_STATUS = ("", "", "statusCategory = Done", "statusCategory != Done", "resolution = Done",
                  'status in ("In Progress", "In Review")', "priority in (High, Highest)")
GENERIC_LABELS = ("", "", "", "labels is EMPTY")
SHAPES: tuple[tuple[str, str | None, tuple[str, ...], tuple[str, ...]], ...] = (
    *((project, kind, GENERIC_STATUS, GENERIC_LABELS)
      for project in ("WEB", "SALES", "MKT", "PEOPLE", "ENG") for kind in (None, "Story", "Task", "Bug")),
    ("WEB", "Visit", ("",), ("", "labels = converted", "labels = organic", "labels = paid",
                            "labels in (referral, social)", "labels = email", "labels != converted")),
    ("SALES", "Deal", ("", "status = Won", "status = Lost", "status in (Open, Negotiation)",
                       "statusCategory = Done"),
     ("", "labels = smb", "labels = midmarket", "labels = enterprise")),
)
DAY_CHOICES = tuple(range(14, 366))


def _date_clause(rng: random.Random) -> str:
    """The time bound OKR queries carry, in a mix like real catalogs': mostly a calendar function
    (this year, the last months), often a fixed date, sometimes a relative age, sometimes none.
    Relative ages (`-30d`) move with time, so a steady-state sync re-asks them every time."""
    roll = rng.random()
    if roll < 0.45:
        field = rng.choice(("created", "resolved", "updated"))
        return rng.choice((f"{field} >= startOfYear()", f"{field} >= startOfMonth(-{rng.randint(0, 11)})",
                           f"{field} >= startOfWeek(-{rng.randint(0, 12)})"))
    if roll < 0.75:
        day = rng.choice(DAY_CHOICES)
        return f'created >= "2026-{1 + day // 31 % 12:02d}-{1 + day % 28:02d}"'
    if roll < 0.85:
        return f"created >= -{rng.choice(DAY_CHOICES)}d"
    return ""


# -- catalog -----------------------------------------------------------------------------------------


def make_jqls(distinct: int, seed: int = SEED) -> list[str]:
    """`distinct` different bounded JQLs over the seeded projects, in a repeatable order."""
    rng = random.Random(seed)
    found: dict[str, None] = {}
    attempts = distinct * 1000
    while len(found) < distinct:
        attempts -= 1
        if attempts < 0:
            raise ValueError(f"could not build {distinct} distinct JQLs; ask for fewer")
        project, kind, statuses, labels = rng.choice(SHAPES)
        clauses = [f"project = {project}"]
        if kind:
            clauses.append(f"issuetype = {kind}")
        clauses.extend(c for c in (rng.choice(statuses), rng.choice(labels)) if c)
        clauses.extend(c for c in [_date_clause(rng)] if c)
        found.setdefault(" AND ".join(clauses))
    return list(found)


def make_catalog(jqls: Sequence[str], krs: int, seed: int = SEED) -> tuple[Catalog, list[str]]:
    """A catalog of `krs` jql_count KRs using every JQL at least once; returns it and each KR's JQL."""
    if krs < len(jqls):
        raise ValueError("--krs must be at least --distinct (every distinct JQL is used by a KR)")
    rng = random.Random(seed + 1)
    assignment = list(jqls) + rng.choices(list(jqls), k=krs - len(jqls))
    rng.shuffle(assignment)
    measure = Measure(MeasureKind.INCREASE, start=0, target=100)
    objectives: list[Objective] = []
    for start in range(0, krs, KRS_PER_OBJECTIVE):
        number = start // KRS_PER_OBJECTIVE + 1
        oid = f"BO-{number}"
        key_results = tuple(
            KeyResult(f"{oid}.{i + 1}", f"Bench KR {oid}.{i + 1}", measure, oid,
                      source=Source(SourceKind.JQL_COUNT, jql=jql))
            for i, jql in enumerate(assignment[start:start + KRS_PER_OBJECTIVE]))
        objectives.append(Objective(oid, f"Bench objective {number}", "2026", key_results=key_results))
    return Catalog(objectives=tuple(objectives)), assignment


# -- measuring ---------------------------------------------------------------------------------------


def p95(values: Sequence[float]) -> float:
    """The 95th percentile (nearest rank) of `values`; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean of `values`; 0 when empty."""
    return statistics.fmean(values) if values else 0.0


def rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _proc_cpu(stat_path: str) -> float | None:
    """User + system CPU seconds from a Linux /proc .../stat file; None where there is none."""
    try:
        after_name = Path(stat_path).read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    return (int(after_name[11]) + int(after_name[12])) / tick


def pool_cpu() -> float | None:
    """CPU seconds used so far by the live `sync_*` pool threads (the okrbridge client side)."""
    seconds = [_proc_cpu(f"/proc/self/task/{t.native_id}/stat")
               for t in threading.enumerate() if t.name.startswith("sync")]
    found = [s for s in seconds if s is not None]
    return sum(found) if found else None


class TimedJiraConnection(JiraConnection):
    """A JiraConnection that notes the client-side round trip of every count (a few µs of cost)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As JiraConnection; `round_trips_ms` collects one figure per count."""
        super().__init__(*args, **kwargs)
        self.round_trips_ms: list[float] = []

    def count(self, jql: str) -> int:
        """JiraConnection.count, timed (list.append is atomic under the GIL)."""
        started = time.perf_counter()
        try:
            return super().count(jql)
        finally:
            self.round_trips_ms.append((time.perf_counter() - started) * 1000.0)


@dataclass
class SandboxWork:
    """The sandbox's own work over some requests, from its request log."""

    requests: int = 0
    excluded_probe: int = 0
    non_2xx: int = 0
    eval_ms: list[float] = field(default_factory=list)
    handling_ms: list[float] = field(default_factory=list)   # Flask duration minus injected latency

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {"requests": self.requests, "excluded_serverinfo_probe": self.excluded_probe,
                "non_2xx": self.non_2xx,
                "eval_ms_sum": round(sum(self.eval_ms), 1),
                "eval_ms_mean": round(mean(self.eval_ms), 3),
                "eval_ms_p95": round(p95(self.eval_ms), 3),
                "handling_minus_latency_ms_sum": round(sum(self.handling_ms), 1),
                "handling_minus_latency_ms_mean": round(mean(self.handling_ms), 3),
                "handling_minus_latency_ms_p95": round(p95(self.handling_ms), 3)}


# -- the sandbox -------------------------------------------------------------------------------------


class Target:
    """The sandbox the benchmark talks to: in this process (the default) or in a child process."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Seed and start the sandbox with `args.latency_ms` injected on every API request."""
        self.latency_ms: float = args.latency_ms
        self.size: int = args.size
        self.process: subprocess.Popen[bytes] | None = None
        self.server: SandboxServer | None = None
        started = time.perf_counter()
        if not args.in_process:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sandbox", "--port", str(port), "--deployment",
                 args.deployment, "--seed", str(SEED), "--size", str(args.size),
                 "--latency-ms", str(args.latency_ms)], stdout=subprocess.DEVNULL)
            self.url = f"http://127.0.0.1:{port}"
            self._wait_until_up()
        else:
            self.server = SandboxServer(deployment=args.deployment, seed=SEED, size=args.size,
                                        faults={"latency_ms": args.latency_ms}).start()
            self.url = self.server.url
        self.seed_s = time.perf_counter() - started
        self.issues = int(self.admin("GET", "stats")["issues"])

    def _wait_until_up(self) -> None:
        """Poll the child's admin API until it answers (or it dies)."""
        for _ in range(300):
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError("the sandbox process exited at start")
            try:
                requests.get(f"{self.url}/_sandbox/stats", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("the sandbox process did not answer within 30 s")

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the sandbox's own API (`/_sandbox/<path>`); the JSON answer, or None for 204."""
        answer = requests.request(method, f"{self.url}/_sandbox/{path}", json=body, timeout=60)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def cold(self) -> None:
        """Empty the request log and the JQL result cache, so the next phase starts cold."""
        if self.server is not None:
            runtime: SandboxRuntime = self.server.app.extensions[RUNTIME_KEY]
            runtime.jql.clear()
        else:
            self.admin("POST", "reset", {"seed": SEED, "size": self.size})  # also drops cached results
        self.admin("DELETE", "requests")

    def cpu_s(self) -> float | None:
        """CPU seconds of the child sandbox process (None in process mode)."""
        return _proc_cpu(f"/proc/{self.process.pid}/stat") if self.process is not None else None

    def work(self) -> SandboxWork:
        """API requests in the request log, serverInfo probes left out and counted apart."""
        work = SandboxWork()
        for entry in self.admin("GET", "requests")["requests"]:
            path = str(entry["path"])
            if not path.startswith("/rest/"):
                continue
            if path.endswith("/serverInfo"):
                work.excluded_probe += 1
                continue
            work.requests += 1
            if entry["status"] is None or not 200 <= int(entry["status"]) < 300:
                work.non_2xx += 1
            work.eval_ms.append(float(entry["eval_ms"]))
            work.handling_ms.append(max(0.0, float(entry["duration_ms"]) - self.latency_ms))
        return work

    def stop(self) -> None:
        """Stop the sandbox (terminate the child we started, by its own handle)."""
        if self.server is not None:
            self.server.stop()
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


# -- okrbridge sync ----------------------------------------------------------------------------------


@dataclass
class SyncFigures:
    """What one okrbridge sync did and how long it took."""

    wall_s: float
    last_answer_s: float
    report: SyncReport
    snapshots: int
    zero_values: int
    cpu_s: float
    cpu_until_last_answer_s: float
    pool_cpu_s: float | None
    round_trips_ms: list[float]
    catalog_sync_s: float
    tracemalloc_peak_mib: float | None = None


def okrbridge_sync(target: Target, catalog: Catalog, args: argparse.Namespace, *,
                   traced: bool = False) -> SyncFigures:
    """Sync `catalog` into a fresh SQLite store through a JiraConnection; time it (or trace memory)."""
    with tempfile.TemporaryDirectory(prefix="okrbridge-bench-") as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        try:
            store.migrate()
            started = time.perf_counter()
            store.sync_catalog(catalog)
            catalog_sync_s = time.perf_counter() - started
            jira = TimedJiraConnection(target.url, deployment=args.deployment, email=BOT_EMAIL,
                                       token=BOT_TOKEN, max_connections=max(args.workers, 10))
            marks: dict[str, float] = {}

            def progress(number: int, total: int) -> None:
                """At the last answer: note the time, and the pool's CPU while its threads still live."""
                if number == total:
                    marks["at"], marks["cpu"] = time.perf_counter(), time.process_time()
                    pool = pool_cpu()
                    if pool is not None:
                        marks["pool"] = pool

            with jira:
                if traced:
                    tracemalloc.start()
                cpu0, t0 = time.process_time(), time.perf_counter()
                report = run_sync(catalog, store, jira, max_concurrency=args.workers,
                                  links=LinkOptions(enabled=False), progress=progress)
                wall = time.perf_counter() - t0
                cpu = time.process_time() - cpu0
                peak: float | None = None
                if traced:
                    peak = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
                    tracemalloc.stop()
                report.requests = jira.stats.requests
            readings = [r for rs in store.readings().values() for r in rs]
        finally:
            store.close()
    return SyncFigures(
        wall_s=wall, last_answer_s=marks.get("at", t0 + wall) - t0, report=report, snapshots=len(readings),
        zero_values=sum(1 for r in readings if r.value == 0), cpu_s=cpu,
        cpu_until_last_answer_s=marks.get("cpu", cpu0 + cpu) - cpu0, pool_cpu_s=marks.get("pool"),
        round_trips_ms=jira.round_trips_ms, catalog_sync_s=catalog_sync_s, tracemalloc_peak_mib=peak)


# -- the naive way -----------------------------------------------------------------------------------


def naive_client(url: str, deployment: str) -> Callable[[str], int]:
    """One straight atlassian-python-api call per JQL: Cloud's approximate count, DC's search total."""
    if deployment == "cloud":
        cloud = Jira(url, username=BOT_EMAIL, password=BOT_TOKEN, cloud=True)
        return lambda jql: int((cloud.approximate_issue_count(jql) or {})["count"])
    dc = Jira(url, token=BOT_PAT)
    return lambda jql: int((dc.jql(jql, limit=0) or {})["total"])


def naive_sync(target: Target, kr_jqls: Sequence[str], deployment: str) -> tuple[float, int, SandboxWork]:
    """Ask every JQL in `kr_jqls` serially, one request per KR; (seconds, errors, sandbox work)."""
    target.cold()
    ask = naive_client(target.url, deployment)
    errors = 0
    started = time.perf_counter()
    for jql in kr_jqls:
        try:
            ask(jql)
        except Exception:  # a benchmark counts failures rather than stopping
            errors += 1
    seconds = time.perf_counter() - started
    return seconds, errors, target.work()


# -- the run -----------------------------------------------------------------------------------------


def _sync_figures(sync: SyncFigures, work: SandboxWork, limit_s: float, rounds: int,
                  rss_before: float, rss_after: float, server_cpu_s: float | None) -> dict[str, Any]:
    """The okrbridge sync's figures as JSON-ready data."""
    report = sync.report
    rtt = sync.round_trips_ms
    until = sync.cpu_until_last_answer_s
    return {
        "wall_s": round(sync.wall_s, 3),
        "until_last_answer_s": round(sync.last_answer_s, 3),
        "after_last_answer_s": round(sync.wall_s - sync.last_answer_s, 3),
        "catalog_sync_s_not_timed": round(sync.catalog_sync_s, 3),
        "questions": report.questions,
        "requests_sandbox_log": work.requests,
        "requests_excluded_serverinfo": work.excluded_probe,
        "requests_client_stats": report.requests,
        "retries": report.retries,
        "limit_rounds": rounds,
        "limit_s": round(limit_s, 3),
        "wall_over_limit": round(sync.wall_s / limit_s, 3) if limit_s else None,
        "ask_over_limit": round(sync.last_answer_s / limit_s, 3) if limit_s else None,
        "snapshots_written": sync.snapshots,
        "krs_valued_zero": sync.zero_values,
        "krs_synced": len(report.synced),
        "krs_failed": len(report.failed),
        "failed_examples": dict(list(report.failed.items())[:3]),
        "round_trip_ms_mean": round(mean(rtt), 2),
        "round_trip_ms_p50": round(statistics.median(rtt), 2) if rtt else 0.0,
        "round_trip_ms_p95": round(p95(rtt), 2),
        "rounds_x_mean_round_trip_s": round(rounds * mean(rtt) / 1000.0, 3),
        "process_cpu_s": round(sync.cpu_s, 3),
        "process_cpu_until_last_answer_s": round(until, 3),
        "process_cpu_over_wall": round(sync.cpu_s / sync.wall_s, 3),
        "pool_threads_cpu_s": round(sync.pool_cpu_s, 2) if sync.pool_cpu_s is not None else None,
        "sandbox_process_cpu_s": round(server_cpu_s, 2) if server_cpu_s is not None else None,
        "rss_peak_mib_before_sync": round(rss_before, 1),
        "rss_peak_mib_after_sync": round(rss_after, 1),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run every phase for `args.deployment` and return the figures."""
    jqls = make_jqls(args.distinct)
    catalog, kr_jqls = make_catalog(jqls, args.krs)
    uses: dict[str, int] = {}
    for jql in kr_jqls:
        uses[jql] = uses.get(jql, 0) + 1
    rounds = math.ceil(len(jqls) / args.workers)
    limit_s = rounds * args.latency_ms / 1000.0
    target = Target(args)
    out: dict[str, Any] = {"setup": {
        "deployment": args.deployment, "krs": args.krs, "distinct_jqls": len(jqls),
        "krs_sharing_a_jql": sum(1 for jql in kr_jqls if uses[jql] > 1),
        "latency_ms": args.latency_ms, "workers": args.workers, "sandbox_size": args.size,
        "sandbox_issues": target.issues, "sandbox_seed_s": round(target.seed_s, 2),
        "sandbox": "in-process SandboxServer (diagnostic)" if args.in_process else "child process",
        "python": sys.version.split()[0], "cpus": os.cpu_count()}}
    try:
        target.cold()
        rss_before = rss_mib()
        server_cpu0 = target.cpu_s()
        sync = okrbridge_sync(target, catalog, args)
        server_cpu1 = target.cpu_s()
        rss_after = rss_mib()
        work = target.work()
        jql_stats = target.admin("GET", "stats")["jql"]
        server_cpu = None if server_cpu0 is None or server_cpu1 is None else server_cpu1 - server_cpu0
        out["okrbridge"] = _sync_figures(sync, work, limit_s, rounds, rss_before, rss_after, server_cpu)
        out["sandbox_work"] = {**work.to_dict(), "jql_evaluations_since_reset": jql_stats["evaluations"],
                               "jql_cache_hits_since_reset": jql_stats["cache_hits"],
                               "jql_errors_since_reset": jql_stats["errors"]}
        if args.no_tracemalloc:
            out["memory"] = {"tracemalloc_peak_mib": None, "rss_peak_mib": round(rss_mib(), 1)}
        else:
            target.cold()
            traced = okrbridge_sync(target, catalog, args, traced=True)
            out["memory"] = {"tracemalloc_peak_mib": round(traced.tracemalloc_peak_mib or 0.0, 1),
                             "traced_sync_wall_s": round(traced.wall_s, 3),
                             "rss_peak_mib": round(rss_mib(), 1)}
        sample = kr_jqls if args.naive_full else kr_jqls[:max(1, min(args.naive_sample, len(kr_jqls)))]
        naive_s, naive_errors, naive_work = naive_sync(target, sample, args.deployment)
    finally:
        target.stop()
    per_kr = naive_s / len(sample)
    naive_all = naive_s if len(sample) == len(kr_jqls) else per_kr * len(kr_jqls)
    out["naive"] = {
        "krs_timed": len(sample), "measured_s": round(naive_s, 3), "per_request_ms": round(per_kr * 1000, 2),
        "errors": naive_errors, "requests_sandbox_log": naive_work.requests,
        "sandbox_handling_minus_latency_ms_mean": round(mean(naive_work.handling_ms), 2),
        "eval_ms_mean": round(mean(naive_work.eval_ms), 2),
        "transport_and_client_ms_per_request": round(
            per_kr * 1000 - args.latency_ms - mean(naive_work.handling_ms), 2),
        "all_krs_s": round(naive_all, 2), "extrapolated": len(sample) != len(kr_jqls),
        "speedup_vs_okrbridge": round(naive_all / sync.wall_s, 1),
    }
    return out


# -- output ------------------------------------------------------------------------------------------


def print_table(out: dict[str, Any]) -> None:
    """The figures as an aligned, labelled table."""
    setup, ok, work, mem, naive = (out["setup"], out["okrbridge"], out["sandbox_work"], out["memory"],
                                   out["naive"])
    lat = setup["latency_ms"]
    rows: list[tuple[str, str]] = []

    def section(title: str) -> None:
        """Start a titled block."""
        rows.append((f"== {title}", ""))

    def row(label: str, value: Any) -> None:
        """One figure."""
        rows.append((f"  {label}", str(value)))

    section(f"setup ({setup['deployment']}, {setup['sandbox']})")
    row("KRs / distinct JQLs", f"{setup['krs']} / {setup['distinct_jqls']}")
    row("KRs whose JQL another KR shares", setup["krs_sharing_a_jql"])
    row("injected latency / workers", f"{lat:g} ms / {setup['workers']}")
    row("sandbox issues (seeded in)", f"{setup['sandbox_issues']} ({setup['sandbox_seed_s']} s)")
    row("python / cpus", f"{setup['python']} / {setup['cpus']}")
    section("okrbridge sync (run_sync, remote links off, fresh SQLite store)")
    row("wall time", f"{ok['wall_s']:.3f} s")
    row("  until the last answer", f"{ok['until_last_answer_s']:.3f} s")
    row("  after it (evaluate, score, store write)", f"{ok['after_last_answer_s']:.3f} s")
    row("concurrency limit ceil(D/W) x latency", f"{ok['limit_rounds']} x {lat:g} ms = {ok['limit_s']:.3f} s")
    row("wall / limit",
        f"{ok['wall_over_limit']:.3f}x   (until the last answer: {ok['ask_over_limit']:.3f}x)")
    row("questions", ok["questions"])
    row("requests: sandbox log, API paths", f"{ok['requests_sandbox_log']}   (serverInfo probe excluded; "
        f"probes seen: {ok['requests_excluded_serverinfo']})")
    row("requests: jira.stats.requests / retries", f"{ok['requests_client_stats']} / {ok['retries']}")
    row("snapshots written (valued 0)", f"{ok['snapshots_written']} ({ok['krs_valued_zero']})")
    failed = ok["krs_failed"]
    row("KRs failed", failed if not failed else f"{failed}   <<<<<<<< FAILURES: {ok['failed_examples']}")
    row("client round trip per count mean/p50/p95",
        f"{ok['round_trip_ms_mean']:.2f} / {ok['round_trip_ms_p50']:.2f} / {ok['round_trip_ms_p95']:.2f} ms")
    row("  rounds x mean round trip", f"{ok['rounds_x_mean_round_trip_s']:.3f} s")
    row("process CPU (whole sync) / per wall second",
        f"{ok['process_cpu_s']:.2f} s / {ok['process_cpu_over_wall']:.2f}")
    if ok["pool_threads_cpu_s"] is not None:
        rest = ok["process_cpu_until_last_answer_s"] - ok["pool_threads_cpu_s"]
        where = "sandbox handlers, main" if ok["sandbox_process_cpu_s"] is None else "main thread"
        row("  CPU until last answer: sync pool / rest",
            f"{ok['pool_threads_cpu_s']:.2f} s / {rest:.2f} s ({where})")
    if ok["sandbox_process_cpu_s"] is not None:
        row("  CPU of the sandbox process", f"{ok['sandbox_process_cpu_s']:.2f} s")
    section("sandbox's own work during the sync (its request log)")
    row("requests (non-2xx)", f"{work['requests']} ({work['non_2xx']})")
    row("JQL evaluation sum / mean / p95",
        f"{work['eval_ms_sum'] / 1000:.3f} s / {work['eval_ms_mean']:.2f} ms / {work['eval_ms_p95']:.2f} ms")
    row("handling - injected latency sum/mean/p95",
        f"{work['handling_minus_latency_ms_sum'] / 1000:.3f} s / "
        f"{work['handling_minus_latency_ms_mean']:.2f} ms / {work['handling_minus_latency_ms_p95']:.2f} ms")
    row("  beside the limit: sum / workers",
        f"{work['handling_minus_latency_ms_sum'] / 1000 / setup['workers']:.3f} s  vs  {ok['limit_s']:.3f} s")
    row("JQL evaluations / cache hits / errors",
        f"{work['jql_evaluations_since_reset']} / {work['jql_cache_hits_since_reset']} / "
        f"{work['jql_errors_since_reset']}")
    section("memory")
    row("peak RSS before / after the sync",
        f"{ok['rss_peak_mib_before_sync']} / {ok['rss_peak_mib_after_sync']} MiB (this process)")
    if mem["tracemalloc_peak_mib"] is not None:
        row("tracemalloc peak during a traced sync", f"{mem['tracemalloc_peak_mib']} MiB "
            f"(a second sync; tracing slowed it to {mem['traced_sync_wall_s']:.2f} s)")
    section("naive: one atlassian-python-api request per KR, serial, no dedup")
    row(f"MEASURED ({naive['krs_timed']} KRs)", f"{naive['measured_s']:.3f} s  "
        f"({naive['per_request_ms']:.2f} ms/request, errors {naive['errors']})")
    row("  per request beyond latency: sandbox / rest",
        f"{naive['sandbox_handling_minus_latency_ms_mean']:.2f} ms (eval {naive['eval_ms_mean']:.2f}) / "
        f"{naive['transport_and_client_ms_per_request']:.2f} ms (transport + client)")
    label = f"EXTRAPOLATED to {setup['krs']} KRs" if naive["extrapolated"] else f"all {setup['krs']} KRs"
    row(label, f"{naive['all_krs_s']:.2f} s")
    row("speed-up naive / okrbridge", f"{naive['speedup_vs_okrbridge']:.1f}x")
    width = max(len(label) for label, _ in rows) + 2
    for label, value in rows:
        print(label if not value else f"{label:<{width}}{value}")


def parser() -> argparse.ArgumentParser:
    """The command line."""
    cli = argparse.ArgumentParser(prog="python3 bench/sync_bench.py", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--krs", type=int, default=2000, help="KRs in the catalog (default %(default)s)")
    cli.add_argument("--distinct", type=int, default=1500,
                     help="distinct JQLs among them (default %(default)s)")
    cli.add_argument("--latency-ms", type=float, default=50.0,
                     help="injected per request (default %(default)s)")
    cli.add_argument("--workers", type=int, default=8, help="sync max_concurrency (default %(default)s)")
    cli.add_argument("--deployment", choices=("cloud", "datacenter"), default="cloud")
    cli.add_argument("--size", type=int, default=3000, help="sandbox seed size (default %(default)s)")
    cli.add_argument("--naive-sample", type=int, default=200,
                     help="KRs timed the naive way, extrapolated to all (default %(default)s)")
    cli.add_argument("--naive-full", action="store_true", help="time the naive way over every KR")
    cli.add_argument("--no-tracemalloc", action="store_true", help="skip the traced (memory) sync")
    cli.add_argument("--in-process", action="store_true",
                     help="diagnostic: run the sandbox inside this process; its work then competes with "
                          "the sync for one interpreter lock, which a real Jira never does")
    cli.add_argument("--json", action="store_true", help="print the figures as JSON")
    return cli


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures; exit 1 when a KR failed to sync."""
    args = parser().parse_args(argv)
    if args.workers < 1 or args.distinct < 1 or args.krs < args.distinct or args.latency_ms < 0:
        print("error: need --workers >= 1, --distinct >= 1, --krs >= --distinct, --latency-ms >= 0",
              file=sys.stderr)
        return 2
    out = run(args)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print_table(out)
    failed = out["okrbridge"]["krs_failed"]
    if failed:
        examples = out["okrbridge"]["failed_examples"]
        print(f"\n!!! {failed} KRs FAILED TO SYNC: {examples} !!!", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
