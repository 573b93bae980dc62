"""`okrbridge export --csv`: one row per key result for spreadsheets, from the same views as the pages.

The reader is the operator running the command, who may see every objective: the view is cut for a
reader in every group the catalog names, so it goes through the one visibility rule of `views` all
the same. Text cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`,
a tab or a carriage return) are prefixed with `'`; numbers are printed by okrbridge itself and
stay numbers.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from okrbridge.cli.base import Context, cli, pass_context

if TYPE_CHECKING:
    from okrbridge.audiences import Person
    from okrbridge.domain import Catalog
    from okrbridge.view_model import View

COLUMNS = ("id", "objective", "title", "owner", "value", "target", "score", "status", "pace", "as_of",
           "stale", "how obtained")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a cell a spreadsheet would evaluate begins (OWASP's CSV injection list)."""


def safe_cell(text: str) -> str:
    """A text cell a spreadsheet shows as text: one that would start a formula gets a leading `'`."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _number(value: float | None) -> str:
    """A number as a spreadsheet reads it (empty for none)."""
    return "" if value is None else format(value, ".10g")


def kr_rows(view: View) -> list[list[str]]:
    """One row per key result of the view's objectives, in the order of `COLUMNS`."""
    rows = []
    for objective in view.objectives:
        for kr in objective.krs:
            texts = [safe_cell(t) for t in (kr.id, objective.id, kr.title, kr.owner or "")]
            rows.append([*texts, _number(kr.value), safe_cell(kr.goal), _number(kr.score), kr.status.value,
                         kr.pace.value, kr.as_of.isoformat() if kr.as_of else "", "yes" if kr.stale else "no",
                         safe_cell(kr.how)])
    return rows


def write_csv(rows: Iterable[Sequence[str]], stream: TextIO) -> None:
    """The header and `rows` as CSV (RFC 4180 quoting, CRLF line ends)."""
    writer = csv.writer(stream, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)


def operator(catalog: Catalog) -> Person:
    """The operator as a reader: a member of every group the catalog names, so they see everything."""
    from okrbridge.audiences import Person

    lists = [o.visible_to for o in catalog.objectives] + [k.visible_to for k in catalog.kpis]
    return Person("operator", frozenset(group for groups in lists for group in groups))


@cli.command()
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV (the one format so far).")
@click.option("--period", default=None, help="2026 (year), 2026-Q2 (quarter) or 2026-05 (month); "
              "default: the current fiscal year.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@pass_context
def export(obj: Context, as_csv: bool, period: str | None, output: Path | None) -> None:
    """Every key result of a period with its value, target, score, status and how it was obtained."""
    if not as_csv:
        raise click.UsageError("choose the format: --csv")
    from okrbridge.views import reader_view
    from okrbridge.workspace import resolve_period, view_data

    now = datetime.now(UTC)
    with obj.workspace("read") as ws:
        chosen = resolve_period(ws, period, now)
        # an export shows no trend: its grades come from the month sums, as `grades`' do
        rows = kr_rows(reader_view(view_data(ws, chosen, now=now, trends=False), operator(ws.catalog)))
    buffer = io.StringIO(newline="")
    write_csv(rows, buffer)
    if output is None:
        sys.stdout.write(buffer.getvalue())
        return
    try:
        output.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    except OSError as error:
        reason = error.strerror or str(error)
        raise click.ClickException(f"--output {output}: cannot write it ({reason})") from error
    click.echo(f"{len(rows)} key results of {chosen.label} written to {output}", err=True)
