"""Answers that go wrong on the way: huge Retry-After, a deadline, cut-off and malformed bodies."""

from __future__ import annotations

import pytest
import requests
import responses

from connectors.jira import JiraConnection, JiraError, JiraUnavailable
from connectors.retry import ResilientSession, describe_error
from tests.connectors.builders import (
    API_TOKEN,
    CLOUD_URL,
    DC_URL,
    EMAIL,
    NOW,
    FakeTime,
    JiraApi,
    connection,
    exact_policy,
    http_date,
    server_info,
)

JQL = "project = OKR"
COUNT_URL = f"{CLOUD_URL}/rest/api/3/search/approximate-count"
HALF_A_COUNT = '{"count": 4'


@pytest.fixture
def mock() -> responses.RequestsMock:
    """Every request must match a registered answer."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps  # type: ignore[misc]


@pytest.mark.parametrize("retry_after", ["3600", http_date(NOW + 3600)])
def test_a_retry_after_beyond_the_cap_gives_the_request_up_at_once(
        mock: responses.RequestsMock, retry_after: str) -> None:
    JiraApi(mock).count(JQL, status=429, body={"errorMessages": ["Rate limit exceeded."]},
                        headers={"Retry-After": retry_after})
    fake = FakeTime()
    with pytest.raises(JiraUnavailable, match="beyond the 60s cap") as info:
        connection("cloud", fake=fake).count(JQL)
    assert info.value.status == 429
    assert len(mock.calls) == 1 and fake.sleeps == []


def test_a_retry_that_would_pass_the_deadline_is_given_up(mock: responses.RequestsMock) -> None:
    JiraApi(mock).count(JQL, status=429, body={}, headers={"Retry-After": "4"})
    fake = FakeTime()
    session = ResilientSession(exact_policy(max_attempts=50), sleep=fake.sleep, clock=fake.clock,
                               monotonic=fake.clock)
    jira = JiraConnection(CLOUD_URL, deployment="cloud", email=EMAIL, token=API_TOKEN, session=session)
    jira.set_deadline(10)
    with pytest.raises(JiraUnavailable, match="deadline reached"):
        jira.count(JQL)
    assert fake.sleeps == [4.0, 4.0]  # a third wait of 4 s would end past the 10 s deadline
    assert len(mock.calls) == 3


def test_nothing_is_sent_after_the_deadline(mock: responses.RequestsMock) -> None:
    JiraApi(mock).count(JQL, 3)
    jira = connection("cloud")
    jira.set_deadline(0)
    with pytest.raises(JiraUnavailable, match="deadline reached: not sent"):
        jira.count(JQL)
    assert len(mock.calls) == 0
    jira.set_deadline(None)
    assert jira.count(JQL) == 3


def test_a_malformed_json_answer_is_retried_then_described(mock: responses.RequestsMock) -> None:
    mock.add("POST", COUNT_URL, body=HALF_A_COUNT, content_type="application/json")
    with pytest.raises(JiraError) as info:
        connection("cloud").count(JQL)
    text = str(info.value)
    assert len(mock.calls) == exact_policy().max_attempts  # a read-only POST: retried
    assert "expected a JSON answer, got HTTP 200 (application/json, 11 bytes starting" in text
    assert repr(HALF_A_COUNT.encode()) in text
    assert "NoneType" not in text


def test_a_malformed_answer_once_is_retried_and_the_value_read(mock: responses.RequestsMock) -> None:
    mock.add("POST", COUNT_URL, body=HALF_A_COUNT, content_type="application/json")
    mock.add("POST", COUNT_URL, json={"count": 4})
    assert connection("cloud").count(JQL) == 4


def test_a_proxy_page_instead_of_json_names_status_and_content_type(mock: responses.RequestsMock) -> None:
    mock.add("POST", COUNT_URL, body="<html>Sign in to the proxy</html>", content_type="text/html")
    with pytest.raises(JiraError, match=r"got HTTP 200 \(text/html, 33 bytes starting b'<html>Sign in"):
        connection("cloud").count(JQL)


def test_an_answer_without_the_expected_key_says_what_came(mock: responses.RequestsMock) -> None:
    JiraApi(mock).count(JQL, body={"total": 4})
    with pytest.raises(JiraError, match="expected a JSON object with 'count', got a JSON object with keys"):
        connection("cloud").count(JQL)


def test_a_cut_off_server_info_is_asked_again_not_guessed_from_the_host(mock: responses.RequestsMock) -> None:
    # A Cloud site on a custom domain: the host name would say Data Center.
    api = JiraApi(mock, "datacenter")
    mock.add("GET", f"{DC_URL}/rest/api/2/serverInfo", body='{"deploymentType": "Clo',
             content_type="application/json")
    api.server_info("cloud")
    jira = connection("datacenter", requested="auto", email=EMAIL)
    assert jira.deployment == "cloud"


def test_an_unreadable_server_info_fails_with_a_clear_message(mock: responses.RequestsMock) -> None:
    mock.add("GET", f"{DC_URL}/rest/api/2/serverInfo", body="", status=200)
    with pytest.raises(JiraError) as info:
        _ = connection("datacenter", requested="auto").deployment
    text = str(info.value)
    assert "reading serverInfo to tell Jira Cloud from Data Center" in text
    assert "set jira.deployment" in text


def test_server_info_without_a_deployment_type_still_means_an_old_data_center(
        mock: responses.RequestsMock) -> None:
    info = {k: v for k, v in server_info("datacenter").items() if k != "deploymentType"}
    JiraApi(mock, "datacenter").server_info(body=info)
    assert connection("datacenter", requested="auto").deployment == "datacenter"


def test_a_token_with_a_line_break_is_refused_without_showing_it() -> None:
    with pytest.raises(ValueError) as info:
        JiraConnection(DC_URL, deployment="datacenter", token="s3cr3t-pat\nInjected: header")
    assert "whitespace or control characters" in str(info.value)
    assert "s3cr3t" not in str(info.value)


def test_an_invalid_header_error_never_shows_the_header_value(mock: responses.RequestsMock) -> None:
    # A session that puts a broken credential header on every request (a proxy's, say).
    session = ResilientSession(exact_policy())
    session.headers["Proxy-Authorization"] = "Bearer s3cr3t-pat\nsecond-line"
    jira = JiraConnection(DC_URL, deployment="datacenter", token="fine", session=session)
    with pytest.raises(JiraError) as info:
        jira.count(JQL)
    assert "InvalidHeader" in str(info.value)
    assert "s3cr3t" not in str(info.value)
    assert "s3cr3t" not in describe_error(requests.exceptions.InvalidHeader(
        "Invalid leading whitespace, reserved character(s), or return character(s) in header value: "
        "'Bearer s3cr3t-pat\\n'"))
