"""Benchmark: the Forge issue panel endpoint (`POST /forge/panel`, FIT check included) at scale.

    python3 bench/panel_bench.py [--krs 10000] [--snapshots 1000000] [--requests 2000]
                                 [--concurrency 16] [--threads 8] [--json]

1. A temporary SQLite store holds `--krs` manual KRs (10 per objective, cycle 2026, every other
   objective visible to everyone, the rest to a group the viewers are not in) and `--snapshots`
   values spread evenly over them across 2026, written in bulk with SQLAlchemy Core inserts.
   Each epic EPIC-n drives 3 KRs of 3 objectives (so a panel shows some KRs and hides others).
2. The web app (`create_app`) is served by waitress on a free loopback port, as `okrbridge serve`
   does, trusting a JWKS served on loopback with a test RSA key; every request carries a FIT
   freshly minted for a random epic (RS256, verified by the app against that JWKS).
3. `--concurrency` client threads send `--requests` panel requests; the bench prints p50/p95/p99
   and throughput.

Two peers, measured the same way, so the panel's own cost can be read off:
- `GET /healthz` over the same server and concurrency: the HTTP + WSGI + one-query floor;
- the panel's store reads, called directly in-process at the same concurrency (the epic's
  initiatives, then the readings, sync states and epics of every KR of the visible objectives
  involved, since an objective is graded whole): the data floor without HTTP, FIT or views.

It prints figures; it asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

APP_ID = "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000bec"
KRS_PER_OBJECTIVE = 10
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)


def write_catalog(path: Path, krs: int) -> None:
    """An okrs.toml with `krs` manual KRs, 10 per objective; odd objectives are restricted."""
    lines = ["fiscal_year_start = 1\n"]
    for o in range((krs + KRS_PER_OBJECTIVE - 1) // KRS_PER_OBJECTIVE):
        visible = '"everyone"' if o % 2 == 0 else '"okr-secret"'
        lines.append(f'[[objective]]\nid = "O-{o}"\ntitle = "Objective {o}"\nlevel = "team"\n'
                     f'team = "team-{o % 20}"\nowner = "owner-{o % 50}"\ncycle = "2026"\n'
                     f"visible_to = [{visible}]\n")
        for k in range(min(KRS_PER_OBJECTIVE, krs - o * KRS_PER_OBJECTIVE)):
            lines.append(f'  [[objective.key_result]]\n  id = "O-{o}.{k + 1}"\n'
                         f'  title = "Key result {o}.{k + 1}"\n  owner = "owner-{k}"\n'
                         f'  measure = "increase"\n  start = 0\n  target = 100\n'
                         f'  source = {{ kind = "manual" }}\n')
    path.write_text("".join(lines), encoding="utf-8")


def fill_store(url: str, okrs: Path, snapshots: int) -> tuple[list[str], float]:
    """Record the catalog, then bulk-insert snapshots and initiatives; the epic keys and seconds taken."""
    from sqlalchemy import insert

    from okrbridge.catalog import load_catalog
    from okrbridge.store import Store
    from okrbridge.store.tables import InitiativeRow, SnapshotRow

    started = time.perf_counter()
    catalog = load_catalog(okrs).catalog
    store = Store(url)
    store.migrate()
    store.sync_catalog(catalog, YEAR_START)
    ids = [kr.id for kr in catalog.key_results()]
    per_kr = max(1, snapshots // len(ids))
    step = timedelta(days=360) / per_kr
    epics: list[str] = []
    rng = random.Random(7)
    with store.session(write=True) as session:
        connection = session.connection()
        batch: list[dict[str, Any]] = []
        for n in range(snapshots):
            kr_id = ids[n % len(ids)]
            at = YEAR_START + step * (n // len(ids)) + timedelta(seconds=n % len(ids))
            batch.append({"subject_id": kr_id, "subject_kind": "kr", "taken_at": at,
                          "value": float(rng.randrange(0, 100)), "score": None, "source_kind": "manual",
                          "source_detail": {"source": "manual"}, "note": None, "author": "bench",
                          "confirmed_at": at})
            if len(batch) == 50_000:
                connection.execute(insert(SnapshotRow), batch)
                batch = []
        if batch:
            connection.execute(insert(SnapshotRow), batch)
        rows = []
        for e in range(len(ids) // 3):
            epic = f"EPIC-{e + 1}"
            epics.append(epic)
            for hop in range(3):  # three KRs of three neighbouring objectives
                kr_id = ids[(e + hop * KRS_PER_OBJECTIVE) % len(ids)]
                rows.append({"epic_key": epic, "kr_id": kr_id, "summary": f"Epic {e}",
                             "status": "In Progress", "status_category": "indeterminate", "done": False,
                             "progress": 0.5,
                             "children_done": 1, "children_total": 2, "url": f"https://jira.test/browse/{epic}",
                             "synced_at": YEAR_START})
        connection.execute(insert(InitiativeRow), rows)
    store.close()
    return epics, time.perf_counter() - started


@contextmanager
def jwks_server(key: rsa.RSAPrivateKey, kid: str) -> Iterator[str]:
    """A JWKS with the key's public half, served on loopback; yields its URL."""
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**public, "kid": kid, "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            """The key set."""
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


def mint(key: rsa.RSAPrivateKey, kid: str, epic: str, user: str) -> str:
    """A FIT for `user` on the issue panel of `epic`, as Forge signs one."""
    now = int(time.time())
    claims = {"iss": "forge/invocation-token", "aud": APP_ID, "principal": user, "jti": uuid.uuid4().hex,
              "iat": now, "nbf": now, "exp": now + 300,
              "app": {"id": APP_ID, "installationId": "ari:cloud:ecosystem::installation/bench"},
              "context": {"extension": {"type": "jira:issuePanel", "issue": {"key": epic, "type": "Epic"}}}}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


@contextmanager
def served(app: Any, threads: int) -> Iterator[str]:
    """`app` under waitress on a free loopback port (as `okrbridge serve`); yields its URL."""
    import waitress.server

    server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=threads, ident="okrbridge")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()


def measure(call: Callable[[int], None], requests_count: int, concurrency: int) -> dict[str, float]:
    """Latency percentiles (ms) and throughput of `requests_count` calls on `concurrency` threads."""
    times: list[float] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        started = time.perf_counter()
        call(n)
        elapsed = time.perf_counter() - started
        with lock:
            times.append(elapsed)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(requests_count)))
    wall = time.perf_counter() - started
    cuts = statistics.quantiles(times, n=100)
    return {"requests": requests_count, "p50_ms": cuts[49] * 1e3, "p95_ms": cuts[94] * 1e3,
            "p99_ms": cuts[98] * 1e3, "mean_ms": statistics.fmean(times) * 1e3,
            "per_second": requests_count / wall}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--krs", type=int, default=10_000)
    parser.add_argument("--snapshots", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import logging

    from okrbridge.config import load_settings
    from okrbridge.web import create_app, web_context

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" on every burst

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = "bench-key"
    with tempfile.TemporaryDirectory() as folder, jwks_server(key, kid) as jwks_url:
        root = Path(folder)
        okrs, database = root / "okrs.toml", root / "okrbridge.db"
        write_catalog(okrs, args.krs)
        url = f"sqlite:///{database}"
        epics, fill_seconds = fill_store(url, okrs, args.snapshots)
        config = root / "okrbridge.toml"
        config.write_text(f'okrs = "{okrs}"\ndatabase_url = "{url}"\n[web]\nauth = "anonymous"\n'
                          f'forge_app_id = "{APP_ID}"\nforge_jwks_url = "{jwks_url}"\n', encoding="utf-8")
        settings = load_settings(config, {})
        opened = time.perf_counter()
        app = create_app(settings)  # no Jira: an epic key is its own epic, viewers have no groups
        open_seconds = time.perf_counter() - opened
        rng = random.Random(11)
        tokens = [(epic, mint(key, kid, epic, f"user-{n % 50}"))
                  for n, epic in enumerate(rng.choice(epics) for _ in range(args.requests))]
        figures: dict[str, Any] = {"krs": args.krs, "snapshots": args.snapshots, "epics": len(epics),
                                   "concurrency": args.concurrency, "waitress_threads": args.threads,
                                   "fill_seconds": fill_seconds, "open_seconds": open_seconds}
        try:
            with served(app, args.threads) as base:
                session_local = threading.local()

                def http() -> requests.Session:
                    if not hasattr(session_local, "session"):
                        session_local.session = requests.Session()
                    return session_local.session

                shown = [0, 0]

                def panel(n: int) -> None:
                    epic, token = tokens[n]
                    answer = http().post(f"{base}/forge/panel", json={}, timeout=60,
                                         headers={"Authorization": f"Bearer {token}"})
                    if answer.status_code != 200:
                        raise RuntimeError(f"panel of {epic}: {answer.status_code} {answer.text[:200]}")
                    body = answer.json()
                    shown[0] += len(body["krs"])
                    shown[1] += body["hidden"]

                def health(_: int) -> None:
                    http().get(f"{base}/healthz", timeout=60).raise_for_status()

                measure(panel, min(50, args.requests), args.concurrency)  # warm up: JWKS, pools
                shown[:] = [0, 0]
                figures["panel"] = measure(panel, args.requests, args.concurrency)
                figures["panel"]["krs_shown_per_answer"] = shown[0] / args.requests
                figures["panel"]["krs_hidden_per_answer"] = shown[1] / args.requests
                figures["healthz"] = measure(health, args.requests, args.concurrency)
            ws = web_context(app).workspace
            store = ws.store

            def reads(n: int) -> None:
                # what the panel reads: the epic's KRs, then every KR of their objectives the viewer
                # may see (an objective is graded whole): values up to the cycle's end, states, epics
                driven = {i.kr_id for i in store.initiatives_for_epic(tokens[n][0])}
                objectives = {kr.objective_id for kr in ws.catalog.key_results() if kr.id in driven
                              and "everyone" in ws.catalog.objective(kr.objective_id).visible_to}  # type: ignore[union-attr]
                ids = [kr.id for kr in ws.catalog.key_results() if kr.objective_id in objectives]
                store.readings(ids, until=datetime(2027, 1, 1, tzinfo=UTC))
                store.subject_states(ids)
                store.initiatives_of(ids)

            figures["store_reads"] = measure(reads, args.requests, args.concurrency)
        finally:
            web_context(app).close()
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"store: {args.krs} KRs, {args.snapshots} snapshots, {len(epics)} epics "
          f"(filled in {fill_seconds:.1f} s; app opened in {open_seconds:.1f} s)")
    print(f"{args.requests} requests per row, {args.concurrency} client threads, "
          f"waitress {args.threads} threads")
    print(f"{'':<34}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>9}")
    rows = (("panel", "POST /forge/panel (FIT + views)"), ("healthz", "GET /healthz (HTTP floor)"),
            ("store_reads", "panel's store reads, in-process"))
    for name, label in rows:
        row = figures[name]
        print(f"{label:<34}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}{row['p99_ms']:>9.1f}{row['per_second']:>9.0f}")
    print(f"KRs per panel answer: {figures['panel']['krs_shown_per_answer']:.2f} shown, "
          f"{figures['panel']['krs_hidden_per_answer']:.2f} hidden")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
