"""The pure publish plan: rendered pages against publish records and live pages."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from connectors.confluence import Page, Person
from okrbridge.page_spec import PageSpec
from okrbridge.publish_plan import PLACEHOLDER_MESSAGE, PlanError, content_hash, plan, stamp, stamped_hash
from okrbridge.store import PublishRecord

ROOT = PageSpec("root", "OKRs", None, "<p>root</p>")
YEAR = PageSpec("period:2026", "OKRs 2026", "root", "<p>2026</p>")
SALES = PageSpec("period:2026/audience:sales", "Team: Sales", "period:2026", "<p>s</p>",
                 read_groups=("okr-sales",))
BOT = Person("bot", "okrbridge bot")
WHEN = datetime(2026, 11, 30, tzinfo=UTC)


def record(spec: PageSpec, page_id: str, version: int = 1, parent_id: str | None = None) -> PublishRecord:
    """A record of having written `spec` as it is now."""
    return PublishRecord(spec.key, page_id, spec.title, parent_id, version, content_hash(spec), WHEN)


def live(page_id: str, version: int = 1, message: str = "", parent_id: str | None = None,
         by: Person = BOT) -> Page:
    """A live page."""
    return Page(page_id, "t", "OKR", version, message, by, parent_id)


def actions(specs: list[PageSpec], records: dict[str, PublishRecord], pages: dict[str, Page | None],
            **options: object) -> dict[str, tuple[str, str]]:
    """key -> (action, reason)."""
    return {a.key: (a.action, a.reason) for a in plan(specs, records, pages, **options)}  # type: ignore[arg-type]


def test_the_hash_covers_title_body_parent_groups_and_labels_but_not_their_order() -> None:
    base = content_hash(SALES)
    for change in ({"title": "x"}, {"body": "<p>t</p>"}, {"parent_key": "root"}, {"read_groups": ()},
                   {"labels": ("okr",)}):
        assert content_hash(dataclasses.replace(SALES, **change)) != base  # type: ignore[arg-type]
    two = dataclasses.replace(SALES, read_groups=("a", "b"), labels=("x", "y"))
    swapped = dataclasses.replace(two, read_groups=("b", "a"), labels=("y", "x"))
    assert content_hash(swapped) == content_hash(two)
    assert stamped_hash(stamp(base)) == base and stamped_hash("edited the intro") is None


def test_parents_come_before_children_whatever_order_they_are_rendered_in() -> None:
    assert [a.key for a in plan([SALES, YEAR, ROOT], {}, {})] == ["root", "period:2026", SALES.key]


def test_a_parent_published_before_need_not_be_rendered_again() -> None:
    assert [a.action for a in plan([YEAR], {ROOT.key: record(ROOT, "10")}, {})] == ["create", "orphan"]


@pytest.mark.parametrize(("specs", "message"), [
    ([ROOT, ROOT], "two pages have the key 'root'"),
    ([ROOT, dataclasses.replace(YEAR, title="okrs")], "same title"),
    ([YEAR], "names the parent 'root', which is neither rendered nor published"),
    ([dataclasses.replace(ROOT, parent_key="period:2026"), YEAR], "cycle"),
])
def test_a_tree_that_cannot_be_published_is_refused_with_the_culprit(specs: list[PageSpec],
                                                                     message: str) -> None:
    with pytest.raises(PlanError, match=message):
        plan(specs, {}, {})


def test_new_pages_are_created_and_unchanged_ones_skipped() -> None:
    records = {ROOT.key: record(ROOT, "10", 3)}
    result = actions([ROOT, YEAR], records, {ROOT.key: live("10", 3)})
    assert result == {"root": ("skip", "unchanged"), "period:2026": ("create", "new page")}


def test_a_changed_page_is_updated_and_a_rename_says_so() -> None:
    records = {ROOT.key: record(ROOT, "10", 3)}
    assert actions([dataclasses.replace(ROOT, body="<p>new</p>")], records, {"root": live("10", 3)}) == \
        {"root": ("update", "content changed")}
    assert actions([dataclasses.replace(ROOT, title="All OKRs")], records, {"root": live("10", 3)}) == \
        {"root": ("update", "renamed from 'OKRs'")}


def test_a_version_we_did_not_write_is_a_conflict_unless_forced() -> None:
    records = {ROOT.key: record(ROOT, "10", 3)}
    pages: dict[str, Page | None] = {"root": live("10", 4, "fixed a typo", by=Person("acc-1", "Alice"))}
    action, reason = actions([ROOT], records, pages)["root"]
    assert action == "conflict" and "edited by Alice (version 4; okrbridge wrote 3)" in reason
    assert actions([ROOT], records, pages, force=True)["root"][0] == "update"


def test_a_page_moved_by_someone_is_a_conflict() -> None:
    records = {YEAR.key: record(YEAR, "11", 2, parent_id="10")}
    action, reason = actions([ROOT, YEAR], records, {YEAR.key: live("11", 2, parent_id="99")})[YEAR.key]
    assert action == "conflict" and "moved" in reason


def test_a_page_we_wrote_that_is_gone_is_created_again() -> None:
    assert actions([ROOT], {ROOT.key: record(ROOT, "10")}, {"root": None})["root"][0] == "create"


def test_without_a_record_a_page_found_by_title_is_adopted_only_when_okrbridge_wrote_it() -> None:
    ours = live("10", 2, stamp(content_hash(ROOT)))
    assert actions([ROOT], {}, {"root": ours})["root"][0] == "skip"
    assert actions([ROOT], {}, {"root": live("10", 1, PLACEHOLDER_MESSAGE)})["root"][0] == "update"
    theirs = live("10", 5, "", by=Person("acc-2", "Bob"))
    assert actions([ROOT], {}, {"root": theirs})["root"][0] == "conflict"
    assert actions([ROOT], {}, {"root": theirs}, force=True)["root"][0] == "update"


def test_records_no_longer_rendered_are_orphans_within_the_scope_only() -> None:
    old_year = dataclasses.replace(YEAR, key="period:2025")
    old_team = dataclasses.replace(SALES, key="period:2026/audience:old")
    records = {ROOT.key: record(ROOT, "10"), old_year.key: record(old_year, "12"),
               old_team.key: record(old_team, "13")}
    pages: dict[str, Page | None] = {"root": live("10")}
    everything = actions([ROOT], records, pages)
    assert everything["period:2025"][0] == "orphan" and "left in place" in everything["period:2025"][1]
    scoped = actions([ROOT], records, pages, orphan_scope=lambda key: "period:2026" in key)
    assert "period:2025" not in scoped and scoped["period:2026/audience:old"][0] == "orphan"
