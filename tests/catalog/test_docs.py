"""The full-file TOML examples in docs/okrs-format.md load, so the format doc cannot drift from the loader.

A ```toml block preceded by `<!-- full-file -->` is a complete okrs.toml and must load without errors.
One preceded by `<!-- full-file: checkins -->` is a complete check-in file and must load against the
doc's first okrs.toml example (the one under "A first file"), whose ids it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from okrbridge.catalog import CatalogError, load_catalog, load_checkins

DOC = Path(__file__).resolve().parents[2] / "docs" / "okrs-format.md"
BLOCK = re.compile(r"^<!-- full-file(?P<checkins>: checkins)? -->\n```toml\n(?P<body>.*?)^```$",
                   re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Example:
    """One full-file TOML block of the doc: where it starts, what it is, and the catalog it goes with."""

    line: int
    body: str
    checkins: bool
    catalog: str | None  # for check-in files: the body of the doc's first okrs.toml example


def examples() -> list[Example]:
    """Every full-file block of the doc, in order."""
    text = DOC.read_text(encoding="utf-8")
    matches = list(BLOCK.finditer(text))
    first = next((m["body"] for m in matches if m["checkins"] is None), None)
    return [Example(text.count("\n", 0, m.start("body")) + 1, m["body"], m["checkins"] is not None,
                    first if m["checkins"] is not None else None) for m in matches]


EXAMPLES = examples()


def test_the_doc_has_full_file_examples_of_both_kinds() -> None:
    """Guards against the markers going missing, which would make the test below check nothing."""
    assert sum(not e.checkins for e in EXAMPLES) >= 5
    assert any(e.checkins for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"line{e.line}")
def test_full_file_example_loads_without_errors(example: Example, tmp_path: Path) -> None:
    """The example loads as an okrs.toml, or as a check-in file against the doc's first okrs.toml."""
    okrs = tmp_path / "okrs.toml"
    if not example.checkins:
        okrs.write_text(example.body, encoding="utf-8")
        try:
            load_catalog(okrs)
        except CatalogError as error:
            pytest.fail(f"docs/okrs-format.md:{example.line}: example does not load:\n{error}")
        return
    assert example.catalog is not None, "a check-in example needs an okrs.toml example to go with"
    okrs.write_text(example.catalog, encoding="utf-8")
    checkins = tmp_path / "checkins.toml"
    checkins.write_text(example.body, encoding="utf-8")
    try:
        assert load_checkins(checkins, load_catalog(okrs).catalog)
    except CatalogError as error:
        pytest.fail(f"docs/okrs-format.md:{example.line}: check-in example does not load:\n{error}")
