"""Jira issue comments: add one (201 with the comment) and list an issue's, as Cloud and Data Center do.

The body is what the API version takes: an Atlassian Document Format document through Cloud's
REST v3, a plain string (wiki markup) through v2 — which Data Center and Cloud's v2 both serve.
A body of the wrong kind, or an empty one, is refused with Jira's 400 and its message.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.errors import JiraError
from sandbox.jira_common import find_issue, int_param, json_body, render_for, signed_in
from sandbox.jira_format import Render, jira_timestamp, user_json
from sandbox.model import Comment
from sandbox.state import current_state

bp = Blueprint("jira_comments", __name__)

COMMENTS = "/rest/api/<version>/issue/<id_or_key>/comment"
EMPTY_BODY = "Comment body can not be empty!"
NOT_A_DOCUMENT = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
MAX_RESULTS = 5000


def _is_document(body: Any) -> bool:
    """Whether `body` is an ADF document: `{"type": "doc", "version": 1, "content": [...]}`."""
    return (isinstance(body, dict) and body.get("type") == "doc" and body.get("version") == 1
            and isinstance(body.get("content"), list))


def _document_text(body: Any) -> str:
    """The text an ADF node holds (its `text` and its children's), to tell an empty document."""
    if isinstance(body, dict):
        return str(body.get("text") or "") + "".join(_document_text(c) for c in body.get("content") or [])
    return ""


def _checked_body(api: str, payload: Any) -> Any:
    """The comment body of a create request, or Jira's 400 for this API version."""
    if not isinstance(payload, dict):
        raise JiraError(400, "The request body must be a JSON object.")
    body = payload.get("body")
    if api == "3":
        if body is None or (isinstance(body, str) and not body.strip()):
            raise JiraError(400, errors={"comment": EMPTY_BODY})
        if not _is_document(body):
            raise JiraError(400, errors={"comment": NOT_A_DOCUMENT})
        if not _document_text(body).strip():
            raise JiraError(400, errors={"comment": EMPTY_BODY})
        return body
    if body is not None and not isinstance(body, str):
        raise JiraError(400, "Can not deserialize instance of java.lang.String out of START_OBJECT token")
    if not body or not body.strip():
        raise JiraError(400, errors={"comment": EMPTY_BODY})
    return body


def _comment_json(comment: Comment, render: Render, issue_id: str) -> dict[str, Any]:
    """A comment as Jira answers it."""
    author = render.state.users.get(comment.author)
    people = user_json(author, render) if author is not None else {"accountId": comment.author}
    data: dict[str, Any] = {
        "self": f"{render.rest}/issue/{issue_id}/comment/{comment.id}",
        "id": str(comment.id),
        "author": people,
        "body": comment.body,
        "updateAuthor": people,
        "created": jira_timestamp(comment.created),
        "updated": jira_timestamp(comment.created),
    }
    if render.cloud:
        data["jsdPublic"] = True
    if comment.visibility:
        data["visibility"] = dict(comment.visibility)
    return data


@bp.route(COMMENTS, methods=["POST"])
def add_comment(version: str, id_or_key: str) -> Response:
    """Add a comment as the signed-in user: 201 with the comment."""
    render = render_for(version)
    issue = find_issue(id_or_key)
    payload = json_body()
    body = _checked_body(render.api, payload)
    user = signed_in()
    state = current_state()
    visibility = payload.get("visibility") if isinstance(payload.get("visibility"), dict) else None
    comment = state.add_comment(lambda comment_id: Comment(comment_id, issue.key, user.account_id, body,
                                                           state.now(), visibility))
    response = jsonify(_comment_json(comment, render, issue.id))
    response.status_code = 201
    return response


@bp.route(COMMENTS, methods=["GET"])
def list_comments(version: str, id_or_key: str) -> Response:
    """A page of the issue's comments, oldest first (`orderBy=-created`: newest first)."""
    render = render_for(version)
    issue = find_issue(id_or_key)
    start = max(0, int_param(request.args.get("startAt"), "startAt", 0))
    size = min(MAX_RESULTS, max(0, int_param(request.args.get("maxResults"), "maxResults", 50)))
    comments = list(current_state().comments.get(issue.key, []))
    if request.args.get("orderBy", "created").startswith("-"):
        comments.reverse()
    page = comments[start:start + size]
    return jsonify({"startAt": start, "maxResults": size, "total": len(comments),
                    "comments": [_comment_json(c, render, issue.id) for c in page]})
