"""Confluence status pages: well-formed storage format, escaped user text, nothing a reader may not see."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from okrbridge.audiences import Person, default_audiences
from okrbridge.catalog import bundled_sample, load_catalog
from okrbridge.domain import Catalog, Reading
from okrbridge.page_spec import PageSpec
from okrbridge.pages import period_views, publish_periods, render_pages
from okrbridge.report import grade_period
from okrbridge.views import ViewData
from tests.view_fixtures import (
    AUDIENCES,
    CALENDAR,
    CATALOG,
    HOSTILE,
    HOSTILE_JQL,
    INITIATIVES,
    PEOPLE,
    READINGS,
    STATES,
    forbidden_for,
)

ROOT = Path(__file__).parents[2]
JIRA = "https://jira.example.com"
AC, RI = "http://atlassian.com/content", "http://atlassian.com/resource/identifier"


def _parse(body: str) -> etree._Element:
    """A body as Confluence reads it: a fragment inside a root that declares the ac:/ri: namespaces."""
    return etree.fromstring(f'<root xmlns:ac="{AC}" xmlns:ri="{RI}">{body}</root>'.encode())


def _text(body: str) -> str:
    """All the text a reader sees in a body, attributes aside."""
    return "".join(_parse(body).itertext())


def _pages(now: datetime = datetime(2026, 4, 1, tzinfo=UTC)) -> list[PageSpec]:
    """The fixture catalog's pages for the year 2026 and its first quarter."""
    periods = []
    for label in ("2026", "2026-Q1"):
        period = CALENDAR.parse(label)
        report = grade_period(CATALOG, READINGS, period, now=now)
        periods.append(period_views(ViewData(CATALOG, report, READINGS, INITIATIVES, STATES),
                                    AUDIENCES))
    return render_pages(periods, jira_url=JIRA)


def _readable(page: PageSpec, person: Person) -> bool:
    """Whether Confluence lets `person` read the page: open, or restricted to one of their groups."""
    return not page.read_groups or bool(set(page.read_groups) & person.groups)


def test_the_tree_is_a_root_a_page_per_period_and_under_each_a_page_per_audience() -> None:
    pages = _pages()
    assert [(p.key, p.title, p.parent_key) for p in pages[:3]] == [
        ("root", "OKRs", None), ("period:2026", "OKRs 2026", "root"),
        ("period:2026/audience:company", "Company overview (2026)", "period:2026")]
    assert len(pages) == 1 + 2 * (1 + len(AUDIENCES))
    assert len({p.title for p in pages}) == len(pages)
    team_beta = next(p for p in pages if p.key == "period:2026-Q1/audience:team-beta")
    assert team_beta.read_groups == ("grp-a", "grp-b")
    assert team_beta.labels == ("okr", "okr-2026-q1", "okr-team-beta")
    assert all(p.read_groups == () for p in pages if "audience:" not in p.key or p.key.endswith(":company"))


def test_every_page_is_well_formed_storage_format_with_user_text_escaped() -> None:
    for page in _pages():
        root = _parse(page.body)  # raises on any unescaped <, & or ]]> in user text
        assert root.findall(".//b") == [] and root.findall(f".//{{{AC}}}x") == []
    alpha = next(p for p in _pages() if p.key == "period:2026-Q1/audience:team-alpha")
    text = _text(alpha.body)
    assert HOSTILE in text and HOSTILE_JQL in text and "Widget <factory> & co" in text
    assert "Error in the JQL Query: 'x' <is> & unknown" in text


def test_a_control_character_in_a_title_is_dropped_rather_than_breaking_the_page() -> None:
    catalog = Catalog(objectives=(replace(CATALOG.objectives[0], title="bell\x07 and nul\x00 end"),))
    period = CALENDAR.parse("2026-Q1")
    report = grade_period(catalog, {}, period, now=datetime(2026, 4, 1, tzinfo=UTC))
    pages = render_pages([period_views(ViewData(catalog, report), AUDIENCES[:1])])
    assert "bell and nul end" in _text(pages[-1].body)


@pytest.mark.parametrize("person", PEOPLE, ids=[p.name for p in PEOPLE])
def test_no_page_a_person_may_read_names_or_numbers_what_they_may_not_see(person: Person) -> None:
    forbidden = forbidden_for(person)
    readable = [p for p in _pages() if _readable(p, person)]
    assert readable
    for page in readable:
        assert [t for t in forbidden if t in page.body or t in page.title] == [], page.key


def test_a_page_says_how_many_items_it_leaves_out() -> None:
    company = next(p for p in _pages() if p.key == "period:2026-Q1/audience:company")
    assert "2 objectives and 1 KPI are not shown on this page." in _text(company.body)


def test_status_lozenges_charts_links_and_jira_queries_are_storage_macros() -> None:
    alpha = _parse(next(p for p in _pages() if p.key == "period:2026-Q1/audience:team-alpha").body)
    macros = {m.get(f"{{{AC}}}name") for m in alpha.iter(f"{{{AC}}}structured-macro")}
    assert macros == {"status", "chart"}
    colours = [p.text for p in alpha.iter(f"{{{AC}}}parameter") if p.get(f"{{{AC}}}name") == "colour"]
    assert "Grey" in colours and "Yellow" in colours  # PUB-1.2 is stale; PUB-1.1 at 0.5 is at risk
    chart = next(m for m in alpha.iter(f"{{{AC}}}structured-macro") if m.get(f"{{{AC}}}name") == "chart")
    rows = [[cell.text for cell in row] for row in chart.iter("tr")]
    assert rows == [["Date", "2026-01-15", "2026-03-01"], ["PUB-1.1", "2", "5"]]
    links = [page.get(f"{{{RI}}}content-title") for page in alpha.iter(f"{{{RI}}}page")]
    assert links == ["OKRs", "OKRs 2026-Q1"]
    hrefs = [a.get("href") for a in alpha.iter("a")]
    assert (f"{JIRA}/issues/?jql=project%20%3D%20A%20AND%20summary%20~%20%22a%3Cb%20%26%20c%5D%5D%3E%22"
            in hrefs)


def test_the_same_data_renders_byte_identical_pages_a_day_later() -> None:
    first = _pages(datetime(2026, 4, 1, tzinfo=UTC))
    again = _pages(datetime(2026, 4, 2, tzinfo=UTC))
    assert [p.body for p in first] == [p.body for p in again]
    assert first == _pages(datetime(2026, 4, 1, tzinfo=UTC))


def test_the_sample_renders_a_page_per_period_and_default_audience() -> None:
    loaded = load_catalog(bundled_sample("okrs.toml"))
    now = datetime(2026, 5, 15, tzinfo=UTC)
    periods = publish_periods(loaded.catalog, loaded.calendar, now)
    assert [p.label for p in periods] == ["2026", "2026-Q1", "2026-Q2"]
    readings = {"CO-1.2": [Reading("CO-1.2", datetime(2026, 3, 1, tzinfo=UTC), 400.0)]}
    audiences = default_audiences(loaded.catalog)
    views = [period_views(ViewData(loaded.catalog, grade_period(loaded.catalog, readings, p, now=now),
                                   readings), audiences) for p in periods]
    pages = render_pages(views, jira_url=JIRA)
    assert len(pages) == 1 + len(periods) * (1 + len(audiences))
    for page in pages:
        _parse(page.body)
    sales = next(p for p in pages if p.key == "period:2026/audience:team-sales")
    assert sales.title == "Team: Sales (2026)" and sales.read_groups == ("okr-executives", "okr-sales")
    assert "SALES-1.2" in sales.body and "SALES-1" not in next(p for p in pages if p.title ==
                                                               "Company overview (2026)").body


def test_the_built_wheel_carries_the_templates(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a clean copy: an in-tree build/ could carry files no longer there
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("okrbridge", "connectors", "sandbox", "templates"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "-w", str(tmp_path / "w"), "--no-deps",
                    "-q"], check=True, capture_output=True, timeout=240)
    (wheel,) = (tmp_path / "w").glob("okrbridge-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("confluence", "web"):
        expected = {f"okrbridge_templates/{folder}/{p.name}" for p in (ROOT / "templates" / folder).iterdir()}
        assert expected and expected <= names, folder
    assert {"okrbridge/pages.py", "okrbridge/views.py", "connectors/jira.py", "sandbox/server.py"} <= names
