"""JiraConnection against `responses`-mocked Jira Cloud and Data Center, shaped like Atlassian's payloads."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import atlassian.rest_client
import pytest
import requests
import responses
from responses import matchers

from connectors.jira import (
    Aggregate,
    Epic,
    EpicsFound,
    IssueState,
    JiraAuthError,
    JiraConnection,
    JiraError,
    JiraUnavailable,
    JqlError,
    Progress,
    RemoteLink,
)
from connectors.retry import ResilientSession
from tests.connectors.builders import (
    API_TOKEN,
    CLOUD_URL,
    DC_URL,
    EMAIL,
    PAT,
    FakeTime,
    JiraApi,
    basic_auth,
    connection,
    dc_search_page,
    exact_policy,
    fixture,
    issue_json,
    jira_errors,
    numeric_issue,
    search_jql_page,
    throttle_headers,
)
from tests.sandbox.contract import contract_path

JQL = "project = OKR AND issuetype = Story"
BAD_JQL = "project = OKR AND bogus"
BOTH = pytest.mark.parametrize("deployment", ["cloud", "datacenter"])


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    """A strict responses mock: every registered response must be used, unknown URLs fail."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as m:
        yield m


@pytest.fixture
def no_library_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test in which atlassian-python-api would sleep on its own (its 429 handling)."""
    def refuse(seconds: float) -> None:
        raise AssertionError(f"atlassian-python-api tried to sleep {seconds}s")
    monkeypatch.setattr(atlassian.rest_client.time, "sleep", refuse)


# -- deployment and authentication ----------------------------------------------------------------


def test_cloud_sends_basic_auth_with_email_and_api_token(mock: responses.RequestsMock) -> None:
    """Cloud: the API token goes with the account email as HTTP Basic."""
    JiraApi(mock, "cloud").count(JQL, 1)
    connection("cloud").count(JQL)
    assert mock.calls[0].request.headers["Authorization"] == basic_auth(EMAIL, API_TOKEN)


def test_datacenter_sends_the_pat_as_bearer(mock: responses.RequestsMock) -> None:
    """Data Center: a personal access token is a Bearer token."""
    JiraApi(mock, "datacenter").count(JQL, 1)
    connection("datacenter").count(JQL)
    assert mock.calls[0].request.headers["Authorization"] == f"Bearer {PAT}"


def test_datacenter_with_a_username_uses_basic(mock: responses.RequestsMock) -> None:
    """Data Center with email/username + token falls back to Basic (username and password)."""
    JiraApi(mock, "datacenter").count(JQL, 1)
    connection("datacenter", email="fred", token="hunter2").count(JQL)
    assert mock.calls[0].request.headers["Authorization"] == basic_auth("fred", "hunter2")


@pytest.mark.parametrize(("kind", "expected"), [("cloud", "cloud"), ("datacenter", "datacenter")])
def test_auto_asks_server_info_once_and_uses_the_matching_api(mock: responses.RequestsMock, kind: str,
                                                              expected: str) -> None:
    """"auto" probes serverInfo on first use, then counts the way that deployment counts."""
    api = JiraApi(mock, kind)
    probe = api.server_info()
    api.count(JQL, 7)
    api.count(JQL, 7)
    jira = connection(kind, requested="auto")
    assert len(mock.calls) == 0  # nothing is sent before first use
    assert jira.count(JQL) == 7
    assert jira.count(JQL) == 7
    assert jira.deployment == expected
    assert probe.call_count == 1


def test_auto_detection_happens_once_even_under_concurrency(mock: responses.RequestsMock) -> None:
    """Eight threads racing on a fresh connection still probe serverInfo exactly once."""
    api = JiraApi(mock, "cloud")
    probe = api.server_info()
    api.count(JQL, 2)
    jira = connection("cloud", requested="auto")
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(lambda _: jira.count(JQL), range(16))) == [2] * 16
    assert probe.call_count == 1
    assert jira.stats.requests == 17


def test_auto_on_cloud_without_an_email_says_what_is_missing(mock: responses.RequestsMock) -> None:
    """A PAT alone cannot sign in to Cloud: the error says an email is needed, without the token."""
    JiraApi(mock, "cloud").server_info()
    jira = JiraConnection(CLOUD_URL, token=API_TOKEN, session=ResilientSession(exact_policy()))
    with pytest.raises(JiraAuthError, match="email") as info:
        _ = jira.deployment
    assert API_TOKEN not in str(info.value)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"url": "https://bot:tok@x.atlassian.net", "token": "tok"}, "not in the URL"),
    ({"url": "x.atlassian.net", "token": "t"}, "absolute"),
    ({"url": CLOUD_URL, "deployment": "server", "token": "t"}, "deployment"),
    ({"url": CLOUD_URL, "deployment": "cloud", "token": "t"}, "email"),
    ({"url": CLOUD_URL, "email": EMAIL}, "token"),
])
def test_bad_configuration_is_refused_up_front(kwargs: dict[str, Any], message: str) -> None:
    """Configuration mistakes fail at construction with a hint, and never echo the credentials."""
    with pytest.raises(ValueError, match=message) as info:
        JiraConnection(**kwargs)
    assert "tok@" not in str(info.value)


def test_shared_policy_and_session_cannot_disagree() -> None:
    """A ResilientSession brings its own policy, so passing another one is an error, not ignored."""
    with pytest.raises(ValueError, match="policy"):
        JiraConnection(CLOUD_URL, email=EMAIL, token=API_TOKEN, session=ResilientSession(),
                       policy=exact_policy())


def test_a_plain_session_gets_a_retrying_adapter_for_the_site(mock: responses.RequestsMock) -> None:
    """A caller's own requests.Session still goes through the retry policy for the Jira URL."""
    api = JiraApi(mock, "cloud")
    api.count(JQL, status=429, headers={"Retry-After": "0"}, body={})
    api.count(JQL, 9)
    jira = JiraConnection(CLOUD_URL, deployment="cloud", email=EMAIL, token=API_TOKEN,
                          session=requests.Session(), policy=exact_policy())
    assert jira.count(JQL) == 9
    assert jira.stats.retries == 1


# -- count ---------------------------------------------------------------------------------------------


def test_cloud_count_posts_approximate_count_and_never_touches_the_removed_search(
        mock: responses.RequestsMock) -> None:
    """Cloud counts with POST /rest/api/3/search/approximate-count; the 410'd /search is never hit."""
    mock.assert_all_requests_are_fired = False
    api = JiraApi(mock, "cloud")
    gone = api.gone_search()
    api.count(JQL, body=fixture("approximate_count"))
    assert connection("cloud").count(JQL) == 153
    assert api.paths_called() == ["POST /rest/api/3/search/approximate-count"]
    assert all(g.call_count == 0 for g in gone)


def test_datacenter_count_reads_total_with_max_results_zero(mock: responses.RequestsMock) -> None:
    """Data Center counts with GET /rest/api/2/search?maxResults=0 and reads `total`."""
    api = JiraApi(mock, "datacenter")
    api.count(JQL, 42)
    assert connection("datacenter").count(JQL) == 42
    assert api.paths_called() == ["GET /rest/api/2/search"]


@BOTH
def test_a_bad_jql_raises_jql_error_with_jiras_message(mock: responses.RequestsMock, deployment: str) -> None:
    """A 400 on a count names the JQL and carries Jira's own errorMessages; it is not retried."""
    JiraApi(mock, deployment).count(BAD_JQL, status=400, body=fixture("error_jql"))
    with pytest.raises(JqlError) as info:
        connection(deployment).count(BAD_JQL)
    error = info.value
    assert error.status == 400 and error.jql == BAD_JQL
    assert "Expecting operator but got 'bogus'" in str(error)
    assert repr(BAD_JQL) in str(error)
    assert len(mock.calls) == 1


def test_an_unbounded_jql_on_cloud_is_a_jql_error(mock: responses.RequestsMock) -> None:
    """Cloud refuses unbounded JQL with a 400 that reads as a JQL problem."""
    JiraApi(mock, "cloud").count("order by key", status=400, body=fixture("error_unbounded_jql"))
    with pytest.raises(JqlError, match="Unbounded JQL queries are not allowed"):
        connection("cloud").count("order by key")


def test_a_cloud_site_configured_as_datacenter_gets_a_hint_on_410(mock: responses.RequestsMock) -> None:
    """Asking Cloud's removed /search (deployment misconfigured) says what to change."""
    mock.add("GET", f"{DC_URL}/rest/api/2/search", status=410, json=fixture("error_search_gone"))
    with pytest.raises(JiraError, match="set deployment = cloud") as info:
        connection("datacenter").count(JQL)
    assert info.value.status == 410
    assert "migrate to the /rest/api/3/search/jql API" in str(info.value)


def test_a_throttled_count_waits_and_succeeds(mock: responses.RequestsMock, no_library_sleep: None) -> None:
    """429 with Retry-After: our transport waits (fake time) and retries; the library never sleeps."""
    api = JiraApi(mock, "cloud")
    api.count(JQL, status=429, headers=throttle_headers(retry_after="4"), body=jira_errors("Rate limited"))
    api.count(JQL, 11)
    fake = FakeTime()
    jira = connection("cloud", fake=fake)
    assert jira.count(JQL) == 11
    assert fake.sleeps == [4.0]
    assert (jira.stats.requests, jira.stats.retries, jira.stats.waited_seconds) == (2, 1, 4.0)


def test_endless_throttling_ends_in_jira_unavailable_naming_url_and_status(
        mock: responses.RequestsMock, no_library_sleep: None) -> None:
    """When every attempt is throttled the sync gets JiraUnavailable (a JiraError), with URL and 429."""
    JiraApi(mock, "cloud").count(JQL, status=429, headers=throttle_headers(retry_after="1"), body={})
    with pytest.raises(JiraUnavailable) as info:
        connection("cloud").count(JQL)
    assert len(mock.calls) == 5
    message = str(info.value)
    assert info.value.status == 429
    assert f"{CLOUD_URL}/rest/api/3/search/approximate-count" in message
    assert "5 attempts" in message


def test_an_unreachable_server_is_jira_unavailable(mock: responses.RequestsMock) -> None:
    """A refused connection, after the retries, is JiraUnavailable naming the URL."""
    mock.add("GET", f"{DC_URL}/rest/api/2/search", body=requests.ConnectTimeout("timed out"))
    with pytest.raises(JiraUnavailable, match=DC_URL):
        connection("datacenter").count(JQL)


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_an_auth_error(mock: responses.RequestsMock, status: int) -> None:
    """401 and 403 become JiraAuthError with Jira's words, and are not retried."""
    body = jira_errors("You do not have the permission to see the specified issue.")
    JiraApi(mock, "cloud").count(JQL, status=status, body=body)
    with pytest.raises(JiraAuthError, match="permission") as info:
        connection("cloud").count(JQL)
    assert info.value.status == status
    assert len(mock.calls) == 1


def test_datacenter_auth_denial_reason_is_reported(mock: responses.RequestsMock) -> None:
    """Data Center's X-Authentication-Denied-Reason (e.g. a CAPTCHA lockout) is part of the message."""
    mock.add("GET", f"{DC_URL}/rest/api/2/search", status=401, body="Unauthorized",
             headers={"X-Authentication-Denied-Reason": "CAPTCHA_CHALLENGE; login-url=https://jira.example.com/login.jsp"},
             content_type="text/html")
    with pytest.raises(JiraAuthError, match="CAPTCHA_CHALLENGE"):
        connection("datacenter").count(JQL)


# -- issues and aggregates ----------------------------------------------------------------------------


def test_cloud_issues_follow_next_page_tokens_until_is_last(mock: responses.RequestsMock) -> None:
    """Cloud pages through search/jql with nextPageToken and stops at isLast (no total exists)."""
    api = JiraApi(mock, "cloud")
    api.search_jql(JQL, search_jql_page([issue_json("OKR-1"), issue_json("OKR-2")], next_page_token="t2"))
    api.search_jql(JQL, search_jql_page([issue_json("OKR-3")], next_page_token="t3"), token="t2")
    api.search_jql(JQL, search_jql_page([issue_json("OKR-4")]), token="t3")
    keys = [i["key"] for i in connection("cloud").issues(JQL)]
    assert keys == ["OKR-1", "OKR-2", "OKR-3", "OKR-4"]
    assert set(api.paths_called()) == {"GET /rest/api/3/search/jql"}


def test_cloud_paging_stops_on_a_repeated_token(mock: responses.RequestsMock) -> None:
    """A server repeating a nextPageToken would loop forever; the connection stops with an error."""
    api = JiraApi(mock, "cloud")
    api.search_jql(JQL, search_jql_page([issue_json("OKR-1")], next_page_token="t"))
    api.search_jql(JQL, search_jql_page([issue_json("OKR-2")], next_page_token="t"), token="t")
    with pytest.raises(JiraError, match="repeated a nextPageToken"):
        list(connection("cloud").issues(JQL))


def test_datacenter_issues_advance_start_at_until_total(mock: responses.RequestsMock) -> None:
    """Data Center pages with startAt/maxResults until `total` issues came back."""
    api = JiraApi(mock, "datacenter")
    issues = [issue_json(f"OKR-{n}", base=DC_URL) for n in range(1, 6)]
    for start in (0, 2, 4):
        api.dc_search(JQL, dc_search_page(issues[start:start + 2], start_at=start, total=5, max_results=2),
                      start_at=start, max_results=2)
    jira = connection("datacenter", page_size=2)
    assert [i["key"] for i in jira.issues(JQL)] == [f"OKR-{n}" for n in range(1, 6)]


@BOTH
def test_a_bad_jql_while_paging_is_a_jql_error(mock: responses.RequestsMock, deployment: str) -> None:
    """Searches fail the same way counts do on a JQL error."""
    JiraApi(mock, deployment).search(BAD_JQL, fixture("error_jql"), status=400)
    with pytest.raises(JqlError, match="Error in the JQL Query"):
        list(connection(deployment).issues(BAD_JQL))


@BOTH
@pytest.mark.parametrize(("agg", "value"), [("sum", 13.5), ("avg", 4.5)])
def test_aggregate_reads_only_the_field_and_skips_missing_values(
        mock: responses.RequestsMock, deployment: str, agg: str, value: float) -> None:
    """sum/avg over a numeric field: only that field is fetched; nulls count as issues, not values."""
    field = "customfield_10016"
    page = [numeric_issue("OKR-1", field, 5), numeric_issue("OKR-2", field, None),
            numeric_issue("OKR-3", field, 8.5), numeric_issue("OKR-4", field, 0)]
    body = search_jql_page(page) if deployment == "cloud" else dc_search_page(page, start_at=0, total=4)
    JiraApi(mock, deployment).search(JQL, body, fields=field)
    result = connection(deployment).aggregate(JQL, field, agg)
    assert result == Aggregate(value=value, count=4, with_value=3)


def test_aggregate_of_no_values_is_none(mock: responses.RequestsMock) -> None:
    """When no issue has a number, the value is None (the sync then says why), not a misleading 0."""
    JiraApi(mock, "cloud").search(JQL, search_jql_page([numeric_issue("OKR-1", "customfield_10016", None)]),
                                  fields="customfield_10016")
    assert connection("cloud").aggregate(JQL, "customfield_10016") == Aggregate(None, 1, 0)


@pytest.mark.parametrize("given", ["Story point estimate", "story POINT estimate", "cf[10016]"])
def test_aggregate_resolves_a_field_name_or_jql_reference(mock: responses.RequestsMock, given: str) -> None:
    """A field name (through GET /field, case-insensitive) or cf[N] resolves to the field id."""
    api = JiraApi(mock, "cloud")
    if not given.startswith("cf["):
        api.fields()
    api.search(JQL, search_jql_page([numeric_issue("OKR-1", "customfield_10016", 3)]),
               fields="customfield_10016")
    assert connection("cloud").aggregate(JQL, given).value == 3.0


def test_an_ambiguous_field_name_lists_the_candidate_ids(mock: responses.RequestsMock) -> None:
    """Two fields called "Deal value": the error says so and names both ids."""
    JiraApi(mock, "cloud").fields()
    with pytest.raises(JiraError, match="customfield_10020, customfield_10021"):
        connection("cloud").aggregate(JQL, "Deal value")


def test_an_unknown_agg_is_a_programming_error() -> None:
    """Only sum and avg exist."""
    with pytest.raises(ValueError, match="sum"):
        connection("cloud").aggregate(JQL, "customfield_10016", "max")


# -- issue state, epics, progress ------------------------------------------------------------------------


@BOTH
def test_issue_state_reads_summary_and_status_category(mock: responses.RequestsMock, deployment: str) -> None:
    """An issue's state comes from its status category key; reading it does not touch user history."""
    api = JiraApi(mock, deployment)
    api.issue("ED-1", fixture("issue"))
    assert connection(deployment).issue_state("ED-1") == IssueState(
        key="ED-1", summary="Main order flow broken", status="In Progress", status_category="indeterminate",
        done=False)
    api.issue("ED-2", issue_json("ED-2", "Ship it", "Closed", "done"))
    assert connection(deployment).issue_state("ed-2").done is True


def test_an_issue_key_that_could_inject_is_refused() -> None:
    """Keys go into JQL and URL paths, so only real keys pass."""
    with pytest.raises(ValueError, match="not an issue key"):
        connection("cloud").issue_state("OKR-1 OR project = HR")
    with pytest.raises(ValueError):
        connection("cloud").epic_progress("../../myself")


@BOTH
def test_epics_by_jql_and_keys_are_merged_once_each(mock: responses.RequestsMock, deployment: str) -> None:
    """Epics from a JQL and from explicit keys come back once each, with browse URLs."""
    base = CLOUD_URL if deployment == "cloud" else DC_URL
    api = JiraApi(mock, deployment)
    by_jql = [issue_json("SALES-12", "Checkout revamp", "Done", "done", base=base),
              issue_json("SALES-13", "Pricing page", "In Progress", "indeterminate", base=base)]
    by_key = [issue_json("SALES-13", "Pricing page", "In Progress", "indeterminate", base=base),
              issue_json("WEB-2", "Landing pages", "To Do", "new", base=base)]
    page = (lambda issues: search_jql_page(issues)) if deployment == "cloud" else \
        (lambda issues: dc_search_page(issues, start_at=0, total=len(issues)))
    api.search("issuetype = Epic AND labels = kr-CO-1.1", page(by_jql))
    api.search("key in (SALES-13, WEB-2)", page(by_key))
    epics = connection(deployment).epics(jql="issuetype = Epic AND labels = kr-CO-1.1",
                                         keys=["SALES-13", "web-2"])
    assert epics.missing == ()
    assert list(epics.epics) == [
        Epic("SALES-12", "Checkout revamp", "Done", "done", True, f"{base}/browse/SALES-12"),
        Epic("SALES-13", "Pricing page", "In Progress", "indeterminate", False, f"{base}/browse/SALES-13"),
        Epic("WEB-2", "Landing pages", "To Do", "new", False, f"{base}/browse/WEB-2"),
    ]


def test_no_jql_and_no_keys_means_no_epics_and_no_request(mock: responses.RequestsMock) -> None:
    """An initiative list that is empty asks nothing."""
    assert connection("cloud").epics(jql="", keys=()) == EpicsFound(epics=())
    assert not mock.calls


@pytest.mark.parametrize(("deployment", "children"), [("cloud", "parent = SALES-12"),
                                                      ("datacenter", '"Epic Link" = SALES-12')])
def test_epic_progress_counts_children_and_done_children(mock: responses.RequestsMock, deployment: str,
                                                         children: str) -> None:
    """Cloud counts `parent = KEY`, Data Center `"Epic Link" = KEY`; two counts, no issue fetched."""
    api = JiraApi(mock, deployment)
    api.count(children, 8)
    api.count(f"{children} AND statusCategory = Done", 3)
    assert connection(deployment).epic_progress("SALES-12") == Progress(done=3, total=8)
    assert len(mock.calls) == 2


def test_epic_progress_never_reports_more_done_than_total(mock: responses.RequestsMock) -> None:
    """Cloud's approximate counts, taken at two moments, may disagree; done is clamped to total."""
    api = JiraApi(mock, "cloud")
    api.count("parent = SALES-12", 4)
    api.count("parent = SALES-12 AND statusCategory = Done", 5)
    assert connection("cloud").epic_progress("SALES-12") == Progress(done=4, total=4)


# -- users -------------------------------------------------------------------------------------------------


def test_cloud_user_groups_by_account_id(mock: responses.RequestsMock) -> None:
    """Cloud: GET /rest/api/3/user/groups?accountId=…"""
    JiraApi(mock, "cloud").user_groups("5b10a2844c20165700ede21g")
    groups = connection("cloud").user_groups("5b10a2844c20165700ede21g")
    assert groups == ["jira-administrators", "okr-viewers"]


def test_datacenter_user_groups_by_username(mock: responses.RequestsMock) -> None:
    """Data Center: GET /rest/api/2/user?username=…&expand=groups."""
    JiraApi(mock, "datacenter").user_groups("fred")
    assert connection("datacenter").user_groups("fred") == ["jira-software-users", "okr-viewers"]


# -- remote links ------------------------------------------------------------------------------------------


@BOTH
def test_remote_links_are_listed_and_filtered_by_global_id_prefix(mock: responses.RequestsMock,
                                                                  deployment: str) -> None:
    """Links come back as RemoteLink; a prefix keeps only okrbridge's own."""
    api = JiraApi(mock, deployment)
    api.remote_links("MKY-1", fixture("remote_links"))
    api.remote_links("MKY-1", fixture("remote_links"))
    jira = connection(deployment)
    assert len(jira.remote_links("MKY-1")) == 2
    assert jira.remote_links("MKY-1", global_id_prefix="okrbridge:") == [RemoteLink(
        id="10001", global_id="okrbridge:kr=CO-1.1", url="okrbridge:kr/CO-1.1",
        title="KR CO-1.1 · Increase web conversion rate · 0.62 at risk", summary="Key result CO-1.1",
        icon_url=None, status_resolved=False, relationship=None)]


@BOTH
def test_upsert_posts_one_link_keyed_by_global_id(mock: responses.RequestsMock, deployment: str) -> None:
    """One POST with globalId creates or updates in place; the link id comes back as a string."""
    payload = {"globalId": "okrbridge:kr=CO-1.1",
               "object": {"url": "https://okr.example.com/kr/CO-1.1", "title": "KR CO-1.1 · 0.62 at risk",
                          "summary": "Key result CO-1.1", "icon": {"url16x16": "https://okr.example.com/i.png"},
                          "status": {"resolved": False}}}
    JiraApi(mock, deployment).upsert_remote_link("SALES-12", payload, link_id=10042)
    link_id = connection(deployment).upsert_remote_link(
        "SALES-12", "okrbridge:kr=CO-1.1", "https://okr.example.com/kr/CO-1.1", "KR CO-1.1 · 0.62 at risk",
        summary="Key result CO-1.1", icon_url="https://okr.example.com/i.png", status_resolved=False)
    assert link_id == "10042"


def test_upsert_leaves_out_what_was_not_given(mock: responses.RequestsMock) -> None:
    """Optional parts (summary, icon, status) are omitted rather than sent empty."""
    JiraApi(mock, "cloud").upsert_remote_link(
        "SALES-12", {"globalId": "g", "object": {"url": "u", "title": "t"}})
    assert connection("cloud").upsert_remote_link("SALES-12", "g", "u", "t") == "10000"


def test_a_failed_upsert_is_retried_as_an_upsert_and_reports_jira_errors(
        mock: responses.RequestsMock) -> None:
    """A 500 on the upsert POST is repeated (by globalId it cannot add a second link) until attempts run
    out; a 400 shows Jira's field errors and is not repeated."""
    api = JiraApi(mock, "cloud")
    api.upsert_remote_link("SALES-12", status=500, body=jira_errors("Internal server error"))
    with pytest.raises(JiraError, match="HTTP 500") as info:
        connection("cloud").upsert_remote_link("SALES-12", "g", "u", "t")
    assert info.value.status == 500 and len(mock.calls) == exact_policy().max_attempts
    mock.calls.reset()  # type: ignore[no-untyped-call]
    api.upsert_remote_link("SALES-12", status=400, body=fixture("error_remote_link_invalid"))
    with pytest.raises(JiraError, match="title: 'title' is required"):
        connection("cloud").upsert_remote_link("SALES-12", "g", "u", "t")


@BOTH
def test_delete_remote_link_by_global_id(mock: responses.RequestsMock, deployment: str) -> None:
    """DELETE …/remotelink?globalId=…; a link already gone (404) is not an error."""
    api = JiraApi(mock, deployment)
    api.delete_remote_link("SALES-12", "okrbridge:kr=CO-1.1")
    api.delete_remote_link("SALES-13", "okrbridge:kr=CO-1.1", status=404,
                           body=jira_errors("Remote link not found"))
    jira = connection(deployment)
    jira.delete_remote_link("SALES-12", "okrbridge:kr=CO-1.1")
    jira.delete_remote_link("SALES-13", "okrbridge:kr=CO-1.1")


# -- secrets ------------------------------------------------------------------------------------------------


def _all_text(exc: BaseException) -> str:
    """Everything an exception shows: str, repr and its whole cause chain."""
    parts = []
    current: BaseException | None = exc
    while current is not None:
        parts += [str(current), repr(current)]
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


@BOTH
def test_no_secret_reaches_an_exception_or_a_log_record(mock: responses.RequestsMock, deployment: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """Across auth failures, JQL errors, throttling and outages, neither token nor auth header leaks."""
    caplog.set_level(logging.DEBUG)
    secret = API_TOKEN if deployment == "cloud" else PAT
    forbidden = [secret, basic_auth(EMAIL, API_TOKEN).split()[1], base64.b64encode(secret.encode()).decode()]
    api = JiraApi(mock, deployment)
    api.server_info(status=401, body=jira_errors("Client must be authenticated to access this resource."))
    api.count(BAD_JQL, status=400, body=fixture("error_jql"))
    api.count(JQL, status=429, headers=throttle_headers(retry_after="1"), body={})
    api.issue("OKR-9", requests.ConnectionError("connection reset"))
    failures: list[BaseException] = []
    with pytest.raises(JiraAuthError) as refused:
        _ = connection(deployment, requested="auto").deployment
    failures.append(refused.value)
    jira = connection(deployment)
    for action, kind in ((lambda: jira.count(BAD_JQL), JqlError), (lambda: jira.count(JQL), JiraUnavailable),
                         (lambda: jira.issue_state("OKR-9"), JiraUnavailable)):
        with pytest.raises(kind) as info:
            action()
        failures.append(info.value)
    texts = [_all_text(e) for e in failures] + [repr(jira)]
    for record in caplog.records:
        texts += [record.getMessage(), str(record.args), record.exc_text or ""]
    blob = "\n".join(texts)
    assert caplog.records, "expected the library and the transport to log something"
    for secret_text in forbidden:
        assert secret_text not in blob


# -- contract ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openapi() -> Any:
    """The Jira Cloud contract as an openapi-core validator."""
    from openapi_core import OpenAPI
    return OpenAPI.from_file_path(str(contract_path("jira")))


FIXTURE_SCHEMAS = [
    ("server_info_cloud", "ServerInformation", False),
    ("approximate_count", "JQLCountResultsBean", False),
    ("issue", "IssueBean", False),
    ("search_jql_last_page", "SearchAndReconcileResults", False),
    ("search_datacenter", "SearchResults", False),
    ("remote_links", "RemoteIssueLink", True),
    ("remote_link_created", "RemoteIssueLinkIdentifies", False),
    ("user_groups_cloud", "GroupName", True),
]


@pytest.mark.parametrize(("name", "schema", "array"), FIXTURE_SCHEMAS)
def test_fixtures_match_the_published_schemas(openapi: Any, name: str, schema: str, array: bool) -> None:
    """Every Cloud-shaped fixture validates against its schema in Atlassian's OpenAPI document."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4
    path = contract_path("jira")
    document = json.loads(path.read_text(encoding="utf-8"))
    resource = Resource.from_contents(document, default_specification=DRAFT4)
    registry = Registry().with_resource("contract", resource)
    target: dict[str, Any] = {"$ref": f"contract#/components/schemas/{schema}"}
    if array:
        target = {"type": "array", "items": target}
    validator = jsonschema.Draft4Validator(target, registry=registry)
    errors = [e.message for e in validator.iter_errors(fixture(name))]
    assert errors == []


def test_cloud_requests_and_answers_match_the_contract(mock: responses.RequestsMock, openapi: Any) -> None:
    """Each request the Cloud client sends, and each fixture answer, is valid for the documented operation."""
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
    api = JiraApi(mock, "cloud")
    api.server_info()
    api.count(JQL, body=fixture("approximate_count"))
    api.search_jql(JQL, fixture("search_jql_last_page"))
    api.issue("ED-1", fixture("issue"))
    api.remote_links("MKY-1", fixture("remote_links"))
    api.upsert_remote_link("MKY-1", link_id=10000, status=201)
    api.delete_remote_link("MKY-1", "okrbridge:kr=CO-1.1")
    api.user_groups("5b10a2844c20165700ede21g")
    jira = connection("cloud", requested="auto")
    jira.count(JQL)
    list(jira.issues(JQL))
    jira.issue_state("ED-1")
    jira.remote_links("MKY-1")
    jira.upsert_remote_link("MKY-1", "okrbridge:kr=CO-1.1", "https://okr.example.com/kr/CO-1.1", "KR CO-1.1",
                            summary="Key result CO-1.1", status_resolved=True)
    jira.delete_remote_link("MKY-1", "okrbridge:kr=CO-1.1")
    jira.user_groups("5b10a2844c20165700ede21g")
    assert len(mock.calls) == 8
    for call in mock.calls:
        url = call.request.url or ""
        if "/rest/api/2/" in url:  # the probe asks v2 (both deployments serve it); the subset documents v3
            continue
        request = RequestsOpenAPIRequest(call.request)
        openapi.validate_request(request)
        if call.request.method == "GET" and url.endswith("/remotelink"):
            # The published schema says one RemoteIssueLink object, while its own example (and Jira)
            # answer an array; the fixture follows the example, checked by the schema test above.
            continue
        openapi.validate_response(request, RequestsOpenAPIResponse(cast(requests.Response, call.response)))
    # The count is a POST with only {"jql"}: JQLCountRequestBean allows nothing else.
    count_call = next(c for c in mock.calls if (c.request.url or "").endswith("/search/approximate-count"))
    assert json.loads(cast(bytes, count_call.request.body)) == {"jql": JQL}


def test_match_helpers_reject_a_request_that_differs(mock: responses.RequestsMock) -> None:
    """Sanity check of the builders: a count with another JQL does not match the registered one."""
    mock.assert_all_requests_are_fired = False
    mock.add("POST", f"{CLOUD_URL}/rest/api/3/search/approximate-count", json={"count": 1},
             match=[matchers.json_params_matcher({"jql": "project = A"})])
    with pytest.raises(JiraUnavailable):
        connection("cloud").count("project = B")
