"""Jira's stored answers and scope baselines: what the steady-state sync reads before it probes
and writes after a run (see okrbridge.change_scope for what they mean).

Answers are stored as JSON keyed by the question's canonical JSON. The whole cache is read in one
query: it holds one row per distinct question (a few thousand at most), far fewer than snapshots.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select as select_columns

from okrbridge.change_scope import Baseline, StoredAnswer
from okrbridge.store.repository import Store
from okrbridge.store.run_rows import _insert_statement, _table
from okrbridge.store.tables import JiraAnswerRow, JiraScopeRow


@dataclass(frozen=True)
class CacheState:
    """The stored answers (by question key, values decoded from JSON) and baselines (by scope key)."""

    answers: Mapping[str, StoredAnswer]
    baselines: Mapping[str, Baseline]


def read_cache(store: Store) -> CacheState:
    """Every stored answer and baseline."""
    answers_table = _table(JiraAnswerRow.__tablename__)
    scopes_table = _table(JiraScopeRow.__tablename__)
    with store.session() as session:
        answers = {row.question: StoredAnswer(json.loads(row.answer), row.asked_at, row.confirmed_at)
                   for row in session.execute(select_columns(answers_table))}
        baselines = {row.scope: Baseline(row.total, row.probed_at)
                     for row in session.execute(select_columns(scopes_table))}
    return CacheState(answers, baselines)


def write_cache(store: Store, *, asked: Mapping[str, Any], confirmed: Mapping[str, datetime],
                baselines: Mapping[str, Baseline], at: datetime) -> None:
    """Store fresh answers (`asked`: key → JSON-ready value, asked and confirmed `at`), move the
    confirmation of answers that stood (`confirmed`: key → when they were asked), and the scopes'
    new baselines, in one transaction."""
    answers_table = _table(JiraAnswerRow.__tablename__)
    scopes_table = _table(JiraScopeRow.__tablename__)
    rows = [{"question": key, "answer": json.dumps(value, sort_keys=True), "asked_at": at, "confirmed_at": at}
            for key, value in asked.items()]
    with store.session(write=True) as session:
        if rows:
            insert = _insert_statement(session, answers_table)
            session.execute(insert.on_conflict_do_update(
                index_elements=[answers_table.c.question],
                set_={"answer": insert.excluded.answer, "asked_at": insert.excluded.asked_at,
                      "confirmed_at": insert.excluded.confirmed_at}), rows)
        if confirmed:
            session.execute(answers_table.update()
                            .where(answers_table.c.question.in_(list(confirmed)))
                            .values(confirmed_at=at))
        if baselines:
            insert = _insert_statement(session, scopes_table)
            session.execute(insert.on_conflict_do_update(
                index_elements=[scopes_table.c.scope],
                set_={"total": insert.excluded.total, "probed_at": insert.excluded.probed_at}),
                [{"scope": key, "total": b.total, "probed_at": b.probed_at} for key, b in baselines.items()])


def clear_cache(store: Store) -> None:
    """Forget every stored answer and baseline (the next sync asks everything)."""
    with store.session(write=True) as session:
        session.execute(_table(JiraAnswerRow.__tablename__).delete())
        session.execute(_table(JiraScopeRow.__tablename__).delete())
