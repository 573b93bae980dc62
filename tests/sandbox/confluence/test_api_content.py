"""Content endpoints under both prefixes: create, read, list, update, delete, children, history,
CQL search and spaces, with Confluence's shapes and refusals."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

from .support import CLOUD, DC, STORAGE, Api, page_body


def test_create_answers_the_page_with_default_expansions_and_links(api: Api) -> None:
    page = api.create("Q1 Report", STORAGE)
    assert page["id"].isdigit()
    assert (page["type"], page["status"], page["title"]) == ("page", "current", "Q1 Report")
    assert page["space"]["key"] == "OKR"
    assert page["version"]["number"] == 1 and page["version"]["minorEdit"] is False
    assert page["history"]["latest"] is True
    links = page["_links"]
    assert links["self"] == f"{links['base']}/rest/api/content/{page['id']}"
    assert links["base"].endswith("/wiki" if api.prefix == CLOUD else "localhost")
    assert links["tinyui"].startswith("/x/")
    assert "body" in page["_expandable"] and "ancestors" in page["_expandable"]


def test_the_author_is_shown_the_way_each_deployment_shows_users(api: Api) -> None:
    author = api.create("Authored")["version"]["by"]
    if api.prefix == CLOUD:
        assert (author["accountId"], author["displayName"]) == ("acc-alice", "Alice Andersen")
    else:
        assert (author["username"], author["userKey"]) == ("alice", "acc-alice")


def test_storage_comes_back_byte_for_byte(api: Api) -> None:
    value = STORAGE + "\n  <p>Tabs\tand &amp; &nbsp; kept</p>  "
    page_id = api.create("Exact", value)["id"]
    body = api.get(f"content/{page_id}?expand=body.storage").get_json()["body"]["storage"]
    assert body == {
        "value": value,
        "representation": "storage",
        "embeddedContent": [],
        "_expandable": {"content": f"/rest/api/content/{page_id}"},
    }


def test_body_view_is_rendered_html(api: Api) -> None:
    page_id = api.create("Viewed", STORAGE)["id"]
    view = api.get(f"content/{page_id}?expand=body.view").get_json()["body"]["view"]
    assert view["representation"] == "view" and "ON TRACK" in view["value"]


def test_a_duplicate_title_is_refused_with_confluences_message(api: Api) -> None:
    api.create("Team Sales")
    response = api.post("content", json=page_body("team sales"))
    assert response.status_code == 400
    error = response.get_json()
    assert error["statusCode"] == 400
    assert error["message"] == (
        "A page with this title already exists: A page already exists with the title "
        "team sales in the space with key OKR"
    )
    assert set(error["data"]) >= {"authorized", "valid", "errors", "successful"}


def test_create_refuses_bad_payloads(api: Api) -> None:
    assert api.post("content", json=page_body("Bad", "<p>a & b</p>")).status_code == 400
    assert api.post("content", json={**page_body("No type"), "type": None}).status_code == 400
    assert api.post("content", json={**page_body("Blog"), "type": "blogpost"}).status_code == 400
    assert api.post("content", json=page_body("Nowhere", space="NOPE")).status_code == 403
    assert api.post("content", json=page_body("Orphan", parent="424242")).status_code == 400
    assert api.post("content", data="not json", content_type="application/json").status_code == 400


def test_create_accepts_the_trailing_slash_python_clients_send(api: Api) -> None:
    assert api.post("content/", json=page_body("Slash")).status_code == 200


def test_get_by_id_expands_what_is_asked(api: Api) -> None:
    parent = api.create("Parent")
    child = api.create("Child", parent=parent["id"])
    data = api.get(
        f"content/{child['id']}?expand=ancestors,body.storage,version,space,children.page"
    ).get_json()
    assert [a["id"] for a in data["ancestors"]] == [parent["id"]]
    assert "history" not in data and "history" in data["_expandable"]
    assert data["children"]["page"]["size"] == 0
    assert (
        api.get(f"content/{parent['id']}?expand=children.page").get_json()["children"]["page"]["results"][0][
            "id"
        ]
        == child["id"]
    )


def test_get_by_id_of_a_missing_page_is_confluences_404(api: Api) -> None:
    response = api.get("content/999999")
    assert response.status_code == 404
    assert response.get_json()["message"] == "No content found with id: ContentId{id=999999}"


def test_an_older_version_can_be_read(api: Api) -> None:
    page_id = api.create("Versions", "<p>one</p>")["id"]
    api.put(
        f"content/{page_id}",
        json={
            "type": "page",
            "title": "Versions renamed",
            "version": {"number": 2},
            "body": {"storage": {"value": "<p>two</p>", "representation": "storage"}},
        },
    )
    old = api.get(f"content/{page_id}?version=1&expand=body.storage,version").get_json()
    assert (old["title"], old["status"], old["body"]["storage"]["value"]) == (
        "Versions",
        "historical",
        "<p>one</p>",
    )
    assert api.get(f"content/{page_id}?version=7").status_code == 404


def test_list_finds_a_page_by_space_and_title_regardless_of_case(api: Api) -> None:
    page_id = api.create("Exec Overview")["id"]
    found = api.get("content?spaceKey=OKR&title=exec%20overview&expand=version").get_json()
    assert [p["id"] for p in found["results"]] == [page_id]
    assert found["size"] == 1 and found["start"] == 0 and found["limit"] == 25
    assert api.get("content?spaceKey=ENG&title=Exec%20Overview").get_json()["results"] == []


def test_list_pages_through_results_with_a_next_link(api: Api) -> None:
    for n in range(5):
        api.create(f"Page {n}", space="ENG")
    first = api.get("content?spaceKey=ENG&limit=2").get_json()
    assert [p["title"] for p in first["results"]] == ["Page 0", "Page 1"]
    next_link = first["_links"]["next"]
    assert next_link.startswith("/rest/api/content?") and parse_qs(urlsplit(next_link).query)["start"] == [
        "2"
    ]
    seen = []
    link: str | None = "/rest/api/content?spaceKey=ENG&limit=2"
    while link:
        data = api.get(link.removeprefix("/rest/api/")).get_json()
        seen += [p["title"] for p in data["results"]]
        link = data["_links"].get("next")
    assert seen == [f"Page {n}" for n in range(5)]


def test_update_needs_version_plus_one(api: Api) -> None:
    page_id = api.create("Versioned")["id"]
    update = {
        "type": "page",
        "title": "Versioned",
        "body": {"storage": {"value": "<p>v2</p>", "representation": "storage"}},
    }
    missing = api.put(f"content/{page_id}", json=update)
    assert missing.status_code == 400 and "No version supplied" in missing.get_json()["message"]
    stale = api.put(f"content/{page_id}", json={**update, "version": {"number": 1}})
    assert stale.status_code == 409
    assert stale.get_json()["message"] == "Version must be incremented on update. Current version is: 1"
    done = api.put(
        f"content/{page_id}?status=current",
        json={**update, "version": {"number": 2, "message": "sync", "minorEdit": True}},
    )
    assert done.status_code == 200
    assert (
        done.get_json()["version"] | {"number": 2, "message": "sync", "minorEdit": True}
        == done.get_json()["version"]
    )


def test_update_needs_type_and_title_and_keeps_titles_unique(api: Api) -> None:
    page_id = api.create("Renamable")["id"]
    api.create("Taken")
    assert api.put(f"content/{page_id}", json={"title": "X", "version": {"number": 2}}).status_code == 400
    assert api.put(f"content/{page_id}", json={"type": "page", "version": {"number": 2}}).status_code == 400
    clash = api.put(f"content/{page_id}", json={"type": "page", "title": "taken", "version": {"number": 2}})
    assert clash.status_code == 400 and "already exists" in clash.get_json()["message"]
    renamed = api.put(
        f"content/{page_id}", json={"type": "page", "title": "Renamed", "version": {"number": 2}}
    )
    assert renamed.get_json()["title"] == "Renamed"


def test_update_with_ancestors_moves_the_page(api: Api) -> None:
    page_id = api.create("Mover")["id"]
    target = api.create("Target")["id"]
    api.put(
        f"content/{page_id}",
        json={"type": "page", "title": "Mover", "version": {"number": 2}, "ancestors": [{"id": target}]},
    )
    assert [a["id"] for a in api.get(f"content/{page_id}?expand=ancestors").get_json()["ancestors"]] == [
        target
    ]


def test_delete_trashes_then_purges(api: Api) -> None:
    page_id = api.create("Doomed")["id"]
    assert api.delete(f"content/{page_id}").status_code == 204
    assert api.get(f"content/{page_id}").status_code == 404
    assert api.get(f"content/{page_id}?status=trashed").get_json()["status"] == "trashed"
    assert api.delete(f"content/{page_id}?status=trashed").status_code == 204
    assert api.get(f"content/{page_id}?status=any").status_code == 404


def test_children_and_descendants_list_pages_below(api: Api) -> None:
    root = api.create("Root")["id"]
    kids = [api.create(f"Kid {n}", parent=root)["id"] for n in range(3)]
    grandchild = api.create("Grandchild", parent=kids[0])["id"]
    page = api.get(f"content/{root}/child/page?limit=2").get_json()
    assert [p["id"] for p in page["results"]] == kids[:2] and "next" in page["_links"]
    assert [p["id"] for p in api.get(f"content/{root}/descendant/page").get_json()["results"]] == [
        *kids,
        grandchild,
    ]
    assert api.get(f"content/{root}/child/comment").get_json()["results"] == []
    assert api.get(f"content/{root}/child?expand=page").get_json()["page"]["size"] == 3


def test_history_always_carries_the_last_update(api: Api) -> None:
    page_id = api.create("History")["id"]
    api.put(f"content/{page_id}", json={"type": "page", "title": "History", "version": {"number": 2}})
    history = api.get(f"content/{page_id}/history").get_json()
    assert history["latest"] is True and history["lastUpdated"]["number"] == 2
    assert history["createdDate"].endswith("Z")
    expanded = api.get(f"content/{page_id}/history?expand=previousVersion,contributors").get_json()
    assert expanded["previousVersion"]["number"] == 1
    assert expanded["lastUpdated"]["number"] == 2


def test_cql_search_finds_by_space_title_label_and_ancestor(api: Api) -> None:
    root = api.create("OKRs 2026")["id"]
    team = api.create("Team Sales 2026", parent=root)["id"]
    api.post(f"content/{team}/label", json=[{"prefix": "global", "name": "okr"}])

    def found(cql: str) -> list[str]:
        """Ids the search answers."""
        response = api.get("content/search", query_string={"cql": cql})
        assert response.status_code == 200, response.get_json()
        return [p["id"] for p in response.get_json()["results"]]

    assert found('space = OKR and title = "Team Sales 2026"') == [team]
    assert found('label = "okr"') == [team]
    assert found(f"ancestor = {root}") == [team]
    assert found("type = page and space = ENG") == []
    assert api.get("content/search", query_string={"cql": "creator = me"}).status_code == 400


def test_search_pages_with_cursor_on_cloud_and_start_on_data_center(api: Api) -> None:
    for n in range(3):
        api.create(f"Search {n}", space="ENG")
    first = api.get("content/search", query_string={"cql": "space = ENG", "limit": 2}).get_json()
    assert first["totalSize"] == 3 and first["size"] == 2
    query = parse_qs(urlsplit(first["_links"]["next"]).query)
    assert ("cursor" in query) == (api.prefix == CLOUD) and ("start" in query) == (api.prefix == DC)
    second = api.get(first["_links"]["next"].removeprefix("/rest/api/")).get_json()
    assert [p["title"] for p in second["results"]] == ["Search 2"] and "next" not in second["_links"]


def test_space_is_shown_with_its_home_page(api: Api) -> None:
    space = api.get("space/OKR?expand=description,homepage").get_json()
    assert (space["key"], space["name"], space["type"], space["status"]) == (
        "OKR",
        "OKRs",
        "global",
        "current",
    )
    assert space["description"]["plain"]["value"] == "Objectives"
    assert space["homepage"]["title"] == "OKRs Home"
    assert api.get("space/NOPE").status_code == 404


def test_requests_without_credentials_get_401(client: FlaskClient) -> None:
    for prefix in (CLOUD, DC):
        response = client.get(f"{prefix}/content?spaceKey=OKR")
        assert response.status_code == 401 and response.get_json()["statusCode"] == 401
