"""Publish benchmark: the Confluence status pages of a generated catalog, against the sandbox.

Prints, in one run: the first publish (create every page, restricted pages restricted before they
are filled), a second publish with nothing changed (zero writes expected), and one after a single
KR's value changed; beside the fair peer — what a competent user would write with
atlassian-python-api: `update_or_create` for each rendered page, in tree order (the library reads
each page and skips the PUT when the body is unchanged; it sets no restrictions).

    python3 bench/publish_bench.py [--objectives 100] [--krs-per-objective 5]

Figures are printed, never asserted. The sandbox runs in-process on loopback.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from atlassian.confluence import Confluence

from okrbridge.config import default_settings
from okrbridge.page_spec import PageSpec
from okrbridge.workspace import (
    confluence_connection,
    open_workspace,
    publish,
    record_checkin,
    status_pages,
)
from sandbox.server import SandboxServer

BOT = "okrbot@example.com"
TOKEN = "sandbox-token-okrbot"
TEAMS = ("sales", "marketing", "engineering", "people")  # teams whose okr-<team> group the sandbox has


def write_catalog(path: Path, objectives: int, krs: int, year: int) -> None:
    """`objectives` team objectives of `krs` manual KRs each, spread over the sample's teams."""
    lines = ["fiscal_year_start = 1", ""]
    for o in range(objectives):
        team = TEAMS[o % len(TEAMS)]
        visible = '["everyone"]' if o % 3 else f'["okr-{team}", "okr-executives"]'
        lines += ["[[objective]]", f'id = "OB-{o}"', f'title = "Objective {o} of {team}"', 'level = "team"',
                  f'team = "{team}"', 'owner = "alice"', f'cycle = "{year}"', f"visible_to = {visible}", ""]
        for k in range(krs):
            lines += ["  [[objective.key_result]]", f'  id = "OB-{o}.{k}"',
                      f'  title = "Raise metric {k} of {o}"', '  owner = "bob"', '  measure = "increase"',
                      "  start = 0", "  target = 100",
                      '  source = { kind = "manual" }', ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds of one call, and its result."""
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def clear_log(server: SandboxServer) -> None:
    """Empty the sandbox's request log."""
    requests.delete(f"{server.url}/_sandbox/requests", timeout=10).raise_for_status()


def writes(server: SandboxServer) -> tuple[int, int]:
    """(requests, writes) the sandbox logged since its log was last cleared."""
    logged = requests.get(f"{server.url}/_sandbox/requests", timeout=30).json()["requests"]
    return len(logged), sum(1 for entry in logged if entry["method"] not in ("GET", "HEAD"))


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objectives", type=int, default=100)
    parser.add_argument("--krs-per-objective", type=int, default=5)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as scratch, \
            SandboxServer(deployment="cloud", seed=1, size=200) as server:
        okrs = Path(scratch) / "okrs.toml"
        write_catalog(okrs, args.objectives, args.krs_per_objective, now.year)
        env = {"OKRBRIDGE_CONFLUENCE_TOKEN": TOKEN}
        settings = default_settings(env).model_copy(update={
            "okrs": okrs, "database_url": f"sqlite:///{Path(scratch) / 'bench.db'}",
            "confluence": default_settings(env).confluence.model_copy(
                update={"url": server.url, "deployment": "cloud", "email": BOT})})
        ws = open_workspace(settings, mode="record")
        krs = list(ws.catalog.key_results())
        for n, kr in enumerate(krs):
            record_checkin(ws, kr.id, float(n % 100), at=now - timedelta(days=1))
        render_s, specs = timed(lambda: status_pages(ws, now=now))
        print(f"catalog: {args.objectives} objectives, {len(krs)} KRs; {len(specs)} pages "
              f"(rendered in {render_s:.2f} s)")
        with confluence_connection(settings) as confluence:
            for label, prepare in (("first publish", None), ("nothing changed", None),
                                   ("one KR changed", lambda: record_checkin(ws, krs[0].id, 99.0, at=now))):
                if prepare is not None:
                    prepare()
                clear_log(server)
                wall, report = timed(lambda: publish(ws, confluence, now=lambda: now))
                requests_made, written = writes(server)
                print(f"okrbridge {label:<16} {wall:6.2f} s  {requests_made:5d} requests  "
                      f"{written:5d} writes  {report.counts()}")
        specs = status_pages(ws, now=now)
        ws.close()
    # the peer publishes the same pages into a sandbox of its own, so neither finds the other's pages
    with SandboxServer(deployment="cloud", seed=1, size=200) as server:
        peer = Confluence(url=server.url, username=BOT, password=TOKEN, cloud=False)
        for label in ("peer first publish", "peer nothing changed"):
            clear_log(server)
            wall, _ = timed(lambda: publish_like_a_peer(peer, settings.confluence.space, specs))
            requests_made, written = writes(server)
            print(f"{label:<26} {wall:6.2f} s  {requests_made:5d} requests  {written:5d} writes  "
                  "(sets no restrictions or labels)")
    print(f"pid {os.getpid()} done")


def publish_like_a_peer(peer: Confluence, space: str, specs: list[PageSpec]) -> None:
    """The fair peer: each page in tree order through the library's `update_or_create`."""
    ids: dict[str, str] = {}
    for spec in specs:
        parent = ids.get(spec.parent_key) if spec.parent_key else None
        page = peer.update_or_create(parent, spec.title, spec.body, representation="storage", space=space)
        ids[spec.key] = str(page["id"])

if __name__ == "__main__":
    main()
