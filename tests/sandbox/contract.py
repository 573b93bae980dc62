"""Contract checks: does a real HTTP exchange match Atlassian's published OpenAPI documents?

`validate("jira" | "confluence", response)` takes a `requests.Response` from a real call to the
sandbox (or any server) and validates both its request and its response with openapi-core against
the subsets kept in the repository's `contracts/` folder (override with `OKRBRIDGE_CONTRACTS_DIR`).
A missing document fails the calling test: the contracts are part of the project.

The sandbox is reached at `http://127.0.0.1:<port>`, the documents at
`https://your-domain.atlassian.net`, so only the path is matched: the request is presented to
openapi-core under the document's own server URL. Paths the documents do not spell out are mapped
onto the operation of the same shape:

- Jira `/rest/api/2/...` and `/rest/api/latest/...` (Data Center, and Cloud's v2) onto
  `/rest/api/3/...` (the contracts README: v2 search has the v3 `/search` shape);
- Confluence Data Center `/rest/api/...` onto Cloud's `/wiki/rest/api/...`.

Known deviations of the published document from the live service are listed in
`_ARRAY_FOR_DOCUMENTED_OBJECT` with the reason; nothing else is relaxed.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

Spec = Literal["jira", "confluence"]

SPEC_FILES: dict[str, str] = {
    "jira": "jira-cloud-platform-v3.subset.json",
    "confluence": "confluence-cloud-v1.subset.json",
}

# Jira Cloud answers GET .../remotelink (without globalId) with a JSON array of RemoteIssueLink,
# while the published document types that 200 as a single RemoteIssueLink (a long-standing error
# in Atlassian's OpenAPI; see MrRefactoring/jira.js#295). For these operations an array answer is
# validated item by item against the documented object schema.
_ARRAY_FOR_DOCUMENTED_OBJECT: set[tuple[str, str]] = {
    ("get", "/rest/api/3/issue/{issueIdOrKey}/remotelink"),
}

# Atlassian's documents type timestamps (changelog `created`, serverInfo `serverTime`) as RFC 3339
# `date-time`, but Jira sends `2026-05-01T12:00:00.000+0000` (no colon in the offset). Such values
# are accepted as date-times; anything else still has to be RFC 3339.
_JIRA_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?[+-]\d{4}$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$", re.IGNORECASE)

_JIRA_VERSION = re.compile(r"^/rest/api/(?:2|latest)/")
_CONFLUENCE_DC = re.compile(r"^/rest/api/(?!\d+/|latest/)")


class ContractViolation(AssertionError):
    """The exchange does not match the published contract; the message says where and why."""


def contracts_dir() -> Path:
    """Where the contract documents live: `$OKRBRIDGE_CONTRACTS_DIR`, else the repository's `contracts/`."""
    override = os.environ.get("OKRBRIDGE_CONTRACTS_DIR")
    if override:
        return Path(override)
    # tests/sandbox/contract.py -> parents[2] is the repository.
    return Path(__file__).resolve().parents[2] / "contracts"


def contract_path(spec: Spec) -> Path:
    """The document for `spec`; a missing one fails the test (the contracts ship with the project)."""
    path = contracts_dir() / SPEC_FILES[spec]
    if not path.is_file():
        pytest.fail(f"contract document {path} is missing: the repository's contracts/ folder ships it "
                    "(or set OKRBRIDGE_CONTRACTS_DIR to a folder that has it)")
    return path


@cache
def load_spec(spec: Spec) -> OpenAPI:
    """The parsed, checked OpenAPI document for `spec` (loaded once per process)."""
    path = contract_path(spec)
    with path.open(encoding="utf-8") as handle:
        document = json.load(handle)
    config = Config(extra_format_validators={"date-time": _is_timestamp})
    return OpenAPI.from_dict(document, config=config)


def _is_timestamp(value: Any) -> bool:
    """RFC 3339 date-times and Jira's `+0000`-offset timestamps (see _JIRA_TIMESTAMP)."""
    if not isinstance(value, str):
        return True  # format applies to strings only; the type check reports anything else
    return bool(_RFC3339.match(value) or _JIRA_TIMESTAMP.match(value))


def spec_server(spec: Spec) -> str:
    """The first server URL the document declares (what requests are presented under)."""
    servers = load_spec(spec).spec / "servers"
    return str((servers / 0 / "url").read_str()).rstrip("/")


def spec_path(spec: Spec, path: str) -> str:
    """The document path for a path the sandbox served (version and deployment mapped)."""
    if spec == "jira":
        return _JIRA_VERSION.sub("/rest/api/3/", path)
    if _CONFLUENCE_DC.match(path):
        return "/wiki" + path
    return path


class _ContractRequest:
    """A `requests.PreparedRequest` as openapi-core sees it, under the document's server URL."""

    def __init__(self, prepared: requests.PreparedRequest, spec: Spec) -> None:
        """Wrap `prepared`, re-homing its path onto `spec`'s server and path space."""
        if prepared.url is None:
            raise ContractViolation("the request has no URL")
        parts = urlsplit(prepared.url)
        self._host_url = spec_server(spec)
        self._path = spec_path(spec, parts.path)
        self._method = (prepared.method or "").lower()
        body: Any = prepared.body   # str or bytes for the JSON and form bodies the tests send
        self._body: bytes | None = body.encode("utf-8") if isinstance(body, str) else body
        self._content_type = str(prepared.headers.get("Content-Type") or prepared.headers.get("Accept"))
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qs(parts.query, keep_blank_values=True)),
            header=Headers(dict(prepared.headers)),
            cookie=ImmutableMultiDict(),
        )

    @property
    def host_url(self) -> str:
        """Scheme and host of the document's server."""
        return self._host_url

    @property
    def path(self) -> str:
        """The request path in the document's path space."""
        return self._path

    @property
    def method(self) -> str:
        """Lower-case HTTP method."""
        return self._method

    @property
    def body(self) -> bytes | None:
        """The raw request body."""
        return self._body

    @property
    def content_type(self) -> str:
        """The request's content type (or its Accept header when it sends no body)."""
        return self._content_type


class _ContractResponse:
    """A `requests.Response` as openapi-core sees it; `data` may be replaced (array items)."""

    def __init__(self, response: requests.Response, data: bytes | None = None) -> None:
        """Wrap `response`, optionally presenting `data` instead of its body."""
        self._response = response
        self._data = response.content if data is None else data

    @property
    def data(self) -> bytes:
        """The response body."""
        return self._data

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        return int(self._response.status_code)

    @property
    def content_type(self) -> str:
        """The response's Content-Type."""
        return str(self._response.headers.get("Content-Type", ""))

    @property
    def headers(self) -> Headers:
        """The response headers."""
        return Headers(dict(self._response.headers))


def _operation_key(spec: Spec, request: _ContractRequest) -> tuple[str, str] | None:
    """(method, document path template) of the operation `request` maps to, if any."""
    paths = load_spec(spec).spec / "paths"
    templates = list(map(str, paths.keys()))  # iterating a SchemaPath would yield child paths
    for template in templates:
        pattern = re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.path) and request.method in (paths / template):
            return request.method, template
    return None


def _any_body_documented(spec: Spec, operation: tuple[str, str] | None, status: int) -> bool:
    """Whether the document lists `status` for the operation with only the empty schema `{}`.

    Atlassian's generator attaches `application/json` with schema `{}` ("any value") to answers
    that carry no body at all (a 204, a property PUT's 200/201). An empty body is accepted there;
    a body, when present, is still validated.
    """
    if operation is None:
        return False
    method, template = operation
    responses = load_spec(spec).spec / "paths" / template / method / "responses"
    if str(status) not in responses:
        return False
    content = responses / str(status) / "content"
    if "application/json" not in content:
        return False
    schema = content / "application/json" / "schema"
    return not list(schema.keys())


def validate(spec: Spec, response: requests.Response, *, check_request: bool = True) -> Any:
    """Validate the request behind `response` and `response` itself against `spec`'s document.

    `check_request=False` skips the request side: for requests that are invalid on purpose (to test
    the error answer), and for Data Center calls whose parameters differ from Cloud's (`username=`
    where Cloud requires `accountId=`) while the answer has Cloud's shape.
    Returns the decoded JSON body (None when there is none) so a test can go on checking values.
    Raises `ContractViolation` naming the operation and the validator's reasons.
    """
    openapi = load_spec(spec)
    request = _ContractRequest(response.request, spec)
    where = f"{request.method.upper()} {request.path} -> {response.status_code}"
    operation = _operation_key(spec, request)
    with warnings.catch_warnings():
        # openapi-core cannot check OAuth2 security schemes and warns for each; Basic is checked.
        warnings.simplefilter("ignore")
        if check_request:
            try:
                openapi.validate_request(request)
            except Exception as error:  # openapi-core raises a family of unrelated exception types
                raise ContractViolation(f"request {where}: {_describe(error)}") from error
        if operation is None:
            raise ContractViolation(f"{where}: no operation in the {spec} document serves this path")
        if not response.content and _any_body_documented(spec, operation, response.status_code):
            return None
        body = response.json() if response.content and _is_json(response) else None
        if isinstance(body, list) and operation in _ARRAY_FOR_DOCUMENTED_OBJECT:
            answers = [_ContractResponse(response, json.dumps(item).encode()) for item in body]
        else:
            answers = [_ContractResponse(response)]
        for answer in answers:
            try:
                openapi.validate_response(request, answer)
            except Exception as error:
                raise ContractViolation(f"response {where}: {_describe(error)}") from error
    return body


def _is_json(response: requests.Response) -> bool:
    """Whether the response declares a JSON body."""
    return "json" in response.headers.get("Content-Type", "")


def _describe(error: Exception, limit: int = 300) -> str:
    """The validator's message plus the schema errors it wraps (openapi-core nests them).

    Messages quote the whole offending value; they are cut to `limit` characters so the schema
    errors (path and reason) stay readable.
    """
    def short(item: BaseException) -> str:
        """One exception's type and (cut) message."""
        text = str(item)
        return f"{type(item).__name__}: {text[:limit]}{'...' if len(text) > limit else ''}"

    parts = [short(error)]
    cause: BaseException | None = error.__cause__
    while cause is not None:
        parts.append(short(cause))
        for inner in getattr(cause, "schema_errors", []) or []:
            location = "/".join(str(step) for step in getattr(inner, "absolute_path", []))
            parts.append(f"  at /{location}: {getattr(inner, 'message', inner)}")
        cause = cause.__cause__
    return "\n".join(parts)
