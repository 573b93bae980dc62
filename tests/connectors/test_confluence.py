"""ConfluenceConnection against `responses`-mocked Confluence Cloud (at an `*.atlassian.net/wiki` base)
and Data Center, with payloads shaped like the published v1 contract and validated against it."""

from __future__ import annotations

import base64
import json
import logging
import warnings
from collections.abc import Iterator
from typing import Any, cast

import pytest
import requests
import responses

from connectors.confluence import (
    ConfluenceAuthError,
    ConfluenceConnection,
    ConfluenceError,
    ConfluenceUnavailable,
    RestrictionError,
    Restrictions,
    VersionConflict,
)
from connectors.retry import ResilientSession, RetryPolicy
from tests.sandbox.contract import load_spec

SITE = "https://your-domain.atlassian.net"
CLOUD = f"{SITE}/wiki/rest/api"
DC_SITE = "https://confluence.example.com"
DC = f"{DC_SITE}/rest/api"
EMAIL = "okrbot@example.com"
API_TOKEN = "ATATT3xFfGF0-confluence-s3cr3t-77aa"
PAT = "MjM0NTY3ODkwMTIzpat-confluence-s3cr3t"
BOT_ID = "5b10ac8d82e05b22cc7d4ef5"
PICTURE = {"path": "/wiki/aa-avatar/default.png", "width": 48, "height": 48, "isDefault": True}


def connection(deployment: str = "cloud") -> ConfluenceConnection:
    """A connection with a fast, exact policy (no sleeping) to the mocked site."""
    policy = RetryPolicy(max_attempts=3, base_backoff=0, max_wait=0, jitter=0)
    session = ResilientSession(policy, sleep=lambda _: None)
    if deployment == "cloud":
        return ConfluenceConnection(SITE, email=EMAIL, token=API_TOKEN, session=session)
    return ConfluenceConnection(DC_SITE, deployment="datacenter", token=PAT, session=session)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    """A strict responses mock: every registered response must be used, unknown URLs fail."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as m:
        yield m


def user(cloud: bool = True) -> dict[str, Any]:
    """A `User` as Cloud (accountId) or Data Center (username, userKey) shows the bot."""
    if cloud:
        return {"type": "known", "accountId": BOT_ID, "accountType": "atlassian", "email": EMAIL,
                "publicName": "okrbridge bot", "profilePicture": PICTURE, "displayName": "okrbridge bot",
                "_expandable": {"operations": "", "personalSpace": ""},
                "_links": {"self": f"{CLOUD}/user?accountId={BOT_ID}"}}
    return {"type": "known", "username": "okrbot", "userKey": "8a7f8082", "profilePicture": PICTURE,
            "displayName": "okrbridge bot", "_links": {"self": f"{DC}/user?key=8a7f8082"}}


def content(page_id: str = "98306", title: str = "OKRs 2026", version: int = 1, message: str = "",
            body: str | None = None, parent: str | None = "98305", cloud: bool = True) -> dict[str, Any]:
    """A `Content` (page) with version, space and ancestors expanded (body.storage when given)."""
    base = f"{SITE}/wiki" if cloud else DC_SITE
    data: dict[str, Any] = {
        "id": page_id, "type": "page", "status": "current", "title": title,
        "space": {"id": 32769, "key": "OKR", "name": "OKRs", "type": "global", "status": "current",
                  "_expandable": {"settings": "/rest/api/space/OKR/settings"},
                  "_links": {"webui": "/spaces/OKR", "self": f"{base}/rest/api/space/OKR"}},
        "version": {"by": user(cloud), "when": "2026-11-30T09:00:00.000Z", "message": message,
                    "number": version, "minorEdit": True},
        "ancestors": [{"id": parent, "type": "page", "status": "current", "title": "OKRs"}] if parent else [],
        "_expandable": {"children": f"/rest/api/content/{page_id}/child"},
        "_links": {"webui": f"/spaces/OKR/pages/{page_id}", "self": f"{base}/rest/api/content/{page_id}",
                   "base": base},
    }
    if body is not None:
        data["body"] = {"storage": {"value": body, "representation": "storage"}}
    return data


def restriction_array(read_users: list[str] = (), read_groups: list[str] = (),  # type: ignore[assignment]
                      update_users: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """A `ContentRestrictionArray` (read and update, users and groups expanded)."""
    def one(operation: str, users: list[str], groups: list[str]) -> dict[str, Any]:
        return {"operation": operation,
                "restrictions": {
                    "user": {"results": [{**user(), "accountId": u} for u in users], "start": 0, "limit": 100,
                             "size": len(users)},
                    "group": {"results": [{"type": "group", "name": g} for g in groups], "start": 0,
                              "limit": 100, "size": len(groups)}},
                "_expandable": {"content": "/rest/api/content/98306"},
                "_links": {"self": f"{CLOUD}/content/98306/restriction/byOperation/{operation}"}}
    results = [one("read", list(read_users), list(read_groups)), one("update", list(update_users), [])]
    return {"results": results, "start": 0, "limit": 100, "size": 2, "restrictionsHash": "3b7e2f",
            "_links": {"base": f"{SITE}/wiki", "context": "/wiki",
                       "self": f"{CLOUD}/content/98306/restriction"}}


def error(status: int, message: str) -> dict[str, Any]:
    """Confluence's error body."""
    return {"statusCode": status, "data": {"authorized": False, "valid": True, "errors": [],
                                          "successful": False}, "message": message}


def validate_calls(mock: responses.RequestsMock) -> None:
    """Every request sent and every answer given is valid for its documented Cloud operation."""
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
    openapi = load_spec("confluence")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openapi-core warns it cannot check OAuth2 schemes
        for call in mock.calls:
            if (call.request.url or "").endswith("/user/current"):
                continue  # GET user/current is real v1 but outside the contract subset
            request = RequestsOpenAPIRequest(call.request)
            openapi.validate_request(request)
            answer = RequestsOpenAPIResponse(cast(requests.Response, call.response))
            openapi.validate_response(request, answer)


def test_cloud_pages_are_read_and_written_under_wiki_rest_api_with_basic_auth(
        mock: responses.RequestsMock) -> None:
    mock.get(f"{CLOUD}/content", json={"results": [content(version=2, message="okrbridge sha256:ab")],
                                       "start": 0, "limit": 25, "size": 1,
                                       "_links": {"base": f"{SITE}/wiki", "context": "/wiki"}})
    mock.post(f"{CLOUD}/content", json=content(page_id="98307", title="Team: Sales", message="m",
                                               parent="98306"))
    mock.put(f"{CLOUD}/content/98307", json=content(page_id="98307", title="Team: Sales", version=2,
                                                    message="okrbridge sha256:cd"))
    mock.get(f"{CLOUD}/content/98307", json=content(page_id="98307", body="<p>x</p>"))
    confluence = connection()

    found = confluence.find_page("OKR", "OKRs 2026")
    created = confluence.create_page("OKR", "Team: Sales", "", parent_id="98306", message="m")
    updated = confluence.update_page("98307", title="Team: Sales", body="<p>x</p>", version=2,
                                     parent_id="98306", message="okrbridge sha256:cd")
    read = confluence.get_page("98307", body=True)

    assert found is not None
    assert (found.id, found.version, found.message) == ("98306", 2, "okrbridge sha256:ab")
    assert found.parent_id == "98305" and found.by is not None and found.by.ref == BOT_ID
    assert created.id == "98307" and created.parent_id == "98306"
    assert updated.version == 2 and read is not None and read.body == "<p>x</p>"
    assert found.url == f"{SITE}/wiki/spaces/OKR/pages/98306"
    auth = "Basic " + base64.b64encode(f"{EMAIL}:{API_TOKEN}".encode()).decode()
    assert all(c.request.headers["Authorization"] == auth for c in mock.calls)
    sent = json.loads(cast(bytes, mock.calls[2].request.body))
    assert sent["version"] == {"number": 2, "message": "okrbridge sha256:cd", "minorEdit": True}
    assert sent["ancestors"] == [{"id": "98306"}] and sent["body"]["storage"]["representation"] == "storage"
    assert json.loads(cast(bytes, mock.calls[1].request.body))["space"] == {"key": "OKR"}
    validate_calls(mock)


def test_cloud_restrictions_name_people_by_account_id_and_replace_all(mock: responses.RequestsMock) -> None:
    mock.get(f"{CLOUD}/user/current", json=user())
    mock.put(f"{CLOUD}/content/98306/restriction",
             json=restriction_array([BOT_ID], ["okr-sales"], [BOT_ID]))
    mock.get(f"{CLOUD}/content/98306/restriction", json=restriction_array([BOT_ID], ["okr-sales"], [BOT_ID]))
    confluence = connection()
    me = confluence.current_user().ref
    wanted = Restrictions((me,), ("okr-sales",), (me,))

    assert confluence.set_restrictions("98306", wanted) == wanted
    assert confluence.restrictions("98306") == wanted
    assert json.loads(cast(bytes, mock.calls[1].request.body)) == [
        {"operation": "read", "restrictions": {"user": [{"type": "known", "accountId": BOT_ID}],
                                               "group": [{"type": "group", "name": "okr-sales"}]}},
        {"operation": "update", "restrictions": {"user": [{"type": "known", "accountId": BOT_ID}]}}]
    validate_calls(mock)


def test_datacenter_uses_rest_api_a_bearer_pat_and_usernames(mock: responses.RequestsMock) -> None:
    mock.get(f"{DC}/user/current", json=user(cloud=False))
    mock.put(f"{DC}/content/98306/restriction", json=restriction_array())
    confluence = connection("datacenter")
    me = confluence.current_user().ref

    with pytest.raises(RestrictionError, match="Confluence kept"):
        confluence.set_restrictions("98306", Restrictions((me,), ("okr-sales",), (me,)))

    assert me == "okrbot"
    assert mock.calls[0].request.headers["Authorization"] == f"Bearer {PAT}"
    read_rule = json.loads(cast(bytes, mock.calls[1].request.body))[0]
    assert read_rule["restrictions"]["user"] == [{"type": "known", "username": "okrbot"}]


def test_no_restriction_at_all_is_a_delete(mock: responses.RequestsMock) -> None:
    mock.delete(f"{CLOUD}/content/98306/restriction", json=restriction_array())
    assert connection().set_restrictions("98306", Restrictions()) == Restrictions()


def test_labels_and_content_properties(mock: responses.RequestsMock) -> None:
    labels = {"results": [{"prefix": "global", "name": "okr", "id": "1", "label": "okr"}], "start": 0,
              "limit": 200, "size": 1}
    mock.get(f"{CLOUD}/content/98306/label", json=labels)
    mock.post(f"{CLOUD}/content/98306/label", json=labels)
    prop = {"id": "7", "key": "okrbridge", "value": {"hash": "ab"},
            "version": {"number": 1, "minorEdit": True, "when": "2026-11-30T09:00:00.000Z"},
            "_links": {"self": f"{CLOUD}/content/98306/property/okrbridge"}}
    mock.get(f"{CLOUD}/content/98306/property/okrbridge", json=error(404, "Cannot find content property"),
             status=404)
    mock.post(f"{CLOUD}/content/98306/property", json=prop)
    confluence = connection()

    assert confluence.labels("98306") == ["okr"]
    confluence.add_labels("98306", ["okr"])
    assert confluence.set_property("98306", "okrbridge", {"hash": "ab"}) == 1
    assert json.loads(cast(bytes, mock.calls[1].request.body)) == [{"prefix": "global", "name": "okr"}]


def test_errors_name_what_was_done_and_confluences_words(mock: responses.RequestsMock) -> None:
    mock.post(f"{CLOUD}/content", json=error(400, "A page with this title already exists: OKRs 2026"),
              status=400)
    mock.put(f"{CLOUD}/content/98306", json=error(409, "Version must be incremented on update. Current "
                                                       "version is: 5"), status=409)
    mock.get(f"{CLOUD}/content/98306", json=content(version=5, message="Alice's edit"))
    mock.get(f"{CLOUD}/space/NOPE", json=error(404, "No space found with key : NOPE"), status=404)
    mock.get(f"{CLOUD}/content/98399/restriction", json=error(403, "Not permitted"), status=403)
    confluence = connection()

    with pytest.raises(ConfluenceError, match=r"creating page 'OKRs 2026' in space OKR: A page with this"):
        confluence.create_page("OKR", "OKRs 2026", "<p/>")
    with pytest.raises(VersionConflict, match="Current version is: 5"):
        confluence.update_page("98306", title="OKRs 2026", body="<p/>", version=3,
                               message="okrbridge sha256:1")
    with pytest.raises(ConfluenceError, match="no space with key NOPE"):
        confluence.space("NOPE")
    with pytest.raises(ConfluenceAuthError, match="page 98399"):
        confluence.restrictions("98399")
    with pytest.raises(ValueError, match="content id"):
        confluence.get_page("../admin")


def test_no_secret_reaches_an_exception_or_a_log_record(mock: responses.RequestsMock,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    mock.get(f"{CLOUD}/user/current", json=error(401, "Unauthorized"), status=401)
    mock.get(f"{CLOUD}/content/98306", status=503, headers={"Retry-After": "0"})
    mock.post(f"{CLOUD}/content", body=requests.ConnectionError("connection reset"))
    confluence = connection()
    failures: list[BaseException] = []
    for action, kind in ((confluence.current_user, ConfluenceAuthError),
                         (lambda: confluence.get_page("98306"), ConfluenceUnavailable),
                         (lambda: confluence.create_page("OKR", "T", "<p/>"), ConfluenceUnavailable)):
        with pytest.raises(kind) as info:
            action()
        failures.append(info.value)
    texts = [f"{e!s} {e!r} {e.__cause__!s}" for e in failures] + [repr(confluence)]
    texts += [f"{r.getMessage()} {r.args} {r.exc_text or ''}" for r in caplog.records]
    blob = "\n".join(texts)
    assert caplog.records
    for secret in (API_TOKEN, base64.b64encode(f"{EMAIL}:{API_TOKEN}".encode()).decode()):
        assert secret not in blob


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"url": "https://bot:tok@x.atlassian.net", "token": "t", "email": EMAIL}, "not in the URL"),
    ({"url": "x.atlassian.net", "token": "t"}, "absolute"),
    ({"url": SITE, "token": "t"}, "email"),
    ({"url": DC_SITE, "deployment": "server", "token": "t"}, "deployment"),
    ({"url": DC_SITE}, "token"),
])
def test_bad_configuration_is_refused_up_front(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ConfluenceConnection(**kwargs)
