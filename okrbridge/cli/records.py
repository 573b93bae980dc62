"""Commands over the OKR file and the store: validate, checkin, grades, history."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

import click

from okrbridge import textout
from okrbridge.cli.base import Context, cli, emit_json, parse_moment, pass_context
from okrbridge.workspace import checkin_warning, record_checkin, resolve_period
from okrbridge.workspace import grades as grades_of
from okrbridge.workspace import history as history_of
from okrbridge.workspace import validate as problems_of


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
def validate(obj: Context, as_json: bool) -> None:
    """Check the config and okrs.toml; lint the OKRs. Exits 1 when there are errors."""
    settings = obj.settings
    problems = problems_of(settings)
    errors = [p for p in problems if p.severity == "error"]
    if as_json:
        emit_json({"config": str(settings.config_file) if settings.config_file else None,
                    "okrs": str(settings.okrs), "problems": [textout.problem_dict(p) for p in problems]})
    else:
        for problem in problems:
            click.echo(f"{problem.severity}: {problem}")
        warnings = len(problems) - len(errors)
        click.echo(f"{settings.okrs}: {len(errors)} error(s), {warnings} warning(s)")
    if errors:
        sys.exit(1)


@cli.command()
@click.argument("subject")
@click.argument("value", type=float)
@click.option("--note", default=None, help="Why the value is what it is.")
@click.option("--at", "at", default=None, help="When the value was true (default: now), e.g. 2026-05-31.")
@click.option("--author", default=lambda: os.environ.get("USER"), help="Who records it (default: $USER).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
def checkin(obj: Context, subject: str, value: float, note: str | None, at: str | None,
            author: str | None, as_json: bool) -> None:
    """Record a manual VALUE for the key result or KPI SUBJECT."""
    with obj.workspace("record") as ws:
        snapshot = record_checkin(ws, subject, value, at=parse_moment(at, "--at"), note=note, author=author)
        score = ws.score_of(snapshot)
        warning = checkin_warning(ws, subject)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        emit_json(textout.snapshot_dict(snapshot, score))
    else:
        click.echo(textout.snapshot_line(snapshot, score))


@cli.command()
@click.option("--cycle", default=None, help="2026 (year), 2026-Q2 (quarter) or 2026-05 (month); "
              "default: the current fiscal year.")
@click.option("--at", "at", default=None, help="Grade as of this day instead of now.")
@click.option("--nested", is_flag=True, help="Also grade every quarter and month inside the cycle.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
def grades(obj: Context, cycle: str | None, at: str | None, nested: bool, as_json: bool) -> None:
    """Grades per objective and key result for a cycle, from the stored snapshots (writes nothing)."""
    now = parse_moment(at, "--at") or datetime.now(UTC)
    with obj.workspace("read") as ws:
        reports = grades_of(ws, resolve_period(ws, cycle, now), now=now, nested=nested)
    if as_json:
        data = [r.to_dict() for r in reports]
        emit_json(data if nested else data[0])
    else:
        for report in reports:
            click.echo(textout.report_text(report))


@cli.command()
@click.argument("subject")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
def history(obj: Context, subject: str, as_json: bool) -> None:
    """Every stored snapshot of the key result or KPI SUBJECT, with how each value was obtained."""
    with obj.workspace("read") as ws:
        entries = history_of(ws, subject)
    if as_json:
        emit_json([textout.snapshot_dict(e.snapshot, e.score) for e in entries])
    elif not entries:
        click.echo(f"{subject}: no snapshots yet")
    else:
        for entry in entries:
            click.echo(textout.snapshot_line(entry.snapshot, entry.score))
