"""The store's lightweight table clauses name exactly the columns, with the types, of its tables."""

from __future__ import annotations

import pytest
from sqlalchemy import TableClause

from okrbridge.store.clauses import ALL
from okrbridge.store.tables import StoreModel


@pytest.mark.parametrize("clause", ALL, ids=lambda clause: clause.name)
def test_a_table_clause_has_every_column_of_its_table_in_order_with_the_same_type(
        clause: TableClause) -> None:
    defined = StoreModel.metadata.tables[clause.name]
    assert [c.name for c in clause.columns] == [c.name for c in defined.columns]
    for light in clause.columns:
        # the table's type is the clause's, or decorates it (SQLModel's AutoString is a String underneath)
        kind = defined.c[light.name].type
        assert type(light.type) in (type(kind), type(getattr(kind, "impl", None))), light.name
