"""The Confluence store keeps Confluence's rules: unique titles, version+1, inherited read
restrictions, labels and versioned properties, and whole changes under concurrency."""

from __future__ import annotations

import threading

import pytest

from sandbox.confluence_model import BadRequest, Conflict, Forbidden, NotFound, Restriction, Viewer
from sandbox.confluence_store import ConfluenceStore

ALICE = Viewer("acc-alice", frozenset({"okr-viewers"}))
CAROL = Viewer("acc-carol")


@pytest.fixture
def store() -> ConfluenceStore:
    """A store with the OKR space (and its home page)."""
    store = ConfluenceStore()
    store.add_space("OKR", "OKRs")
    return store


def test_a_new_space_gets_a_home_page_unless_told_not_to(store: ConfluenceStore) -> None:
    home = store.pages[store.spaces["OKR"].homepage_id or ""]
    assert home.title == "OKRs Home"
    assert store.add_space("BARE", "Bare", homepage=False).homepage_id is None


def test_space_keys_are_unique_and_alphanumeric(store: ConfluenceStore) -> None:
    with pytest.raises(BadRequest):
        store.add_space("OKR", "Again")
    with pytest.raises(BadRequest):
        store.add_space("NO SPACES", "Bad")


def test_page_ids_are_digit_strings_counting_up(store: ConfluenceStore) -> None:
    first = store.create_page("OKR", "A", "")
    second = store.create_page("OKR", "B", "")
    assert first.id.isdigit() and int(second.id) == int(first.id) + 1


def test_storage_is_kept_byte_for_byte(store: ConfluenceStore) -> None:
    body = "<p>  Spaces\tand &amp; &nbsp;entities <b>kept</b></p>\n<![CDATA[<raw>]]>  "
    page = store.create_page("OKR", "Exact", body)
    assert store.get_page(page.id).current.body == body


@pytest.mark.parametrize("body", ["<p>fish & chips</p>", "<p><b>unclosed</p>", "<p>&bogus;</p>", "<x:y/>"])
def test_malformed_storage_is_refused_like_confluence(store: ConfluenceStore, body: str) -> None:
    with pytest.raises(BadRequest, match="Error parsing xhtml"):
        store.create_page("OKR", "Bad", body)


def test_titles_are_unique_per_space_regardless_of_case(store: ConfluenceStore) -> None:
    store.create_page("OKR", "Q1 Report", "")
    with pytest.raises(BadRequest) as refused:
        store.create_page("OKR", "q1 report", "")
    assert refused.value.message == (
        "A page with this title already exists: A page already exists with the "
        "title q1 report in the space with key OKR"
    )
    store.add_space("ENG", "Engineering", homepage=False)
    assert store.create_page("ENG", "Q1 Report", "").space_key == "ENG"


def test_a_hidden_page_still_blocks_its_title(store: ConfluenceStore) -> None:
    hidden = store.create_page("OKR", "Secret", "")
    store.set_restrictions(hidden.id, {"read": Restriction(groups=["okr-executives"])}, None, replace=True)
    with pytest.raises(BadRequest, match="already exists"):
        store.create_page("OKR", "Secret", "", viewer=CAROL)


def test_creating_in_a_missing_space_is_forbidden(store: ConfluenceStore) -> None:
    with pytest.raises(Forbidden, match="No space with key"):
        store.create_page("NOPE", "A", "")


def test_update_needs_the_next_version_number(store: ConfluenceStore) -> None:
    page = store.create_page("OKR", "V", "<p>1</p>")
    with pytest.raises(BadRequest, match="No version supplied"):
        store.update_page(page.id, version_number=None, title="V", body="<p>2</p>")
    with pytest.raises(Conflict, match="Current version is: 1"):
        store.update_page(page.id, version_number=3, title="V", body="<p>2</p>")
    store.update_page(page.id, version_number=2, title="V", body="<p>2</p>", message="why", minor_edit=True)
    assert (page.current.number, page.current.body, page.current.message, page.current.minor_edit) == (
        2,
        "<p>2</p>",
        "why",
        True,
    )
    assert page.versions[0].body == "<p>1</p>"


def test_update_without_a_body_keeps_the_body_and_may_rename(store: ConfluenceStore) -> None:
    page = store.create_page("OKR", "Old", "<p>kept</p>")
    store.create_page("OKR", "Taken", "")
    with pytest.raises(BadRequest, match="already exists"):
        store.update_page(page.id, version_number=2, title="TAKEN")
    store.update_page(page.id, version_number=2, title="New")
    assert (page.title, page.current.body) == ("New", "<p>kept</p>")


def test_pages_move_but_never_below_themselves(store: ConfluenceStore) -> None:
    root = store.create_page("OKR", "Root", "")
    child = store.create_page("OKR", "Child", "", parent_id=root.id)
    with pytest.raises(BadRequest, match="below itself"):
        store.update_page(root.id, version_number=2, title="Root", parent_id=child.id)
    other = store.create_page("OKR", "Other", "")
    store.update_page(child.id, version_number=2, title="Child", parent_id=other.id)
    assert [a.id for a in store.ancestors(child)] == [other.id]


def test_trashing_a_page_moves_its_children_up_and_purging_removes_it(store: ConfluenceStore) -> None:
    root = store.create_page("OKR", "Root", "")
    middle = store.create_page("OKR", "Middle", "", parent_id=root.id)
    leaf = store.create_page("OKR", "Leaf", "", parent_id=middle.id)
    store.delete_page(middle.id)
    assert leaf.parent_id == root.id
    with pytest.raises(NotFound):
        store.get_page(middle.id)
    assert store.get_page(middle.id, include_trashed=True).status == "trashed"
    assert store.create_page("OKR", "Middle", "").title == "Middle"  # a trashed title is free again
    store.delete_page(middle.id, purge=True)
    assert middle.id not in store.pages


def test_read_restrictions_hide_a_page_and_everything_below_it(store: ConfluenceStore) -> None:
    parent = store.create_page("OKR", "Exec", "")
    child = store.create_page("OKR", "Exec detail", "", parent_id=parent.id)
    store.set_restrictions(parent.id, {"read": Restriction(groups=["okr-viewers"])}, None, replace=True)
    assert store.get_page(child.id, ALICE) is child
    with pytest.raises(NotFound, match=f"ContentId{{id={child.id}}}"):
        store.get_page(child.id, CAROL)
    assert child not in store.visible_pages(CAROL)
    assert store.children(parent.id, ALICE) == [child]


def test_a_listed_user_reads_without_the_group(store: ConfluenceStore) -> None:
    page = store.create_page("OKR", "Mine", "")
    store.set_restrictions(page.id, {"read": Restriction(users=["acc-carol"])}, None, replace=True)
    assert store.get_page(page.id, CAROL) is page
    with pytest.raises(NotFound):
        store.get_page(page.id, ALICE)


def test_update_restrictions_forbid_edits_but_not_reads_and_are_not_inherited(store: ConfluenceStore) -> None:
    page = store.create_page("OKR", "Locked", "")
    child = store.create_page("OKR", "Below", "", parent_id=page.id)
    store.set_restrictions(page.id, {"update": Restriction(users=["acc-alice"])}, None, replace=True)
    assert store.get_page(page.id, CAROL) is page
    with pytest.raises(Forbidden):
        store.update_page(page.id, version_number=2, title="Locked", viewer=CAROL)
    store.update_page(page.id, version_number=2, title="Locked", viewer=ALICE)
    store.update_page(child.id, version_number=2, title="Below", viewer=CAROL)
    with pytest.raises(Forbidden):
        store.add_labels(page.id, [("global", "x")], CAROL)


def test_set_restrictions_adds_or_replaces(store: ConfluenceStore) -> None:
    page = store.create_page("OKR", "R", "")
    store.set_restrictions(page.id, {"read": Restriction(groups=["a"])}, None, replace=False)
    store.set_restrictions(page.id, {"read": Restriction(groups=["b"], users=["u"])}, None, replace=False)
    assert store.restrictions(page.id, None)["read"] == Restriction(users=["u"], groups=["a", "b"])
    store.set_restrictions(page.id, {"update": Restriction(users=["u"])}, None, replace=True)
    rules = store.restrictions(page.id, None)
    assert rules["read"].is_empty() and rules["update"] == Restriction(users=["u"])
    assert all(rule.is_empty() for rule in store.clear_restrictions(page.id, None).values())


def test_labels_are_lowercased_deduplicated_and_validated(store: ConfluenceStore) -> None:
    page = store.create_page("OKR", "L", "")
    labels = store.add_labels(page.id, [("global", "OKR"), ("global", "okr"), ("my", "fav")], None)
    assert [(label.prefix, label.name) for label in labels] == [("global", "okr"), ("my", "fav")]
    other = store.create_page("OKR", "M", "")
    assert store.add_labels(other.id, [("global", "okr")], None)[0].id == labels[0].id
    for bad in ("two words", "a:b", "semi;colon", ""):
        with pytest.raises(BadRequest):
            store.add_labels(page.id, [("global", bad)], None)
    store.remove_label(page.id, "my:fav", None)
    with pytest.raises(NotFound):
        store.remove_label(page.id, "absent", None)
    assert [label.name for label in store.labels(page.id, None)] == ["okr"]


def test_properties_are_versioned_like_pages(store: ConfluenceStore) -> None:
    page = store.create_page("OKR", "P", "")
    prop = store.create_property(page.id, "okr.hash", {"sha": "1"}, None)
    with pytest.raises(BadRequest, match="already has one"):
        store.create_property(page.id, "okr.hash", {}, None)
    with pytest.raises(Conflict):
        store.update_property(page.id, "okr.hash", {"sha": "2"}, 3, None)
    store.update_property(page.id, "okr.hash", {"sha": "2"}, 2, None)
    assert (prop.value, prop.version.number) == ({"sha": "2"}, 2)
    assert store.update_property(page.id, "fresh", "v", 1, None).version.number == 1
    with pytest.raises(NotFound):
        store.update_property(page.id, "missing", "v", 2, None)
    with pytest.raises(BadRequest, match="value"):
        store.create_property(page.id, "number", 5, None)
    store.delete_property(page.id, "fresh", None)
    assert [p.key for p in store.properties(page.id, None)] == ["okr.hash"]


def test_concurrent_creates_of_one_title_leave_exactly_one_page(store: ConfluenceStore) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(16)

    def attempt() -> None:
        """Create the same page at the same moment as fifteen others."""
        barrier.wait()
        try:
            outcomes.append(store.create_page("OKR", "Race", "<p>x</p>").id)
        except BadRequest:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("refused") == 15
    assert len(store.visible_pages(None, title="Race")) == 1
