"""Labels, content properties and restrictions under both prefixes; restrictions decide who sees
and who edits a page, everywhere the API lists pages."""

from __future__ import annotations

from .support import Api


def test_labels_are_added_listed_and_removed(api: Api) -> None:
    page_id = api.create("Labelled")["id"]
    added = api.post(
        f"content/{page_id}/label",
        json=[{"prefix": "global", "name": "OKR"}, {"prefix": "global", "name": "team-sales"}],
    )
    assert added.status_code == 200
    assert [(label["prefix"], label["name"]) for label in added.get_json()["results"]] == [
        ("global", "okr"),
        ("global", "team-sales"),
    ]
    single = api.post(f"content/{page_id}/label", json={"prefix": "my", "name": "favourite"}).get_json()
    assert single["size"] == 3
    listed = api.get(f"content/{page_id}/label?prefix=global").get_json()
    assert [label["label"] for label in listed["results"]] == ["okr", "team-sales"]
    assert all(set(label) == {"prefix", "name", "id", "label"} for label in listed["results"])
    assert api.delete(f"content/{page_id}/label?name=team-sales").status_code == 204
    assert api.delete(f"content/{page_id}/label/okr").status_code == 204
    assert api.delete(f"content/{page_id}/label/okr").status_code == 404
    remaining = api.get(f"content/{page_id}/label").get_json()["results"]
    assert [label["name"] for label in remaining] == ["favourite"]


def test_bad_labels_are_refused(api: Api) -> None:
    page_id = api.create("Bad labels")["id"]
    assert (
        api.post(f"content/{page_id}/label", json=[{"prefix": "global", "name": "two words"}]).status_code
        == 400
    )
    assert api.post(f"content/{page_id}/label", json=[{"prefix": "weird", "name": "x"}]).status_code == 400
    assert api.post(f"content/{page_id}/label", json=["okr"]).status_code == 400


def test_labels_can_be_set_when_creating(api: Api) -> None:
    body = {
        "type": "page",
        "title": "With labels",
        "space": {"key": "OKR"},
        "body": {"storage": {"value": "", "representation": "storage"}},
        "metadata": {"labels": [{"prefix": "global", "name": "okr"}]},
    }
    page_id = api.post("content", json=body).get_json()["id"]
    assert (
        api.get(f"content/{page_id}?expand=metadata.labels").get_json()["metadata"]["labels"]["results"][0][
            "name"
        ]
        == "okr"
    )


def test_properties_are_created_read_updated_and_deleted(api: Api) -> None:
    page_id = api.create("With properties")["id"]
    created = api.post(f"content/{page_id}/property", json={"key": "okrbridge", "value": {"hash": "a1"}})
    assert created.status_code == 200
    prop = created.get_json()
    assert (prop["key"], prop["value"], prop["version"]["number"]) == ("okrbridge", {"hash": "a1"}, 1)
    assert api.post(f"content/{page_id}/property", json={"key": "okrbridge", "value": {}}).status_code == 400
    conflict = api.put(
        f"content/{page_id}/property/okrbridge", json={"value": {"hash": "b2"}, "version": {"number": 1}}
    )
    assert conflict.status_code == 409
    updated = api.put(
        f"content/{page_id}/property/okrbridge",
        json={"value": {"hash": "b2"}, "version": {"number": 2, "minorEdit": True}},
    )
    assert updated.get_json()["version"]["number"] == 2
    assert api.get(f"content/{page_id}/property/okrbridge").get_json()["value"] == {"hash": "b2"}
    api.put(f"content/{page_id}/property/second", json={"value": ["a", "b"], "version": {"number": 1}})
    listing = api.get(f"content/{page_id}/property").get_json()
    assert [p["key"] for p in listing["results"]] == ["okrbridge", "second"]
    assert api.get(f"content/{page_id}/property?key=second").get_json()["size"] == 1
    assert api.get(f"content/{page_id}?expand=metadata.properties").get_json()["metadata"]["properties"][
        "second"
    ]["value"] == ["a", "b"]
    assert api.delete(f"content/{page_id}/property/second").status_code == 204
    assert api.get(f"content/{page_id}/property/second").status_code == 404
    assert (
        api.put(
            f"content/{page_id}/property/missing", json={"value": "x", "version": {"number": 2}}
        ).status_code
        == 404
    )


def test_restrictions_are_replaced_by_put_added_by_post_and_cleared_by_delete(api: Api) -> None:
    page_id = api.create("Restricted")["id"]
    first = api.restrict(page_id, groups=("okr-viewers",)).get_json()
    read = next(r for r in first["results"] if r["operation"] == "read")
    assert [g["name"] for g in read["restrictions"]["group"]["results"]] == ["okr-viewers"]
    assert first["size"] == 2 and first["restrictionsHash"]
    replaced = api.restrict(page_id, "update", users=("alice",)).get_json()
    by_op = {r["operation"]: r["restrictions"] for r in replaced["results"]}
    assert by_op["read"]["group"]["size"] == 0 and by_op["update"]["user"]["size"] == 1
    added = api.post(
        f"content/{page_id}/restriction",
        json={
            "results": [
                {
                    "operation": "read",
                    "restrictions": {"group": {"results": [{"type": "group", "name": "okr-executives"}]}},
                }
            ]
        },
    )
    by_op = {r["operation"]: r["restrictions"] for r in added.get_json()["results"]}
    assert by_op["read"]["group"]["size"] == 1 and by_op["update"]["user"]["size"] == 1
    cleared = api.delete(f"content/{page_id}/restriction").get_json()
    assert all(
        r["restrictions"]["user"]["size"] == r["restrictions"]["group"]["size"] == 0
        for r in cleared["results"]
    )


def test_restrictions_name_users_by_account_id_username_or_user_key(api: Api) -> None:
    page_id = api.create("Named")["id"]
    body = [
        {
            "operation": "update",
            "restrictions": {
                "user": [
                    {"type": "known", "accountId": "acc-alice"},
                    {"type": "known", "username": "bob"},
                    {"type": "known", "userKey": "acc-bot"},
                ]
            },
        }
    ]
    result = api.put(f"content/{page_id}/restriction", json=body).get_json()
    users = result["results"][1]["restrictions"]["user"]["results"]
    assert len(users) == 3 and users[0]["displayName"] == "Alice Andersen"


def test_unknown_users_groups_and_operations_are_refused(api: Api) -> None:
    page_id = api.create("Strict")["id"]
    assert api.restrict(page_id, users=("nobody",)).status_code == 400
    assert api.restrict(page_id, groups=("no-such-group",)).status_code == 400
    assert (
        api.put(
            f"content/{page_id}/restriction", json=[{"operation": "delete", "restrictions": {}}]
        ).status_code
        == 400
    )


def test_by_operation_answers_restrictions_keyed_by_operation(api: Api) -> None:
    page_id = api.create("By operation")["id"]
    api.restrict(page_id, groups=("okr-viewers",))
    data = api.get(f"content/{page_id}/restriction/byOperation").get_json()
    assert set(data) == {"read", "update", "_links"}
    assert data["read"]["operation"] == "read"
    assert data["read"]["restrictions"]["group"]["results"][0]["name"] == "okr-viewers"
    assert data["update"]["restrictions"]["user"]["results"] == []
    assert data["read"]["_expandable"]["content"] == f"/rest/api/content/{page_id}"
    one = api.get(f"content/{page_id}/restriction/byOperation/read").get_json()
    assert one["restrictions"]["group"]["size"] == 1
    assert api.get(f"content/{page_id}/restriction/byOperation/delete").status_code == 400


def test_a_user_outside_the_read_group_cannot_find_the_page_anywhere(api: Api) -> None:
    parent = api.create("Executive overview")["id"]
    child = api.create("Executive detail", parent=parent)["id"]
    sibling = api.create("Public page")["id"]
    api.post(f"content/{child}/label", json=[{"prefix": "global", "name": "okr"}])
    api.restrict(parent, groups=("okr-executives",))
    carol = api.as_("carol")
    for page_id in (parent, child):
        assert carol.get(f"content/{page_id}").status_code == 404
        assert carol.get(f"content/{page_id}/history").status_code == 404
        assert carol.get(f"content/{page_id}/label").status_code == 404
        assert carol.get(f"content/{page_id}/restriction").status_code == 404
    assert carol.get("content?spaceKey=OKR&title=Executive%20detail").get_json()["results"] == []
    assert carol.get("content/search", query_string={"cql": 'label = "okr"'}).get_json()["results"] == []
    home = api.get("space/OKR?expand=homepage").get_json()["homepage"]["id"]
    visible = [
        p["id"]
        for p in carol.get("content/search", query_string={"cql": "space = OKR"}).get_json()["results"]
    ]
    assert visible == [home, sibling]
    assert api.get(f"content/{child}").status_code == 200
    assert [p["id"] for p in api.get(f"content/{parent}/child/page").get_json()["results"]] == [child]


def test_a_group_member_recorded_only_on_the_group_side_can_read(api: Api) -> None:
    page_id = api.create("Viewers only")["id"]
    api.restrict(page_id, groups=("okr-viewers",))
    assert api.as_("bob").get(f"content/{page_id}").status_code == 200
    assert api.as_("carol").get(f"content/{page_id}").status_code == 404


def test_hidden_children_are_left_out_of_children_lists(api: Api) -> None:
    parent = api.create("Team root")["id"]
    open_child = api.create("Open child", parent=parent)["id"]
    hidden_child = api.create("Hidden child", parent=parent)["id"]
    api.restrict(hidden_child, users=("alice",))
    carol = api.as_("carol")
    assert [p["id"] for p in carol.get(f"content/{parent}/child/page").get_json()["results"]] == [open_child]
    assert carol.get(f"content/{parent}?expand=children.page").get_json()["children"]["page"]["size"] == 1


def test_update_restrictions_answer_403_to_others(api: Api) -> None:
    page_id = api.create("Bot only")["id"]
    api.restrict(page_id, "update", users=("alice",))
    carol = api.as_("carol")
    assert carol.get(f"content/{page_id}").status_code == 200
    edit = carol.put(
        f"content/{page_id}", json={"type": "page", "title": "Bot only", "version": {"number": 2}}
    )
    assert edit.status_code == 403 and edit.get_json()["statusCode"] == 403
    assert carol.post(f"content/{page_id}/label", json=[{"prefix": "global", "name": "x"}]).status_code == 403
    assert carol.post(f"content/{page_id}/property", json={"key": "k", "value": "v"}).status_code == 403
    assert carol.delete(f"content/{page_id}/restriction").status_code == 403
    # The contract documents only 404 when PUT/POST restriction is not allowed.
    assert carol.restrict(page_id, groups=("okr-viewers",)).status_code == 404
    assert carol.delete(f"content/{page_id}").status_code == 403


def test_restricting_yourself_out_hides_the_page_from_you_too(api: Api) -> None:
    page_id = api.create("Given away")["id"]
    assert api.restrict(page_id, groups=("okr-publishers",)).status_code == 200
    assert api.get(f"content/{page_id}").status_code == 404
    assert api.as_("bot").get(f"content/{page_id}").status_code == 200
