"""`apply` through the PageOperations protocol, on an in-memory Confluence that checks who could read
each body at the moment it is written."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from connectors.confluence import Page, Person, RestrictionError, Restrictions
from okrbridge.page_spec import PageSpec
from okrbridge.publish import PageOperations, apply, interim_restrictions, read_live
from okrbridge.publish_plan import plan
from okrbridge.store import PublishRecord

BOT = Person("bot", "okrbridge bot")
WHEN = datetime(2026, 11, 30, tzinfo=UTC)
ROOT = PageSpec("root", "OKRs", None, "<p>root</p>")
SALES = PageSpec("sales", "Team: Sales", "root", "<p>pipeline 4.2M</p>", read_groups=("okr-sales",),
                 labels=("okr",))
KR = PageSpec("sales/kr", "Sales KR", "sales", "<p>KR</p>", read_groups=("okr-sales",))


class MemoryConfluence:
    """Pages in a dict. Every body write asserts that only the page's intended readers can read it."""

    def __init__(self, refuse_groups: frozenset[str] = frozenset()) -> None:
        """Empty; restrictions naming a group in `refuse_groups` are refused like an unknown group."""
        self.pages: dict[str, Page] = {}
        self.rules: dict[str, Restrictions] = {}
        self.labelled: dict[str, list[str]] = {}
        self.intended: dict[str, frozenset[str]] = {}   # title -> groups allowed to read its body
        self.calls: list[str] = []
        self.refuse_groups = refuse_groups
        self._ids = iter(range(100, 10_000))

    def current_user(self) -> Person:
        return BOT

    def find_page(self, space_key: str, title: str) -> Page | None:
        return next((p for p in self.pages.values() if p.title == title), None)

    def get_page(self, page_id: str, *, body: bool = False) -> Page | None:
        return self.pages.get(page_id)

    def _check_readers(self, page_id: str, title: str, body: str) -> None:
        """A non-empty body may be written only while no one outside its intended readers can read it."""
        if not body:
            return
        allowed = self.intended.get(title, frozenset())
        rule = self.rules.get(page_id, Restrictions())
        readers = None if not (rule.read_users or rule.read_groups) else set(rule.read_groups)
        if allowed:
            assert readers is not None, f"{title} written while everyone could read it"
            assert readers <= allowed, f"{title} written while {readers} could read it"

    def create_page(self, space_key: str, title: str, body: str, *, parent_id: str | None = None,
                    message: str = "") -> Page:
        self.calls.append(f"create {title} body={'yes' if body else 'empty'}")
        page = Page(str(next(self._ids)), title, space_key, 1, message, BOT, parent_id, body)
        self._check_readers(page.id, title, body)
        self.pages[page.id] = page
        return page

    def update_page(self, page_id: str, *, title: str, body: str, version: int, parent_id: str | None = None,
                    message: str = "", minor_edit: bool = True) -> Page:
        self.calls.append(f"update {title}")
        assert version == self.pages[page_id].version + 1
        self._check_readers(page_id, title, body)
        page = Page(page_id, title, "OKR", version, message, BOT, parent_id, body)
        self.pages[page_id] = page
        return page

    def restrictions(self, page_id: str) -> Restrictions:
        return self.rules.get(page_id, Restrictions())

    def set_restrictions(self, page_id: str, wanted: Restrictions) -> Restrictions:
        self.calls.append(f"restrict {self.pages[page_id].title} to {','.join(wanted.read_groups) or '-'}")
        if self.refuse_groups & set(wanted.read_groups):
            raise RestrictionError(400, ["No group found"], "memory://restriction")
        self.rules[page_id] = wanted
        return wanted

    def labels(self, page_id: str) -> list[str]:
        return list(self.labelled.get(page_id, []))

    def add_labels(self, page_id: str, names: Sequence[str]) -> None:
        self.labelled.setdefault(page_id, []).extend(names)


def run(memory: MemoryConfluence, specs: list[PageSpec], records: dict[str, PublishRecord],
        *, force: bool = False) -> dict[str, str]:
    """Plan and apply like workspace.publish does; returns key -> outcome and updates `records`."""
    ops: PageOperations = memory
    memory.intended = {s.title: frozenset(s.read_groups) for s in specs}
    actions = plan(specs, records, read_live(ops, specs, records, "OKR"), force=force)
    report = apply(actions, ops, space_key="OKR", root_parent_id=None,
                   save=lambda r: records.__setitem__(r.key, r), now=lambda: WHEN)
    return {p.key: p.outcome for p in report.pages}


def test_a_restricted_page_is_created_empty_restricted_then_filled() -> None:
    memory = MemoryConfluence()
    assert run(memory, [ROOT, SALES], {}) == {"root": "created", "sales": "created"}
    assert memory.calls == ["create OKRs body=yes", "create Team: Sales body=empty",
                            "restrict Team: Sales to okr-sales", "update Team: Sales"]
    sales = memory.find_page("OKR", "Team: Sales")
    assert sales is not None and memory.rules[sales.id] == Restrictions(("bot",), ("okr-sales",), ("bot",))
    assert memory.labelled[sales.id] == ["okr"]


def test_narrowing_readers_restricts_before_the_new_content_and_widening_after_it() -> None:
    memory, records = MemoryConfluence(), {}
    wide = dataclasses.replace(SALES, read_groups=("okr-sales", "okr-executives"))
    run(memory, [ROOT, wide], records)
    memory.calls.clear()
    narrow = dataclasses.replace(SALES, body="<p>sales only</p>")
    assert run(memory, [ROOT, narrow], records)["sales"] == "updated"
    assert memory.calls == ["restrict Team: Sales to okr-sales", "update Team: Sales"]
    memory.calls.clear()
    widened = dataclasses.replace(wide, read_groups=("okr-executives", "okr-marketing"), body="<p>x</p>")
    assert run(memory, [ROOT, widened], records)["sales"] == "updated"
    assert memory.calls == ["restrict Team: Sales to -", "update Team: Sales",
                            "restrict Team: Sales to okr-executives,okr-marketing"]


def test_opening_a_page_to_everyone_writes_first_then_lifts_the_restrictions() -> None:
    memory, records = MemoryConfluence(), {}
    run(memory, [ROOT, SALES], records)
    memory.calls.clear()
    run(memory, [ROOT, dataclasses.replace(SALES, read_groups=(), body="<p>for all</p>")], records)
    assert memory.calls == ["update Team: Sales", "restrict Team: Sales to -"]
    sales = memory.find_page("OKR", "Team: Sales")
    assert sales is not None and memory.rules[sales.id].is_empty


def test_refused_restrictions_publish_nothing_of_the_page_or_its_subtree_and_a_later_run_finishes() -> None:
    memory, records = MemoryConfluence(refuse_groups=frozenset({"okr-sales"})), {}
    first = run(memory, [ROOT, SALES, KR], records)
    assert first == {"root": "created", "sales": "failed", "sales/kr": "failed"}
    sales = memory.find_page("OKR", "Team: Sales")
    assert sales is not None and sales.body == "" and memory.find_page("OKR", "Sales KR") is None
    memory.refuse_groups = frozenset()
    memory.calls.clear()
    second = run(memory, [ROOT, SALES, KR], records)
    assert second == {"root": "unchanged", "sales": "updated", "sales/kr": "created"}
    assert memory.calls[:2] == ["restrict Team: Sales to okr-sales", "update Team: Sales"]


def test_an_unchanged_tree_makes_no_call_that_writes() -> None:
    memory, records = MemoryConfluence(), {}
    run(memory, [ROOT, SALES, KR], records)
    memory.calls.clear()
    assert set(run(memory, [ROOT, SALES, KR], records).values()) == {"unchanged"}
    assert memory.calls == []


@pytest.mark.parametrize(("old", "new", "interim"), [
    ((), ("a",), ("a",)),
    (("a",), (), ("a",)),
    (("a", "b"), ("b", "c"), ("b",)),
    (("a",), ("c",), ()),
])
def test_while_readers_change_only_those_allowed_before_and_after_may_read(
        old: tuple[str, ...], new: tuple[str, ...], interim: tuple[str, ...]) -> None:
    def rule(groups: tuple[str, ...]) -> Restrictions:
        return Restrictions(("bot",), groups, ("bot",)) if groups else Restrictions()
    assert interim_restrictions(rule(old), rule(new), "bot").read_groups == interim
