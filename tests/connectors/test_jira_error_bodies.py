"""Jira's error bodies in every documented shape, and epic keys Jira no longer knows (`responses`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from connectors.jira import Epic, JiraError, JqlError
from tests.connectors.builders import (
    CLOUD_URL,
    DC_URL,
    JiraApi,
    connection,
    dc_search_page,
    issue_json,
    search_jql_page,
)

JQL = "project = OKR AND labelz = x"
BOTH = pytest.mark.parametrize("deployment", ["cloud", "datacenter"])


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    """A strict responses mock: every registered response must be used, unknown URLs fail."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as m:
        yield m


@BOTH
@pytest.mark.parametrize(("body", "shown"), [
    ({"errorMessages": ["Field 'labelz' does not exist or you do not have permission to view it."]},
     ["Field 'labelz' does not exist or you do not have permission to view it."]),
    ({"errorMessages": [], "errors": {"jql": "The JQL query is invalid."}},
     ["jql: The JQL query is invalid."]),
    ({"errorMessages": ["Field 'labelz' does not exist or you do not have permission to view it."],
      "errors": {}, "warningMessages": ["The value 'x' does not exist for the field 'labels'."]},
     ["Field 'labelz' does not exist or you do not have permission to view it.",
      "warning: The value 'x' does not exist for the field 'labels'."]),
], ids=["without-errors", "errors-only", "with-warnings"])
def test_every_shape_of_jira_error_body_reaches_the_message(
        mock: responses.RequestsMock, deployment: str, body: dict[str, object], shown: list[str]) -> None:
    JiraApi(mock, deployment).count(JQL, status=400, body=body)
    with pytest.raises(JqlError) as caught:
        connection(deployment).count(JQL)
    assert caught.value.messages == shown
    assert caught.value.jql == JQL and all(text in str(caught.value) for text in shown)


def test_a_body_with_neither_key_falls_back_to_the_status_line(mock: responses.RequestsMock) -> None:
    JiraApi(mock, "datacenter").count(JQL, status=400, body={})
    with pytest.raises(JiraError) as caught:
        connection("datacenter").count(JQL)
    assert caught.value.messages == ["400 Bad Request"]


@BOTH
def test_a_missing_epic_key_is_reported_and_the_other_epics_are_kept(mock: responses.RequestsMock,
                                                                      deployment: str) -> None:
    base = CLOUD_URL if deployment == "cloud" else DC_URL
    api = JiraApi(mock, deployment)
    refused = {"errorMessages": ["An issue with key 'WEB-404' does not exist for field 'key'."], "errors": {}}
    api.search("key in (SALES-12, WEB-404, WEB-2)", refused, status=400)
    found = [issue_json("SALES-12", "Checkout revamp", "Done", "done", base=base),
             issue_json("WEB-2", "Landing pages", "To Do", "new", base=base)]
    page = search_jql_page(found) if deployment == "cloud" else dc_search_page(found, start_at=0, total=2)
    api.search("key in (SALES-12, WEB-2)", page)
    result = connection(deployment).epics(keys=["SALES-12", "WEB-404", "WEB-2"])
    assert result.missing == ("WEB-404",)
    assert [e.key for e in result.epics] == ["SALES-12", "WEB-2"]
    assert result.epics[0] == Epic("SALES-12", "Checkout revamp", "Done", "done", True,
                                   f"{base}/browse/SALES-12")


def test_a_refusal_that_names_no_key_of_the_batch_still_fails(mock: responses.RequestsMock) -> None:
    api = JiraApi(mock, "cloud")
    api.search("key in (SALES-12)", {"errorMessages": ["Unbounded JQL queries are not allowed here."]},
               status=400)
    with pytest.raises(JqlError, match="Unbounded"):
        connection("cloud").epics(keys=["SALES-12"])
