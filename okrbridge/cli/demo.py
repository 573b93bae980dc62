"""`okrbridge demo` and `okrbridge sandbox`: the product on embedded defaults, and its stand-in."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from okrbridge import textout
from okrbridge.cli.base import cli, emit_json
from okrbridge.cycles import PeriodKind
from sandbox.defaults import DEFAULT_SEED, DEFAULT_SIZE

if TYPE_CHECKING:
    from sandbox.state import Deployment

# The sandbox (Flask, the JQL engine) and the store load inside the commands that use them, so that
# every other command starts without them.


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
             add_help_option=False)
@click.pass_context
def sandbox(ctx: click.Context) -> None:
    """Run the local Jira + Confluence stand-in (`okrbridge sandbox --help` lists its options)."""
    from sandbox.__main__ import main as sandbox_main

    sys.exit(sandbox_main(ctx.args, prog="okrbridge sandbox"))


@cli.command()
@click.option("--database", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("okrbridge-demo.db"), show_default=True,
              help="SQLite file for the demo (recreated on every run).")
@click.option("--deployment", type=click.Choice(["cloud", "datacenter"]), default="cloud", show_default=True)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Sandbox demo data seed.")
@click.option("--size", type=int, default=DEFAULT_SIZE, show_default=True,
              help="Issues planned over the year.")
@click.option("--no-history", is_flag=True,
              help="One sync now instead of replaying a weekly sync for the year.")
@click.option("--serve", is_flag=True, help="Keep the sandbox running afterwards (Ctrl-C to stop).")
@click.option("--port", type=int, default=0, help="Sandbox port (default: any free port).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def demo(database: Path, deployment: str, seed: int, size: int, no_history: bool, serve: bool, port: int,
         as_json: bool) -> None:
    """The main job on embedded defaults: sandbox Jira, sample OKRs, SQLite; sync and grade."""
    from okrbridge.demo import BOT_EMAIL, BOT_TOKEN, run_demo, running_sandbox
    from okrbridge.workspace import grades, sync_summary

    say = (lambda line: None) if as_json else (lambda line: click.echo(line, err=True))
    # click.Choice has already limited `deployment` to the two the sandbox plays.
    with running_sandbox(cast("Deployment", deployment), port, seed, size) as server:
        say(f"sandbox {deployment} Jira + Confluence at {server.url} (seed {seed}, size {size})")
        run, ws = run_demo(server, database, weeks=not no_history, progress=say)
        try:
            now = datetime.now(UTC)
            calendar = ws.loaded.calendar
            periods = [calendar.period_of(PeriodKind.YEAR, now), calendar.period_of(PeriodKind.QUARTER, now)]
            reports = [r for p in periods for r in grades(ws, p, now=now)]
        finally:
            ws.close()
        last = run.syncs[-1]
        if as_json:
            emit_json({"sandbox": server.url, "database": run.database_url, "config": str(run.config_file),
                       "checkins": run.checkins,
                       "syncs": len(run.syncs), "last_sync": last.to_dict(),
                       "grades": [r.to_dict() for r in reports]})
        else:
            click.echo(f"\n{run.checkins} sample check-ins recorded; {len(run.syncs)} syncs replayed "
                       f"into {run.database_url}\n{sync_summary(last)}\n")
            for report in reports:
                click.echo(textout.report_text(report))
            jira_api = "/rest/api/3" if deployment == "cloud" else "/rest/api/2"
            click.echo(f"Jira (sandbox):        {server.url}{jira_api}/serverInfo   "
                       f"as {BOT_EMAIL} / {BOT_TOKEN}")
            click.echo(f"Confluence (sandbox):  {server.url}/pages/   "
                       "as alice@example.com / sandbox-token-alice (while it runs: --serve)")
            click.echo(f"Explore the history: okrbridge --config {run.config_file} history CO-1.1\n"
                       f"                     okrbridge --config {run.config_file} grades --nested")
        if serve:
            say("sandbox keeps running; Ctrl-C to stop")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
