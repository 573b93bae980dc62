"""Publishing a small tree of pages to the sandbox over HTTP, as Confluence Cloud and Data Center.

The sandbox's request log is the witness for "no write": it records every request the server saw.
"""

from __future__ import annotations

import base64
import dataclasses

import requests

from connectors.confluence import ConfluenceConnection
from okrbridge.page_spec import PageSpec
from okrbridge.workspace import Workspace, publish
from sandbox.server import SandboxServer
from tests.publish.support import STATUS, clear_log, reader, tree, writes


def outcomes(report: object) -> dict[str, str]:
    """Page key -> outcome of a publish report."""
    return {p.key: p.outcome for p in report.pages}  # type: ignore[attr-defined]


def page_ids(ws: Workspace) -> dict[str, str]:
    """Page key -> page id, from the publish records."""
    return {key: record.page_id for key, record in ws.store.publish_records().items()}


def with_body(specs: list[PageSpec], key: str, body: str) -> list[PageSpec]:
    """The specs with one page's body changed."""
    return [dataclasses.replace(s, body=body) if s.key == key else s for s in specs]


def test_a_first_publish_creates_the_tree_with_restrictions(
        workspace: Workspace, confluence: ConfluenceConnection, sandbox: SandboxServer) -> None:
    report = publish(workspace, confluence, tree())

    assert set(outcomes(report).values()) == {"created"}
    ids = page_ids(workspace)
    bot = reader(sandbox, "okrbot")
    sales = bot("GET", f"content/{ids['period:2026/audience:sales']}",
                params={"expand": "ancestors,body.storage,version"}).json()
    assert [a["title"] for a in sales["ancestors"]] == ["OKRs", "OKRs 2026"]
    assert sales["body"]["storage"]["value"] == "<p>Sales pipeline 4.2M</p>"
    assert sales["version"]["message"].startswith("okrbridge sha256:")
    restrictions = confluence.restrictions(ids["period:2026/audience:sales"])
    bot_ref = confluence.current_user().ref
    assert set(restrictions.read_groups) == {"okr-sales", "okr-executives"}
    assert restrictions.read_users == (bot_ref,)
    assert restrictions.update_users == (bot_ref,) and restrictions.update_groups == ()
    assert confluence.restrictions(ids["period:2026/audience:company"]).is_empty
    assert sorted(confluence.labels(ids["period:2026/audience:company"])) == ["okr", "okr-2026"]


def test_a_second_publish_with_nothing_changed_writes_nothing(workspace: Workspace,
                                                              confluence: ConfluenceConnection,
                                                              sandbox: SandboxServer) -> None:
    publish(workspace, confluence, tree())
    clear_log(sandbox)

    report = publish(workspace, confluence, tree())

    assert set(outcomes(report).values()) == {"unchanged"}
    assert writes(sandbox) == []


def test_changing_one_page_rewrites_only_that_page(workspace: Workspace, confluence: ConfluenceConnection,
                                                   sandbox: SandboxServer) -> None:
    publish(workspace, confluence, tree())
    exec_id = page_ids(workspace)["period:2026/audience:exec"]
    clear_log(sandbox)

    changed = with_body(tree(), "period:2026/audience:exec", "<p>Board: Q3</p>")
    report = publish(workspace, confluence, changed)

    assert outcomes(report)["period:2026/audience:exec"] == "updated"
    assert sorted(set(outcomes(report).values())) == ["unchanged", "updated"]
    assert writes(sandbox) and all(f"/content/{exec_id}" in path for _, path in writes(sandbox))
    assert confluence.get_page(exec_id, body=True).body == "<p>Board: Q3</p>"  # type: ignore[union-attr]


def test_a_human_edit_is_a_conflict_left_alone_until_forced(workspace: Workspace,
                                                            confluence: ConfluenceConnection,
                                                            sandbox: SandboxServer) -> None:
    publish(workspace, confluence, tree())
    company = page_ids(workspace)["period:2026/audience:company"]
    edit = {"type": "page", "title": "Company overview", "version": {"number": 2},
            "body": {"storage": {"value": "<p>Alice was here</p>", "representation": "storage"}}}
    assert reader(sandbox, "alice")("PUT", f"content/{company}", json=edit).status_code == 200
    changed = with_body(tree(), "period:2026/audience:company", "<p>New numbers</p>")
    clear_log(sandbox)

    report = publish(workspace, confluence, changed)

    conflict = next(p for p in report.pages if p.key == "period:2026/audience:company")
    assert conflict.outcome == "conflict" and "Alice" in conflict.reason
    assert writes(sandbox) == []
    assert confluence.get_page(company, body=True).body == "<p>Alice was here</p>"  # type: ignore[union-attr]

    forced = publish(workspace, confluence, changed, force=True)

    assert outcomes(forced)["period:2026/audience:company"] == "updated"
    assert confluence.get_page(company, body=True).body == "<p>New numbers</p>"  # type: ignore[union-attr]
    assert outcomes(publish(workspace, confluence, changed))["period:2026/audience:company"] == "unchanged"


def test_a_reader_outside_the_groups_cannot_read_a_restricted_page(workspace: Workspace,
                                                                   confluence: ConfluenceConnection,
                                                                   sandbox: SandboxServer) -> None:
    publish(workspace, confluence, tree())
    ids = page_ids(workspace)

    def status(login: str, key: str) -> int:
        return reader(sandbox, login)("GET", f"content/{ids[key]}").status_code

    assert status("carol", "period:2026/audience:sales") in (403, 404)   # okr-marketing only
    assert status("frank", "period:2026/audience:exec") in (403, 404)    # okr-viewers only
    assert status("bob", "period:2026/audience:sales") == 200            # okr-sales
    assert status("carol", "period:2026/audience:company") == 200        # open to everyone
    found = reader(sandbox, "carol")("GET", "content", params={"spaceKey": "OKR", "title": "Team: Sales"})
    assert found.json()["results"] == []


def test_when_restrictions_cannot_be_set_nothing_of_the_page_or_its_subtree_is_published(
        workspace: Workspace, confluence: ConfluenceConnection, sandbox: SandboxServer) -> None:
    specs = [*tree(), PageSpec("period:2026/audience:ghost", "Team: Ghosts", "period:2026",
                               "<p>secret 99</p>", read_groups=("no-such-group",)),
             PageSpec("period:2026/audience:ghost/kr", "Ghost KR", "period:2026/audience:ghost", "<p>77</p>")]

    report = publish(workspace, confluence, specs)

    assert outcomes(report)["period:2026/audience:ghost"] == "failed"
    assert outcomes(report)["period:2026/audience:ghost/kr"] == "failed"
    assert outcomes(report)["period:2026/audience:sales"] == "created"
    ghost = confluence.find_page("OKR", "Team: Ghosts")
    assert ghost is not None and confluence.get_page(ghost.id, body=True).body == ""  # type: ignore[union-attr]
    assert confluence.find_page("OKR", "Ghost KR") is None
    assert "no-such-group" in next(p.reason for p in report.pages if p.key == "period:2026/audience:ghost")

    fixed = [dataclasses.replace(s, read_groups=("okr-sales",)) if s.key.endswith("ghost") else s
             for s in specs]
    retry = publish(workspace, confluence, fixed)

    assert outcomes(retry)["period:2026/audience:ghost"] == "updated"
    assert outcomes(retry)["period:2026/audience:ghost/kr"] == "created"
    assert confluence.get_page(ghost.id, body=True).body == "<p>secret 99</p>"  # type: ignore[union-attr]
    assert confluence.restrictions(ghost.id).read_groups == ("okr-sales",)


def test_a_renamed_and_a_vanished_page_are_found_again_and_orphans_are_kept(
        workspace: Workspace, confluence: ConfluenceConnection, sandbox: SandboxServer) -> None:
    publish(workspace, confluence, tree())
    ids = page_ids(workspace)
    renamed = [dataclasses.replace(s, title="Team: Sales & Partners") if s.key.endswith("sales") else s
               for s in tree() if not s.key.endswith("exec")]

    report = publish(workspace, confluence, renamed)

    assert outcomes(report)["period:2026/audience:sales"] == "updated"
    assert page_ids(workspace)["period:2026/audience:sales"] == ids["period:2026/audience:sales"]
    assert confluence.get_page(ids["period:2026/audience:sales"]).title == "Team: Sales & Partners"  # type: ignore[union-attr]
    assert outcomes(report)["period:2026/audience:exec"] == "orphan"
    assert confluence.get_page(ids["period:2026/audience:exec"]) is not None


def test_a_dry_run_reads_confluence_writes_nothing_and_shows_the_diff(
        workspace: Workspace, confluence: ConfluenceConnection, sandbox: SandboxServer) -> None:
    publish(workspace, confluence, tree())
    clear_log(sandbox)

    report = publish(workspace, confluence, with_body(tree(), "root", "<p>All cycles, 2026 first.</p>"),
                     dry_run=True)

    assert writes(sandbox) == []
    root = next(p for p in report.pages if p.key == "root")
    assert root.outcome == "updated" and report.dry_run
    assert "-<p>All cycles.</p>" in root.diff and "+<p>All cycles, 2026 first.</p>" in root.diff
    assert publish(workspace, confluence, tree(), dry_run=True).counts() == {"unchanged": 5}


def test_the_page_viewer_shows_what_was_published_to_each_reader(
        workspace: Workspace, confluence: ConfluenceConnection, sandbox: SandboxServer) -> None:
    link = ('<p><ac:link><ri:page ri:content-title="Team: Sales"/>'
            "<ac:plain-text-link-body><![CDATA[Sales]]></ac:plain-text-link-body></ac:link></p>")
    specs = with_body(tree(), "period:2026/audience:company", STATUS + link)
    publish(workspace, confluence, specs)
    ids = page_ids(workspace)

    def view(login: str, key: str) -> requests.Response:
        auth = base64.b64encode(f"{login}@example.com:sandbox-token-{login}".encode()).decode()
        return requests.get(f"{sandbox.url}/pages/{ids[key]}", headers={"Authorization": f"Basic {auth}"},
                            timeout=10)

    as_bob = view("bob", "period:2026/audience:company")
    as_carol = view("carol", "period:2026/audience:company")
    assert 'class="status-lozenge lozenge-green"' in as_bob.text and "ON TRACK" in as_bob.text
    assert f'href="/pages/{ids["period:2026/audience:sales"]}"' in as_bob.text    # bob may read Sales: a link
    assert f'/pages/{ids["period:2026/audience:sales"]}"' not in as_carol.text   # carol may not: no link
    assert view("carol", "period:2026/audience:sales").status_code == 404
    assert "Sales pipeline 4.2M" in view("bob", "period:2026/audience:sales").text
