"""The retry policy as a decision table, and the transport that applies it, end to end with `responses`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from connectors.retry import (
    ResilientSession,
    RetryExhausted,
    RetryingAdapter,
    RetryPolicy,
    parse_rate_limit_reset,
    parse_retry_after,
    safe_url,
)
from tests.connectors.builders import CLOUD_URL, NOW, FakeTime, exact_policy, http_date, throttle_headers

API = "/rest/api/3"
ISSUE = f"{API}/issue/OKR-7"
REMOTELINK = f"{API}/issue/OKR-7/remotelink"
COUNT = f"{API}/search/approximate-count"
SEARCH_JQL = f"{API}/search/jql"
DC_SEARCH = "/rest/api/2/search"
RESET_IN_12S = datetime.fromtimestamp(NOW + 12, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _refused() -> requests.ConnectionError:
    """What requests raises when the TCP connect is refused: the request never left."""
    inner = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, "/x", inner))  # type: ignore[arg-type]


def _reset() -> requests.ConnectionError:
    """What requests raises when the server drops the connection mid-request."""
    return requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")))


# (method, path, status, error, headers, attempt) -> (retry?, wait)
# Jitter draws 0 here, so waits are exact: backoff is 0.5 * 2**(attempt-1), hints are taken as given.
DECISIONS = [
    # 429: any method, Retry-After first, then X-RateLimit-Reset, then backoff; a hint beyond max_wait
    # gives up at once.
    ("GET", ISSUE, 429, None, {"Retry-After": "7"}, 1, True, 7.0),
    ("POST", REMOTELINK, 429, None, {"Retry-After": "7"}, 1, True, 7.0),
    ("PATCH", ISSUE, 429, None, {"retry-after": "2"}, 2, True, 2.0),
    ("GET", ISSUE, 429, None, {"Retry-After": http_date(NOW + 30)}, 1, True, 30.0),
    ("GET", ISSUE, 429, None, {"Retry-After": http_date(NOW - 30)}, 1, True, 0.0),
    ("GET", ISSUE, 429, None, {"X-RateLimit-Reset": RESET_IN_12S}, 1, True, 12.0),
    ("GET", ISSUE, 429, None, {"Retry-After": "3", "X-RateLimit-Reset": RESET_IN_12S}, 1, True, 3.0),
    ("GET", ISSUE, 429, None, {"Retry-After": "120"}, 1, False, 0.0),  # beyond the cap: give up now
    ("GET", ISSUE, 429, None, {"Retry-After": http_date(NOW + 3600)}, 1, False, 0.0),
    ("GET", ISSUE, 503, None, {"Retry-After": "86400"}, 1, False, 0.0),
    ("GET", ISSUE, 429, None, {"Retry-After": "60"}, 1, True, 60.0),
    ("GET", ISSUE, 429, None, {"Retry-After": "soon"}, 1, True, 0.5),
    ("POST", REMOTELINK, 429, None, {}, 3, True, 2.0),
    ("GET", ISSUE, 429, None, {"Retry-After": "1"}, 5, False, 0.0),
    # 503 with Retry-After: the server declined before doing anything, so any method.
    ("GET", ISSUE, 503, None, {"Retry-After": "3"}, 1, True, 3.0),
    ("POST", REMOTELINK, 503, None, {"Retry-After": "3"}, 1, True, 3.0),
    # Other 5xx: idempotent requests and read-only POSTs only, with exponential backoff.
    ("POST", REMOTELINK, 503, None, {}, 1, False, 0.0),
    ("GET", ISSUE, 503, None, {}, 2, True, 1.0),
    ("GET", ISSUE, 500, None, {}, 1, True, 0.5),
    ("GET", ISSUE, 500, None, {}, 3, True, 2.0),
    ("HEAD", ISSUE, 502, None, {}, 1, True, 0.5),
    ("OPTIONS", ISSUE, 502, None, {}, 1, True, 0.5),
    ("PUT", ISSUE, 502, None, {}, 1, True, 0.5),
    ("DELETE", REMOTELINK, 504, None, {}, 1, True, 0.5),
    ("POST", COUNT, 500, None, {}, 1, True, 0.5),
    ("POST", SEARCH_JQL, 504, None, {}, 1, True, 0.5),
    ("POST", DC_SEARCH, 500, None, {}, 1, True, 0.5),
    ("POST", "/jira" + DC_SEARCH, 502, None, {}, 1, True, 0.5),
    ("POST", f"{API}/issue", 500, None, {}, 1, False, 0.0),
    ("POST", REMOTELINK, 500, None, {}, 1, False, 0.0),
    ("PATCH", ISSUE, 500, None, {}, 1, False, 0.0),
    ("GET", ISSUE, 500, None, {}, 5, False, 0.0),
    ("GET", ISSUE, 501, None, {}, 1, False, 0.0),
    # Never: 4xx other than 429 (even with a Retry-After), and successes.
    ("GET", ISSUE, 400, None, {"Retry-After": "1"}, 1, False, 0.0),
    ("GET", ISSUE, 401, None, {}, 1, False, 0.0),
    ("GET", ISSUE, 403, None, {}, 1, False, 0.0),
    ("GET", ISSUE, 404, None, {}, 1, False, 0.0),
    ("GET", f"{API}/search", 410, None, {}, 1, False, 0.0),
    ("POST", REMOTELINK, 413, None, {}, 1, False, 0.0),
    ("GET", ISSUE, 200, None, {}, 1, False, 0.0),
    # Transport errors: "never sent" retries anything; the rest only idempotent requests.
    ("GET", ISSUE, None, requests.ReadTimeout(), {}, 1, True, 0.5),
    ("POST", REMOTELINK, None, requests.ReadTimeout(), {}, 1, False, 0.0),
    ("POST", COUNT, None, requests.ReadTimeout(), {}, 2, True, 1.0),
    ("POST", REMOTELINK, None, requests.ConnectTimeout(), {}, 1, True, 0.5),
    ("POST", REMOTELINK, None, _refused(), {}, 1, True, 0.5),
    ("POST", REMOTELINK, None, _reset(), {}, 1, False, 0.0),
    ("GET", ISSUE, None, _reset(), {}, 4, True, 4.0),
    ("GET", ISSUE, None, _reset(), {}, 5, False, 0.0),
    ("GET", ISSUE, None, requests.exceptions.SSLError("certificate verify failed"), {}, 1, False, 0.0),
    ("GET", ISSUE, None, requests.exceptions.InvalidURL("bad"), {}, 1, False, 0.0),
]


@pytest.mark.parametrize(("method", "path", "status", "error", "headers", "attempt", "retry", "wait"),
                         DECISIONS)
def test_decision_table(method: str, path: str, status: int | None, error: BaseException | None,
                        headers: dict[str, str], attempt: int, retry: bool, wait: float) -> None:
    """Each row: what came back on which attempt decides whether and how long before trying again."""
    decision = exact_policy().decide(method, CLOUD_URL + path, attempt, status=status, headers=headers,
                                     error=error, now=NOW)
    assert decision.retry is retry, decision.reason
    assert decision.wait == pytest.approx(wait)
    assert decision.reason


def test_exhausted_is_flagged_only_for_retryable_failures() -> None:
    """Running out of attempts on a 429 is 'exhausted'; a 404 on the last attempt is just not retryable."""
    policy = exact_policy(max_attempts=2)
    assert policy.decide("GET", CLOUD_URL + ISSUE, 2, status=429, headers={}, now=NOW).exhausted
    assert not policy.decide("GET", CLOUD_URL + ISSUE, 2, status=404, now=NOW).exhausted
    assert not policy.decide("GET", CLOUD_URL + ISSUE, 1, status=429, headers={}, now=NOW).exhausted


def test_jitter_only_lengthens_a_wait_and_never_past_the_cap() -> None:
    """Jitter spreads threads apart without ever coming back before the server's Retry-After."""
    policy = RetryPolicy(jitter=0.1, random=lambda: 0.999)
    decision = policy.decide("GET", CLOUD_URL + ISSUE, 1, status=429, headers={"Retry-After": "10"}, now=NOW)
    assert 10.0 <= decision.wait < 11.0
    capped = policy.decide("GET", CLOUD_URL + ISSUE, 1, status=429, headers={"Retry-After": "59"}, now=NOW)
    assert capped.wait == 60.0


@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
       path=st.sampled_from([ISSUE, REMOTELINK, COUNT, SEARCH_JQL]),
       status=st.integers(min_value=100, max_value=599),
       retry_after=st.one_of(st.none(), st.integers(min_value=-100, max_value=10_000).map(str)),
       attempt=st.integers(min_value=1, max_value=8),
       draw=st.floats(min_value=0.0, max_value=0.999999))
def test_any_decision_waits_within_bounds_and_stops_at_max_attempts(
        method: str, path: str, status: int, retry_after: str | None, attempt: int, draw: float) -> None:
    """Whatever Jira sends, a wait is in [0, max_wait] and nothing is retried past max_attempts."""
    policy = RetryPolicy(random=lambda: draw)
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    decision = policy.decide(method, CLOUD_URL + path, attempt, status=status, headers=headers, now=NOW)
    assert 0.0 <= decision.wait <= policy.max_wait
    if attempt >= policy.max_attempts:
        assert not decision.retry
    if 400 <= status < 500 and status != 429:
        assert not decision.retry


@pytest.mark.parametrize(("value", "expected"), [
    ("30", 30.0), ("0", 0.0), ("-5", 0.0), ("1.5", 1.5),
    (http_date(NOW + 90), 90.0), (http_date(NOW - 5), 0.0), ("", None),
    ("later", None), (None, None), ("nan", None),
])
def test_retry_after_accepts_seconds_and_http_dates(value: str | None, expected: float | None) -> None:
    """Retry-After is delta-seconds or an HTTP-date; junk gives no hint rather than an error."""
    assert parse_retry_after(value, NOW) == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-04-01T00:00:00Z", datetime(2026, 4, 1, tzinfo=UTC).timestamp() - NOW),
    ("2026-04-01T00:00:00.000+0000", datetime(2026, 4, 1, tzinfo=UTC).timestamp() - NOW),
    (str(int(NOW + 42)), 42.0), ("2020-01-01T00:00:00Z", 0.0), ("12", None), ("tomorrow", None), (None, None),
])
def test_rate_limit_reset_accepts_iso_instants(value: str | None, expected: float | None) -> None:
    """X-RateLimit-Reset is an ISO-8601 instant (Jira) or an epoch; a small bare number is ambiguous."""
    assert parse_rate_limit_reset(value, NOW) == (pytest.approx(expected) if expected is not None else None)


def test_safe_url_drops_credentials_and_query() -> None:
    """URLs in messages lose user-info and query strings."""
    assert safe_url("https://u:secret@x.atlassian.net:8443/rest/api/3/search/jql?jql=a&token=t") == \
        "https://x.atlassian.net:8443/rest/api/3/search/jql"


def test_policy_rejects_settings_that_cannot_terminate() -> None:
    """Zero attempts or negative waits are configuration errors."""
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_backoff=-1)


# -- the transport, end to end ------------------------------------------------------------------------


@pytest.fixture
def fake() -> FakeTime:
    """Fake time: sleeps are recorded, never taken."""
    return FakeTime()


@pytest.fixture
def session(fake: FakeTime) -> Iterator[ResilientSession]:
    """A ResilientSession with exact waits and fake time."""
    with ResilientSession(exact_policy(), sleep=fake.sleep, clock=fake.clock) as s:
        yield s


@responses.activate
def test_429_then_200_retries_once_after_retry_after(session: ResilientSession, fake: FakeTime) -> None:
    """A throttled GET waits what Retry-After says, once, and the caller sees only the 200."""
    url = CLOUD_URL + ISSUE
    responses.add("GET", url, status=429, headers=throttle_headers(retry_after="2"))
    responses.add("GET", url, json={"key": "OKR-7"})
    assert session.get(url).json() == {"key": "OKR-7"}
    assert len(responses.calls) == 2
    assert fake.sleeps == [2.0]
    stats = session.stats
    assert (stats.requests, stats.retries, stats.waited_seconds, stats.throttled) == (2, 1, 2.0, 1)


@responses.activate
def test_http_date_retry_after_is_waited_until(session: ResilientSession, fake: FakeTime) -> None:
    """An HTTP-date Retry-After is turned into seconds from the transport's clock."""
    url = CLOUD_URL + ISSUE
    responses.add("GET", url, status=429, headers={"Retry-After": http_date(NOW + 30)})
    responses.add("GET", url, json={})
    session.get(url)
    assert fake.sleeps == [pytest.approx(30.0)]


@responses.activate
def test_500_on_a_remote_link_post_without_global_id_is_not_repeated(session: ResilientSession,
                                                                     fake: FakeTime) -> None:
    """A POST without a globalId adds a link each time: one that may have written is never sent twice."""
    url = CLOUD_URL + REMOTELINK
    responses.add("POST", url, status=500, json={"errorMessages": ["boom"]})
    response = session.post(url, json={"object": {"url": "u", "title": "t"}})
    assert response.status_code == 500
    assert len(responses.calls) == 1
    assert fake.sleeps == []


@responses.activate
def test_500_on_a_remote_link_upsert_by_global_id_is_retried(session: ResilientSession,
                                                             fake: FakeTime) -> None:
    """A POST with a globalId is Jira's upsert: sending it again leaves one link, so it is retried."""
    url = CLOUD_URL + REMOTELINK
    responses.add("POST", url, status=500, json={"errorMessages": ["boom"]})
    responses.add("POST", url, status=200, json={"id": 10000, "self": url + "/10000"})
    response = session.post(url, json={"globalId": "g", "object": {"url": "u", "title": "t"}})
    assert response.status_code == 200
    assert len(responses.calls) == 2
    assert fake.sleeps == [0.5]


@responses.activate
def test_500_on_approximate_count_post_is_retried(session: ResilientSession, fake: FakeTime) -> None:
    """The count POST only reads, so a 500 is retried like a GET."""
    url = CLOUD_URL + COUNT
    responses.add("POST", url, status=500)
    responses.add("POST", url, json={"count": 3})
    assert session.post(url, json={"jql": "project = OKR"}).json() == {"count": 3}
    assert len(responses.calls) == 2
    assert fake.sleeps == [0.5]


@responses.activate
def test_exhausted_attempts_raise_an_error_naming_url_and_status(session: ResilientSession,
                                                                 fake: FakeTime) -> None:
    """After max_attempts the caller gets RetryExhausted with method, URL and last status, not a 503."""
    url = CLOUD_URL + ISSUE
    responses.add("GET", url, status=503)
    with pytest.raises(RetryExhausted) as info:
        session.get(url, params={"fields": "summary"})
    assert len(responses.calls) == 5
    assert fake.sleeps == [0.5, 1.0, 2.0, 4.0]
    message = str(info.value)
    assert f"GET {url} " in message and "HTTP 503" in message and "5 attempts" in message
    assert info.value.status == 503 and info.value.attempts == 5


@responses.activate
def test_transport_errors_on_gets_are_retried_then_reported(session: ResilientSession) -> None:
    """A connection reset on a GET is retried; if it persists the error says which URL failed."""
    url = CLOUD_URL + ISSUE
    responses.add("GET", url, body=_reset())
    with pytest.raises(RetryExhausted) as info:
        session.get(url)
    assert len(responses.calls) == 5
    assert info.value.status is None and url in str(info.value)
    assert isinstance(info.value.__cause__, requests.ConnectionError)


@responses.activate
def test_connection_reset_on_a_write_is_raised_at_once(session: ResilientSession) -> None:
    """A reset after a POST was sent may hide a write that happened: it is surfaced, not repeated."""
    url = CLOUD_URL + REMOTELINK
    responses.add("POST", url, body=_reset())
    with pytest.raises(requests.ConnectionError):
        session.post(url, json={})
    assert len(responses.calls) == 1


@responses.activate
def test_a_body_that_cannot_be_replayed_is_not_retried(session: ResilientSession) -> None:
    """A streamed (generator) body is consumed by the first send, so even a GET is not resent."""
    url = CLOUD_URL + ISSUE
    responses.add("PUT", url, status=502)
    response = session.put(url, data=(chunk for chunk in [b"a", b"b"]))
    assert response.status_code == 502
    assert len(responses.calls) == 1


@responses.activate
def test_every_request_gets_the_default_timeout(fake: FakeTime) -> None:
    """A request sent without a timeout gets the adapter's (connect, read) pair."""
    url = CLOUD_URL + ISSUE
    responses.add("GET", url, json={})
    with ResilientSession(exact_policy(), timeout=(3.0, 20.0), sleep=fake.sleep, clock=fake.clock) as s:
        s.get(url)
    sent: Any = responses.calls[0].request  # responses records the adapter's keyword arguments
    assert sent.req_kwargs["timeout"] == (3.0, 20.0)


def test_a_bare_timeout_sets_the_read_timeout_and_keeps_connect_short() -> None:
    """atlassian-python-api passes one number; it bounds reads, while connects stay fast-failing."""
    adapter = RetryingAdapter(timeout=(10.0, 30.0))
    assert adapter.effective_timeout(None) == (10.0, 30.0)
    assert adapter.effective_timeout(75) == (10.0, 75.0)
    assert adapter.effective_timeout(4) == (4.0, 4.0)
    assert adapter.effective_timeout((1.0, 2.0)) == (1.0, 2.0)


def test_the_pool_is_sized_for_concurrent_callers() -> None:
    """pool_maxsize reaches urllib3, so N threads keep N live connections instead of discarding them."""
    session = ResilientSession(pool_maxsize=24)
    assert session.transport._pool_maxsize == 24
    pool: Any = session.transport.poolmanager.connection_from_url(CLOUD_URL)
    assert pool.pool.maxsize == 24


@responses.activate
def test_counters_are_exact_under_concurrent_use(session: ResilientSession) -> None:
    """Many threads through one session: every send and retry is counted once."""
    url = CLOUD_URL + ISSUE
    lock = threading.Lock()
    seen = {"n": 0}

    def answer(_: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        """Throttle every other request once."""
        with lock:
            seen["n"] += 1
            throttled = seen["n"] % 2 == 1
        return (429, {"Retry-After": "0"}, "") if throttled else (200, {}, "{}")

    responses.add_callback("GET", url, callback=answer)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: session.get(url).status_code, range(40)))
    assert statuses == [200] * 40
    stats = session.stats
    assert stats.requests == seen["n"]
    assert stats.retries == stats.requests - 40
