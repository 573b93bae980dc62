"""`okrbridge demo` and `okrbridge sandbox`: the product on embedded defaults, and its stand-in."""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from okrbridge import textout
from okrbridge.cli.base import cli, emit_json
from okrbridge.cycles import PeriodKind
from okrbridge.demo_folder import DemoFolderError, export_line, free_port
from sandbox.defaults import DEFAULT_SEED, DEFAULT_SIZE

if TYPE_CHECKING:
    from okrbridge.demo import DemoRun, Pointer
    from okrbridge.report import PeriodReport
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


def _pointer_lines(pointers: list[Pointer]) -> list[str]:
    """The printed list of where to look."""
    width = max((len(p.url) for p in pointers), default=0)
    return [f"  {p.url:<{width}}  {p.what}\n  {'':<{width}}  sign in as {p.sign_in}" for p in pointers]


def _serve_until_interrupted() -> None:
    """Block until Ctrl-C (SIGINT) or SIGTERM; either ends the demo cleanly (exit 0)."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        while not stop.wait(1.0):  # a timed wait, so Ctrl-C is noticed on every platform
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


@cli.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              default=Path("okrbridge-demo"), show_default=True,
              help="Folder for everything the demo writes (database, config); recreated on every run.")
@click.option("--deployment", type=click.Choice(["cloud", "datacenter"]), default="cloud", show_default=True)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Sandbox demo data seed.")
@click.option("--size", type=int, default=DEFAULT_SIZE, show_default=True,
              help="Issues planned over the year.")
@click.option("--no-history", is_flag=True,
              help="One sync and publish now instead of replaying the year's weekly syncs.")
@click.option("--once", is_flag=True, help="Do it all, print where to look, and exit (scripts, tests).")
@click.option("--serve", is_flag=True, hidden=True, help="Keep serving afterwards (the default; an alias).")
@click.option("--port", type=int, default=0, help="Sandbox port (default: any free port).")
@click.option("--web-port", type=int, default=0,
              help="Port the web app's links point at (default: a free port chosen at start).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def demo(folder: Path, deployment: str, seed: int, size: int, no_history: bool, once: bool, serve: bool,
         port: int, web_port: int, as_json: bool) -> None:
    """The main job on embedded defaults: sandbox Jira and Confluence, sample OKRs, SQLite; a year of
    weekly syncs and monthly publishes, the grades, and where to look. Serves until Ctrl-C (--once exits)."""
    if once and serve:
        raise click.UsageError("--once exits after the demo and --serve keeps serving: give one of them")
    from okrbridge.demo import run_demo, running_sandbox, running_web_app, web_pointers, where_to_look
    from okrbridge.workspace import grades

    say = (lambda line: None) if as_json else (lambda line: click.echo(line, err=True))
    # click.Choice has already limited `deployment` to the two the sandbox plays.
    with ExitStack() as stack:
        server = stack.enter_context(running_sandbox(cast("Deployment", deployment), port, seed, size))
        say(f"sandbox {deployment} Jira + Confluence at {server.url} (seed {seed}, size {size})")
        try:
            run, ws = run_demo(server, folder, web_port=web_port or free_port(), weeks=not no_history,
                               progress=say)
        except DemoFolderError as exc:
            raise click.ClickException(str(exc)) from exc
        stack.callback(ws.close)
        now = datetime.now(UTC)
        calendar = ws.loaded.calendar
        periods = [calendar.period_of(PeriodKind.YEAR, now), calendar.period_of(PeriodKind.QUARTER, now)]
        reports = [r for p in periods for r in grades(ws, p, now=now)]
        web_url = stack.enter_context(running_web_app(ws, server.url))
        pointers = [*where_to_look(run, ws, deployment, year=periods[0].label),
                    *web_pointers(ws, server.url, web_url)]
        _print(run, reports, pointers, deployment, as_json)
        if not once:
            say("\nserving the sandbox and the web app until Ctrl-C (`okrbridge demo --once` exits instead)")
            _serve_until_interrupted()


def _print(run: DemoRun, reports: list[PeriodReport], pointers: list[Pointer], deployment: str,
           as_json: bool) -> None:
    """The demo's summary: the last sync, the grades, where to look, and how to explore further."""
    from okrbridge.workspace import sync_summary

    last = run.syncs[-1]
    if as_json:
        emit_json({"sandbox": run.sandbox_url, "folder": str(run.folder.path), "database": run.database_url,
                   "config": str(run.config_file), "export": export_line(), "checkins": run.checkins,
                   "syncs": len(run.syncs), "last_sync": last.to_dict(),
                   "publishes": [{"at": at.isoformat(), **report.to_dict()} for at, report in run.publishes],
                   "grades": [r.to_dict() for r in reports],
                   "where_to_look": [p.to_dict() for p in pointers]})
        return
    click.echo(f"\n{run.checkins} sample check-ins recorded; {len(run.syncs)} syncs replayed and "
               f"{len(run.publishes)} publishes ({run.pages_written()} page writes) into {run.folder.path}\n"
               f"{sync_summary(last)}\n")
    for report in reports:
        click.echo(textout.report_text(report))
    click.echo("Where to look (the browser asks for the sign-in):")
    click.echo("\n".join(_pointer_lines(pointers)))
    click.echo(f"\nExplore with the CLI (the config names the token variables; tokens never go in it):\n"
               f"  {export_line()}\n"
               f"  okrbridge --config {run.config_file} history CO-1.1\n"
               f"  okrbridge --config {run.config_file} grades --nested\n"
               f"  okrbridge --config {run.config_file} publish --dry-run   (while the sandbox runs)")
