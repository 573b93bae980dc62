"""Hostile or absurd OKR files end in a clear CatalogError naming file, line, id and field, never a crash."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from okrbridge.catalog import CatalogError, load_catalog

Write = Callable[..., Path]


def errors_of(path: Path) -> list[str]:
    """The text of every error loading `path` reports (it must fail with CatalogError)."""
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    return [str(p) for p in caught.value.problems]


def test_an_objective_with_a_blank_id_and_a_parent_is_reported_not_a_key_error(write: Write,
                                                                                 valid_okrs: str) -> None:
    text = valid_okrs + '\n[[objective]]\nid = ""\ntitle = "Orphan"\ncycle = "2026"\nparent = "NOPE"\n'
    path = write(text)
    found = errors_of(path)
    lines = text.split("\n")
    id_line = len(lines) - lines[::-1].index('id = ""')
    parent_line = len(lines) - lines[::-1].index('parent = "NOPE"')
    assert f"{path}:{id_line}: objective[2].id: id '' must be letters" in "\n".join(found)
    assert f"{path}:{parent_line}: objective[2].parent: unknown parent objective 'NOPE'" in found


def test_a_blank_id_with_a_known_parent_only_reports_the_id(write: Write, valid_okrs: str) -> None:
    path = write(valid_okrs + '\n[[objective]]\nid = " "\ntitle = "Child"\ncycle = "2026"\nparent = "CO-1"\n')
    found = errors_of(path)
    assert len(found) == 1 and "objective[2].id" in found[0]
