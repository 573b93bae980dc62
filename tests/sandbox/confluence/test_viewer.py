"""The page viewer shows published pages as safe HTML, to the same people the API shows them to."""

from __future__ import annotations

from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from sandbox.confluence_json import page_id_from_tiny, tiny_code
from sandbox.state import SandboxState

from .support import CLOUD, DC, STORAGE, Api, basic


def viewer_get(client: FlaskClient, state: SandboxState, path: str, login: str = "alice") -> tuple[int, str]:
    """GET a viewer path as a user; (status, html)."""
    response = client.get(path, headers=basic(state.users[f"acc-{login}"]))
    return response.status_code, response.get_data(as_text=True)


def test_a_page_renders_with_lozenges_and_metadata(client: FlaskClient, state: SandboxState) -> None:
    api = Api(client, state, CLOUD)
    page_id = api.create(
        "Exec overview", STORAGE + "<table><tr><th>KR</th></tr><tr><td>CO-1</td></tr></table>"
    )["id"]
    api.post(f"content/{page_id}/label", json=[{"prefix": "global", "name": "okr"}])
    status, html = viewer_get(client, state, f"/pages/{page_id}")
    assert status == 200
    assert '<span class="status-lozenge lozenge-green" data-colour="green">ON TRACK</span>' in html
    assert '<h1 class="title">Exec overview</h1>' in html and "<td>CO-1</td>" in html
    assert "Version 1" in html and "Alice Andersen" in html and "<span>okr</span>" in html


def test_script_in_a_page_is_not_executable(client: FlaskClient, state: SandboxState) -> None:
    api = Api(client, state, DC)
    page_id = api.create(
        "<script>alert('title')</script>",
        "<p>ok</p><script>alert(1)</script><p>&lt;script&gt;alert(2)&lt;/script&gt;</p>",
    )["id"]
    response = client.get(f"/pages/{page_id}", headers=basic(state.users["acc-alice"]))
    html = response.get_data(as_text=True)
    assert "<script" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_links_between_pages_point_at_the_viewer(client: FlaskClient, state: SandboxState) -> None:
    api = Api(client, state, CLOUD)
    target = api.create("Team Sales")["id"]
    source = api.create("Index", '<p><ac:link><ri:page ri:content-title="Team Sales"/></ac:link></p>')["id"]
    assert f'<a href="/pages/{target}">Team Sales</a>' in viewer_get(client, state, f"/pages/{source}")[1]


def test_the_viewer_asks_a_browser_for_credentials(client: FlaskClient, state: SandboxState) -> None:
    page_id = Api(client, state, CLOUD).create("Anyone")["id"]
    for path in (f"/pages/{page_id}", "/pages/"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    wrong = client.get(f"/pages/{page_id}", headers={"Authorization": "Basic bm9ib2R5Om5vdGhpbmc="})
    assert wrong.status_code == 401


def test_restricted_pages_are_not_found_for_outsiders(client: FlaskClient, state: SandboxState) -> None:
    api = Api(client, state, CLOUD)
    secret = api.create("Board notes")["id"]
    child = api.create("Board detail", parent=secret)["id"]
    api.restrict(secret, groups=("okr-executives",))
    assert viewer_get(client, state, f"/pages/{secret}")[0] == 200
    for page_id in (secret, child):
        status, html = viewer_get(client, state, f"/pages/{page_id}", "carol")
        assert status == 404 and "Board" not in html
    assert "Read restricted" in viewer_get(client, state, f"/pages/{child}")[1]


def test_the_index_lists_the_visible_page_tree_per_space(client: FlaskClient, state: SandboxState) -> None:
    api = Api(client, state, CLOUD)
    root = api.create("2026")["id"]
    api.create("Team pages", parent=root)
    hidden = api.create("Executives")["id"]
    api.restrict(hidden, groups=("okr-executives",))
    status, html = viewer_get(client, state, "/pages/", "carol")
    assert status == 200 and "OKRs (OKR)" in html and "Engineering (ENG)" in html
    assert f'<a href="/pages/{root}">2026</a>' in html and "Team pages" in html
    assert "Executives" not in html
    assert "margin-left:20px" in html


def test_the_web_and_short_links_the_api_hands_out_open_the_page(
    client: FlaskClient, state: SandboxState
) -> None:
    cloud = Api(client, state, CLOUD).create("Linked page")
    dc = Api(client, state, DC).get(f"content/{cloud['id']}").get_json()
    for data in (cloud, dc):
        status, html = viewer_get(
            client, state, data["_links"]["base"].split("localhost", 1)[1] + data["_links"]["webui"]
        )
        assert status == 200 and "Linked page" in html
    short = client.get("/wiki" + cloud["_links"]["tinyui"], headers=basic(state.users["acc-alice"]))
    assert short.status_code == 302 and short.headers["Location"].endswith(f"/pages/{cloud['id']}")


def test_older_versions_can_be_viewed(client: FlaskClient, state: SandboxState) -> None:
    api = Api(client, state, CLOUD)
    page_id = api.create("Changing", "<p>first words</p>")["id"]
    api.put(
        f"content/{page_id}",
        json={
            "type": "page",
            "title": "Changing",
            "version": {"number": 2},
            "body": {"storage": {"value": "<p>second words</p>", "representation": "storage"}},
        },
    )
    assert "second words" in viewer_get(client, state, f"/pages/{page_id}")[1]
    old = viewer_get(client, state, f"/pages/{page_id}?version=1")[1]
    assert "first words" in old and "(historical)" in old


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_short_link_codes_round_trip_to_the_page_id(number: int) -> None:
    assert page_id_from_tiny(tiny_code(str(number))) == str(number)
