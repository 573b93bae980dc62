"""Commands over the OKR file and the store: validate, checkin, grades, history."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from okrbridge import textout
from okrbridge.cli.base import (
    Context,
    cli,
    emit_json,
    emit_json_items,
    json_item_text,
    json_text,
    parse_moment,
    pass_context,
)
from okrbridge.safe_text import printable

if TYPE_CHECKING:
    from okrbridge.report import PeriodReport

# The catalog loader (pydantic) and the workspace (the store, SQLAlchemy) load inside the commands
# that use them: `okrbridge --help` needs neither, `validate` no store.


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
def validate(obj: Context, as_json: bool) -> None:
    """Check the config and okrs.toml; lint the OKRs. Exits 1 when there are errors."""
    from okrbridge.catalog import check_catalog_file  # the OKR file only: validate loads no store

    settings = obj.settings
    problems = check_catalog_file(settings.okrs)
    errors = [p for p in problems if p.severity == "error"]
    if as_json:
        emit_json({"config": str(settings.config_file) if settings.config_file else None,
                    "okrs": str(settings.okrs), "problems": [textout.problem_dict(p) for p in problems]})
    else:
        for problem in problems:
            click.echo(printable(f"{problem.severity}: {problem}"))
        warnings = len(problems) - len(errors)
        click.echo(f"{settings.okrs}: {len(errors)} error(s), {warnings} warning(s)")
    if errors:
        sys.exit(1)


class _Number(click.ParamType):
    """A number written with ASCII digits: float() alone also takes "١٢" (Arabic-Indic) and "１２"."""

    name = "number"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        """The float `value` writes, or a usage error naming it."""
        text = str(value).strip()
        try:
            if not text.isascii():
                raise ValueError(text)
            return float(text)
        except ValueError:
            self.fail(f"{value!r} is not a number (write it like 420, -3.5 or 1e6)", param, ctx)


@cli.command()
@click.argument("subject")
@click.argument("value", type=_Number())
@click.option("--note", default=None, help="Why the value is what it is.")
@click.option("--at", "at", default=None, help="When the value was true (default: now), e.g. 2026-05-31.")
@click.option("--author", default=lambda: os.environ.get("USER"), help="Who records it (default: $USER).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
def checkin(obj: Context, subject: str, value: float, note: str | None, at: str | None,
            author: str | None, as_json: bool) -> None:
    """Record a manual VALUE for the key result or KPI SUBJECT."""
    from okrbridge.workspace import checkin_warning, record_checkin

    with obj.workspace("record") as ws:
        snapshot = record_checkin(ws, subject, value, at=parse_moment(at, "--at"), note=note, author=author)
        score = ws.score_of(snapshot)
        warning = checkin_warning(ws, subject)
    if warning:
        click.echo(printable(f"warning: {warning}"), err=True)
    if as_json:
        emit_json(textout.snapshot_dict(snapshot, score))
    else:
        click.echo(textout.snapshot_line(snapshot, score))


@cli.command()
@click.option("--cycle", default=None, help="2026 (year), 2026-Q2 (quarter) or 2026-05 (month); "
              "default: the current fiscal year.")
@click.option("--at", "at", default=None, help="Grade as of this day instead of now.")
@click.option("--nested", is_flag=True, help="Also grade every quarter and month inside the cycle.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Processes that grade --nested's reports (default: the cores this process may use, "
                   "at most 4; 1 grades them here, one after another).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
def grades(obj: Context, cycle: str | None, at: str | None, nested: bool, jobs: int | None,
           as_json: bool) -> None:
    """Grades per objective and key result for a cycle, from the stored snapshots (writes nothing)."""
    from okrbridge.collector import collector_paused
    from okrbridge.report_jobs import default_jobs
    from okrbridge.workspace import rendered_grades, resolve_period

    now = parse_moment(at, "--at") or datetime.now(UTC)
    render: Callable[[PeriodReport], str] = textout.report_text
    if as_json:
        render = (lambda report: json_item_text(report.to_dict())) if nested else (
            lambda report: json_text(report.to_dict()))
    # Nearly everything this command makes lives until it ends and holds no reference cycle: the
    # cyclic collector would only scan it again and again (a sixth of a year's grades at 10,000
    # KRs, a third of --nested). Reference counting frees the rest as usual.
    with collector_paused(), obj.workspace("read") as ws:
        # each report is written as soon as it (and every one before it) is rendered
        texts = rendered_grades(ws, resolve_period(ws, cycle, now), now=now, nested=nested, render=render,
                                jobs=(jobs or default_jobs()) if nested else 1)
        if as_json and nested:
            emit_json_items(texts)
        else:
            for text in texts:
                click.echo(text)


@cli.command()
@click.argument("subject")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
def history(obj: Context, subject: str, as_json: bool) -> None:
    """Every stored snapshot of the key result or KPI SUBJECT, with how each value was obtained."""
    from okrbridge.workspace import history as history_of

    with obj.workspace("read") as ws:
        entries = history_of(ws, subject)
    if as_json:
        emit_json([textout.snapshot_dict(e.snapshot, e.score) for e in entries])
    elif not entries:
        click.echo(printable(f"{subject}: no snapshots yet"))
    else:
        for entry in entries:
            click.echo(textout.snapshot_line(entry.snapshot, entry.score))
