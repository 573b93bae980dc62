"""`python -m sandbox --port 8090`: run the local Jira + Confluence stand-in."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from sandbox.app import create_app
from sandbox.faults import FaultConfigError
from sandbox.seed import DEFAULT_SEED, DEFAULT_SIZE, credentials_table
from sandbox.server import build_server
from sandbox.state import EXTENSION_KEY, SandboxState


def parser(prog: str = "python -m sandbox") -> argparse.ArgumentParser:
    """The command line: where to listen, what to seed, which faults to inject."""
    cli = argparse.ArgumentParser(prog=prog, description=__doc__)
    cli.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    cli.add_argument("--port", type=int, default=8090, help="port (default 8090; 0 picks a free one)")
    cli.add_argument("--deployment", choices=("cloud", "datacenter"), default="cloud",
                     help="which Jira/Confluence to play (default cloud)")
    cli.add_argument("--seed", type=int, default=DEFAULT_SEED, help="demo data seed (default %(default)s)")
    cli.add_argument("--size", type=int, default=DEFAULT_SIZE,
                     help="issues planned over the year (default %(default)s; ~90%% exist by late November)")
    cli.add_argument("--empty", action="store_true", help="start without demo data")
    faults = cli.add_argument_group("faults")
    faults.add_argument("--latency-ms", type=float, default=0.0, help="added to every API request")
    faults.add_argument("--rate-limit", type=int, default=0, help="requests per second before 429 (0: none)")
    faults.add_argument("--error-rate", type=float, default=0.0, help="share answered 500/503 (0..1)")
    faults.add_argument("--slow-rate", type=float, default=0.0, help="share answered after --slow-seconds")
    faults.add_argument("--slow-seconds", type=float, default=30.0, help="delay of slow answers")
    faults.add_argument("--drop-rate", type=float, default=0.0, help="share of connections closed unanswered")
    faults.add_argument("--malformed-rate", type=float, default=0.0, help="share of JSON bodies cut in half")
    faults.add_argument("--cut-rate", type=float, default=0.0,
                        help="share of answers whose connection closes halfway through the body")
    faults.add_argument("--fault-seed", type=int, default=None, help="make the random faults repeatable")
    return cli


def fault_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The fault options as `FaultConfig` settings."""
    return {
        "latency_ms": args.latency_ms, "rate_limit": args.rate_limit, "error_rate": args.error_rate,
        "slow_rate": args.slow_rate, "slow_seconds": args.slow_seconds, "drop_rate": args.drop_rate,
        "malformed_rate": args.malformed_rate, "cut_rate": args.cut_rate, "seed": args.fault_seed,
    }


def main(argv: Sequence[str] | None = None, prog: str = "python -m sandbox") -> int:
    """Build, announce and serve the sandbox until Ctrl-C."""
    args = parser(prog).parse_args(argv)
    try:
        app = create_app(deployment=args.deployment, seed=None if args.empty else args.seed,
                         size=args.size, faults=fault_settings(args))
    except FaultConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    server = build_server(app, args.host, args.port)
    state: SandboxState = app.extensions[EXTENSION_KEY]
    url = f"http://{server.host}:{server.port}"
    info = state.seed_info
    print(f"okrbridge sandbox ({args.deployment}) at {url}")
    print(f"  Jira:       {url}/rest/api/{'3' if args.deployment == 'cloud' else '2'}/...")
    print(f"  Confluence: {url}{'/wiki' if args.deployment == 'cloud' else ''}/rest/api/content")
    print(f"  Admin:      {url}/_sandbox/stats  (faults, requests, clock, users, reset)")
    if info:
        print(f"  Seed {info['seed']}, size {info['size']}: {info['issues']} issues, {info['users']} users "
              f"as of {info['as_of'][:10]} (built in {info['seconds']} s)")
        how = ("Basic auth: email + API token" if args.deployment == "cloud"
               else "Bearer PAT, or Basic auth: username (or email) + API token")
        print(f"\nCredentials ({how}). Everyone else: {url}/_sandbox/users\n")
        print(credentials_table(state))
    print("\nCtrl-C to stop.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
