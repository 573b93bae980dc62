"""Small OKR files for tests that sync against the sandbox."""

from __future__ import annotations

BUGS_DONE = "project = ENG AND issuetype = Bug AND statusCategory = Done"
STORIES_DONE = "project = ENG AND issuetype = Story AND statusCategory = Done"

_TWO_KRS = """
[[objective]]
id = "ENG-9"
title = "Keep engineering healthy"
level = "team"
team = "engineering"
owner = "dave"
cycle = "2026"

  [[objective.key_result]]
  id = "ENG-9.1"
  title = "Increase bugs resolved from 0 to 100"
  owner = "dave"
  measure = "increase"
  start = 0
  target = 100
  source = {{ kind = "jql_count", jql = "{first_jql}" }}

  [[objective.key_result]]
  id = "ENG-9.2"
  title = "Increase stories done from 0 to 300"
  owner = "dave"
  measure = "increase"
  start = 0
  target = 300
  source = {{ kind = "jql_count", jql = "{second_jql}" }}
"""


def two_kr_okrs(second_jql: str = STORIES_DONE, first_jql: str = BUGS_DONE) -> str:
    """An okrs.toml with one objective, ENG-9, whose KRs ENG-9.1 and ENG-9.2 count these JQLs."""
    return _TWO_KRS.format(first_jql=first_jql, second_jql=second_jql)
