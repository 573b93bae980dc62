"""Fixtures for the catalog and config tests: small OKR files written to a temporary folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

# A small okrs.toml that loads with no errors and no warnings; tests change one thing in it.
VALID_OKRS = '''\
fiscal_year_start = 1

[[kpi]]
id = "acv"
name = "Average contract value"
unit = "$"
baseline = 10000
target = 15000

[[objective]]
id = "CO-1"
title = "Increase sales revenue"
level = "company"
owner = "alice"
cycle = "2026"

  [[objective.key_result]]
  id = "CO-1.1"
  title = "Increase web conversion from 2% to 2.5%"
  owner = "bob"
  measure = "increase"
  start = 2
  target = 2.5
  source = { kind = "jql_ratio", numerator = "project = WEB AND labels = won", denominator = "project = WEB" }

  [[objective.key_result]]
  id = "CO-1.2"
  title = "Increase average subscription value from $300 to $500"
  owner = "carol"
  measure = "increase"
  start = 300
  target = 500

  [[objective.key_result]]
  id = "CO-1.3"
  title = "Increase average contract value from $10,000 to $15,000"
  owner = "dan"
  measure = "increase"
  start = 10000
  target = 15000
  source = { kind = "kpi", kpi = "acv" }

[[objective]]
id = "SALES-1"
title = "Close bigger deals"
level = "team"
team = "sales"
owner = "carol"
cycle = "2026-Q4"
parent = "CO-1"
visible_to = ["okr-sales"]

  [[objective.key_result]]
  id = "SALES-1.1"
  title = "Grow qualified opportunities from 0 to 120"
  owner = "erin"
  measure = "increase"
  start = 0
  target = 120
  initiatives = { jql = "issuetype = Epic AND labels = \\"kr-SALES-1.1\\"" }

    [objective.key_result.source]
    kind = "jql_count"
    jql = "project = SALES AND labels = qualified"

  [[objective.key_result]]
  id = "SALES-1.2"
  title = "Reduce days to close a sale from 20 to 17"
  owner = "frank"
  measure = "decrease"
  start = 20
  target = 17

  [[objective.key_result]]
  id = "SALES-1.3"
  title = "Keep the discount rate between 5% and 10%"
  owner = "grace"
  measure = "threshold"
  start = 18
  low = 5
  high = 10
'''


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write text (dedented) to a file in tmp_path and return its path."""

    def _write(text: str, name: str = "okrs.toml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def valid_okrs() -> str:
    """The text of a small okrs.toml that has no errors and no warnings."""
    return VALID_OKRS
