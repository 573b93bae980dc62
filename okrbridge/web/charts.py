"""Server-rendered SVG: a KR's history chart and the dashboard's sparklines (no script, no library).

Points are `[iso time, value]` pairs as the answers carry them. Only numbers and escaped labels go
into the markup, so the SVG is safe to inline in a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape


def _scaled(points: Sequence[Sequence[Any]], width: float, height: float, pad: float,
            extra: Sequence[float] = ()) -> list[tuple[float, float]]:
    """The points mapped into the drawing box (time across, value up), `extra` values widening the range."""
    times = [datetime.fromisoformat(str(p[0])).timestamp() for p in points]
    values = [float(p[1]) for p in points]
    t0, t1 = min(times), max(times)
    low, high = min([*values, *extra]), max([*values, *extra])
    t_span = (t1 - t0) or 1.0
    v_span = (high - low) or 1.0
    across, up = width - 2 * pad, height - 2 * pad
    return [(pad + (t - t0) / t_span * across, height - pad - (v - low) / v_span * up)
            for t, v in zip(times, values, strict=True)]


def sparkline(points: Sequence[Sequence[Any]], *, width: int = 120, height: int = 28,
              label: str = "") -> Markup:
    """A small trend line; an empty box when there are fewer than two points."""
    head = (f'<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label or "trend")}">')
    if len(points) < 2:
        return Markup(head + "</svg>")
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in _scaled(points, width, height, 2))
    return Markup(head + f'<polyline fill="none" stroke="#0052cc" stroke-width="1.5" points="{path}"/></svg>')


def history_chart(points: Sequence[Sequence[Any]], *, target: float | None = None, width: int = 640,
                  height: int = 220, label: str = "") -> Markup:
    """A KR's values over time with a dot per stored value, and its target as a dashed line."""
    head = (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label or "history")}">'
            f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fafbfc" stroke="#dfe1e6"/>')
    if not points:
        return Markup(head + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#5e6c84">'
                      "no values yet</text></svg>")
    extra = [target] if target is not None else []
    scaled = _scaled(points if len(points) > 1 else [points[0], points[0]], width, height, 24, extra)
    parts = [head]
    if target is not None:
        values = [float(p[1]) for p in points]
        low, high = min([*values, target]), max([*values, target])
        y = height - 24 - (target - low) / ((high - low) or 1.0) * (height - 48)
        parts.append(f'<line class="target" x1="24" x2="{width - 24}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#00875a" stroke-dasharray="6 4"/>')
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in scaled)
    parts.append(f'<polyline fill="none" stroke="#0052cc" stroke-width="2" points="{line}"/>')
    parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#0052cc"/>' for x, y in scaled[:len(points)])
    parts.append("</svg>")
    return Markup("".join(parts))
