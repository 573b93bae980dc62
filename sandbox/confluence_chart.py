"""A small inline SVG for Confluence's chart macro (bar, line or pie over the macro's table).

The table is read as Confluence's chart macro reads it by default (`dataOrientation=horizontal`):
the first row holds the categories (x values), every further row is a series whose first cell is
its name. `vertical` swaps rows and columns. Cells that are not numbers are left out of the chart.
Every piece of text is escaped; the SVG has no scripts, links or external references.
"""

from __future__ import annotations

import math
import re
from html import escape

PALETTE = ("#0052cc", "#36b37e", "#ffab00", "#ff5630", "#6554c0", "#00b8d9", "#97a0af")
_NUMBER = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?")


def number(cell: str) -> float | None:
    """A cell's numeric value ("1,234", "45%", "$300" count; "n/a" does not)."""
    match = _NUMBER.search(cell.replace(",", ""))
    return float(match.group()) if match else None


Series = list[tuple[str, list[float | None]]]


def series_of(rows: list[list[str]], orientation: str = "horizontal") -> tuple[list[str], Series]:
    """(categories, [(series name, values)]) from the table's text cells."""
    if orientation == "vertical":
        width = max((len(row) for row in rows), default=0)
        rows = [[row[i] if i < len(row) else "" for row in rows] for i in range(width)]
    if not rows:
        return [], []
    categories = rows[0][1:]
    series = [(row[0] if row else "", [number(cell) for cell in row[1:len(categories) + 1]])
              for row in rows[1:]]
    return categories, [(name, values) for name, values in series if any(v is not None for v in values)]


def chart_svg(rows: list[list[str]], *, kind: str = "bar", title: str = "",
              orientation: str = "horizontal", width: int = 480, height: int = 240) -> str:
    """The chart as an `<svg>` element string (a short note instead when there is nothing to plot)."""
    categories, series = series_of(rows, orientation)
    if not categories or not series:
        return '<p class="chart-empty">No numeric data to chart.</p>'
    label = escape(title or "Chart", quote=True)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{escape(kind, quote=True)}" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{label}">',
             f"<title>{escape(title or 'Chart')}</title>"]
    if kind == "pie":
        parts.extend(_pie(categories, series[0][1], width, height))
    else:
        parts.extend(_axes_chart(categories, series, kind, width, height))
    parts.append("</svg>")
    return "".join(parts)


def _axes_chart(categories: list[str], series: Series, kind: str,
                width: int, height: int) -> list[str]:
    """Bars (grouped per category) or lines over an x axis of categories, with a legend."""
    left, right, top, bottom = 40, 110, 10, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, vs in series for v in vs if v is not None]
    low, high = min(0.0, *values), max(0.0, *values)
    span = (high - low) or 1.0

    def y(value: float) -> float:
        """Screen y of a value."""
        return top + plot_h - (value - low) / span * plot_h

    slot = plot_w / len(categories)
    out = [f'<line x1="{left}" y1="{y(0):.1f}" x2="{left + plot_w}" y2="{y(0):.1f}" stroke="#5e6c84"/>',
           f'<text x="{left - 4}" y="{y(high):.1f}" font-size="10" text-anchor="end">{_fmt(high)}</text>',
           f'<text x="{left - 4}" y="{y(low):.1f}" font-size="10" text-anchor="end">{_fmt(low)}</text>']
    for i, category in enumerate(categories):
        out.append(f'<text x="{left + slot * (i + 0.5):.1f}" y="{height - bottom + 14}" font-size="10" '
                   f'text-anchor="middle">{escape(category)}</text>')
    bar_w = slot * 0.8 / len(series)
    for s, (name, points) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        if kind == "line":
            coords = " ".join(f"{left + slot * (i + 0.5):.1f},{y(v):.1f}" for i, v in enumerate(points)
                              if v is not None)
            out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        else:
            for i, v in enumerate(points):
                if v is None:
                    continue
                x = left + slot * i + slot * 0.1 + bar_w * s
                out.append(f'<rect x="{x:.1f}" y="{min(y(v), y(0)):.1f}" width="{bar_w:.1f}" '
                           f'height="{abs(y(v) - y(0)):.1f}" fill="{colour}"><title>{escape(name)}: '
                           f'{_fmt(v)}</title></rect>')
        out.extend(_legend_entry(s, name, colour, width - right + 10, top))
    return out


def _pie(categories: list[str], values: list[float | None], width: int, height: int) -> list[str]:
    """One pie of the first series; negative and missing values are left out."""
    slices = [(c, v) for c, v in zip(categories, values, strict=False) if v is not None and v > 0]
    total = sum(v for _, v in slices) or 1.0
    cx, cy, r = (height / 2), height / 2, height / 2 - 10
    out: list[str] = []
    angle = -math.pi / 2
    for i, (category, value) in enumerate(slices):
        sweep = value / total * 2 * math.pi
        colour = PALETTE[i % len(PALETTE)]
        if len(slices) == 1:
            out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{colour}"/>')
        else:
            x1, y1 = cx + r * math.cos(angle), cy + r * math.sin(angle)
            x2, y2 = cx + r * math.cos(angle + sweep), cy + r * math.sin(angle + sweep)
            large = 1 if sweep > math.pi else 0
            out.append(f'<path d="M{cx:.1f},{cy:.1f} L{x1:.1f},{y1:.1f} A{r:.1f},{r:.1f} 0 {large} 1 '
                       f'{x2:.1f},{y2:.1f} Z" fill="{colour}"/>')
        out.extend(_legend_entry(i, f"{category} ({_fmt(value)})", colour, height + 10, 10))
        angle += sweep
    return out


def _legend_entry(index: int, name: str, colour: str, x: float, top: float) -> list[str]:
    """One coloured square and name in the legend column."""
    y = top + index * 16
    return [f'<rect x="{x:.1f}" y="{y:.1f}" width="10" height="10" fill="{colour}"/>',
            f'<text x="{x + 14:.1f}" y="{y + 9:.1f}" font-size="10">{escape(name)}</text>']


def _fmt(value: float) -> str:
    """A number without a pointless ".0"."""
    return f"{value:g}"
