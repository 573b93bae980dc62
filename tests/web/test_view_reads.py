"""Views are graded and drawn from compact series (okrbridge.series), never from a Reading per
observation: the oracle here is the every-reading path (`Store.readings`), which gives each
observation as a Reading with its explanation."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from okrbridge.cli.export import operator
from okrbridge.report import grade_period
from okrbridge.store import Store
from okrbridge.views import ViewData, reader_view
from okrbridge.web import web_context
from okrbridge.workspace import view_data


@pytest.mark.parametrize("label", ["2026", "2026-Q2", "2026-05"])
def test_views_from_compact_series_are_the_views_every_reading_gives(
        app: Flask, label: str, monkeypatch: pytest.MonkeyPatch) -> None:
    context = web_context(app)
    ws, now = context.workspace, context.now()
    period = ws.loaded.calendar.parse(label)
    every = ws.store.readings(until=period.ends_at)

    def refused(*_: Any, **__: Any) -> None:
        raise AssertionError("views read a Reading per observation")

    monkeypatch.setattr(Store, "readings", refused)
    data = view_data(ws, period, now=now)
    report = grade_period(ws.catalog, every, period, now=now, bands=ws.bands,
                          pace_tolerance=ws.settings.grading.pace_tolerance)
    oracle = ViewData(ws.catalog, report, every, data.initiatives, data.states)
    reader = operator(ws.catalog)
    assert data.report == oracle.report
    drawn = reader_view(data, reader).to_dict()
    assert drawn == reader_view(oracle, reader).to_dict()
    assert any(kr["trend"] for objective in drawn["objectives"] for kr in objective["krs"])


@pytest.mark.parametrize("label", ["2026", "2026-Q2", "2026-05"])
def test_views_without_trends_are_the_views_with_trends_less_the_trends(app: Flask, label: str) -> None:
    context = web_context(app)
    ws, now = context.workspace, context.now()
    period = ws.loaded.calendar.parse(label)
    reader = operator(ws.catalog)
    drawn = reader_view(view_data(ws, period, now=now), reader).to_dict()
    bare = reader_view(view_data(ws, period, now=now, trends=False), reader).to_dict()
    for objective in drawn["objectives"]:
        for kr in objective["krs"]:
            kr["trend"] = []
    assert bare == drawn
