"""Whole Jira issues as JSON (IssueBean): field values, `fields` selection, names, changelog.

Epic children show `parent` on Cloud and the "Epic Link" custom field on Data Center; v3 renders
`description` as an Atlassian Document, v2 as wiki text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.jira_format import (
    EPIC_LINK_FIELD,
    PRIORITIES,
    RESOLUTIONS,
    Render,
    issuetype_json,
    jira_date,
    jira_timestamp,
    named_json,
    project_json,
    status_id,
    status_json,
    user_json,
)
from sandbox.model import Issue, StatusChange, User

FIELD_NAMES: dict[str, str] = {
    "summary": "Summary", "description": "Description", "status": "Status",
    "statusCategory": "Status Category", "issuetype": "Issue Type", "project": "Project",
    "priority": "Priority", "labels": "Labels", "components": "Components",
    "fixVersions": "Fix Version/s", "assignee": "Assignee", "reporter": "Reporter",
    "creator": "Creator", "created": "Created", "updated": "Updated", "resolution": "Resolution",
    "resolutiondate": "Resolved", "duedate": "Due date", "statuscategorychangedate":
    "Status Category Changed", "issuelinks": "Linked Issues", "subtasks": "Sub-tasks",
    "parent": "Parent", EPIC_LINK_FIELD: "Epic Link",
}
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


def description_json(text: str, render: Render) -> Any:
    """The description: wiki text on v2, an Atlassian Document on v3 (None when empty)."""
    if not text:
        return None
    if render.api != "3":
        return text
    paragraphs = [{"type": "paragraph", "content": [{"type": "text", "text": line}]}
                  for line in text.split("\n\n") if line]
    return {"type": "doc", "version": 1, "content": paragraphs}


def _user_field(account_id: str | None, render: Render) -> dict[str, Any] | None:
    """A user-valued field (assignee, reporter), None when unset or unknown."""
    user = render.state.users.get(account_id) if account_id else None
    return user_json(user, render) if user else None


def _category_changed(issue: Issue) -> datetime:
    """When the issue last entered its current status category."""
    return issue.history[-1].at if issue.history else issue.created


def _parent_json(key: str, render: Render) -> dict[str, Any] | None:
    """The `parent` field: the parent's id, key and a few of its fields."""
    parent = render.state.issues.get(key)
    if parent is None:
        return None
    return {
        "id": parent.id, "key": parent.key, "self": f"{render.rest}/issue/{parent.id}",
        "fields": {
            "summary": parent.summary,
            "status": status_json(parent.status, parent.status_category, render),
            "priority": named_json("priority", parent.priority, PRIORITIES, 14000, render),
            "issuetype": issuetype_json(parent.issuetype, render),
        },
    }


def all_fields(issue: Issue, render: Render) -> dict[str, Any]:
    """Every field of `issue` by field id, shaped for the deployment and API version."""
    fields: dict[str, Any] = {
        "summary": issue.summary,
        "description": description_json(issue.description, render),
        "status": status_json(issue.status, issue.status_category, render),
        "issuetype": issuetype_json(issue.issuetype, render),
        "project": project_json(issue.project, render),
        "priority": named_json("priority", issue.priority, PRIORITIES, 14000, render),
        "labels": list(issue.labels),
        "components": [named_json("component", c, {}, 15000, render) for c in issue.components],
        "fixVersions": [dict(named_json("version", v, {}, 16000, render), archived=False, released=False)
                        for v in issue.fix_versions],
        "assignee": _user_field(issue.assignee, render),
        "reporter": _user_field(issue.reporter, render),
        "creator": _user_field(issue.reporter, render),
        "created": jira_timestamp(issue.created),
        "updated": jira_timestamp(issue.updated),
        "resolution": (named_json("resolution", issue.resolution, RESOLUTIONS, 17000, render)
                       if issue.resolution else None),
        "resolutiondate": jira_timestamp(issue.resolved),
        "duedate": jira_date(issue.duedate),
        "statuscategorychangedate": jira_timestamp(_category_changed(issue)),
        "issuelinks": [],
        "subtasks": [],
    }
    if render.cloud:
        fields["statusCategory"] = fields["status"]["statusCategory"]
        if issue.parent:
            fields["parent"] = _parent_json(issue.parent, render)
    else:
        # Data Center links stories to epics through the "Epic Link" field; `parent` is for sub-tasks.
        fields[EPIC_LINK_FIELD] = issue.epic_link
        if issue.parent and issue.issuetype == "Sub-task":
            fields["parent"] = _parent_json(issue.parent, render)
    for custom in render.state.custom_fields:
        fields[custom.id] = issue.custom.get(custom.id)
    return fields


def field_names(render: Render) -> dict[str, str]:
    """Field id -> display name, for `expand=names`."""
    names = dict(FIELD_NAMES)
    for custom in render.state.custom_fields:
        names[custom.id] = custom.name
    return names


class FieldSelection:
    """Which fields a request asked for: Jira's `fields` parameter semantics.

    Tokens: `*all` / `*navigable` (every field), a field id, `-id` (exclude), `id` / `key` (no
    fields). The sandbox has no non-navigable fields, so `*navigable` equals `*all`.
    """

    def __init__(self, tokens: list[str], default: str) -> None:
        """Read `tokens` (already split on commas); use `default` when there are none."""
        cleaned = [t.strip() for t in tokens if t and t.strip()] or [default]
        self.all = any(t in ("*all", "*navigable") for t in cleaned)
        self.excluded = {t[1:] for t in cleaned if t.startswith("-")}
        self.included = {t for t in cleaned if not t.startswith(("-", "*"))}
        self.tokens = cleaned

    @property
    def ids_only(self) -> bool:
        """Whether only `id` (and perhaps `key`) was asked for: Cloud then lists bare ids."""
        return not self.all and self.included <= {"id", "key"}

    @property
    def id_only(self) -> bool:
        """Whether nothing but `id` was asked for (Cloud search then answers `{"id": ...}` items)."""
        return not self.all and self.included == {"id"}

    def wants(self, field_id: str) -> bool:
        """Whether `field_id` belongs in the answer."""
        if field_id in self.excluded:
            return False
        return self.all or field_id in self.included


def issue_json(
    issue: Issue, render: Render, selection: FieldSelection, *,
    expand: set[str] | frozenset[str] = frozenset(), properties: list[str] | None = None,
) -> dict[str, Any]:
    """An issue (IssueBean) with the selected fields and requested expansions."""
    values = all_fields(issue, render)
    data: dict[str, Any] = {
        "expand": ISSUE_EXPAND,
        "id": issue.id,
        "self": f"{render.rest}/issue/{issue.id}",
        "key": issue.key,
        "fields": {name: value for name, value in values.items() if selection.wants(name)},
    }
    if "names" in expand:
        names = field_names(render)
        data["names"] = {name: names.get(name, name) for name in data["fields"]}
    if "changelog" in expand:
        data["changelog"] = changelog_json(issue, render)
    if properties:
        stored = render.state.issue_properties.get(issue.key, {})
        wanted = stored if "*all" in properties else {k: stored[k] for k in properties if k in stored}
        data["properties"] = dict(wanted)
    return data


def changelog_json(issue: Issue, render: Render) -> dict[str, Any]:
    """The issue's status changes as Jira's changelog page (oldest first).

    The creation entry of `history` (no previous status) is not a change, so Jira lists nothing
    for it.
    """
    author = render.state.users.get(issue.assignee or issue.reporter or "")
    histories = [_history_json(issue, index, change, author, render)
                 for index, change in enumerate(issue.history) if change.from_status is not None]
    return {"startAt": 0, "maxResults": len(histories), "total": len(histories), "histories": histories}


def _history_json(issue: Issue, index: int, change: StatusChange, author: User | None,
                  render: Render) -> dict[str, Any]:
    """One status change as a changelog entry."""
    entry: dict[str, Any] = {
        "id": str(int(issue.id) * 100 + index),
        "created": jira_timestamp(change.at),
        "items": [{
            "field": "status", "fieldtype": "jira", "fieldId": "status",
            "from": status_id(change.from_status or ""), "fromString": change.from_status or "",
            "to": status_id(change.to_status), "toString": change.to_status,
        }],
    }
    if author is not None:
        entry["author"] = user_json(author, render)
    return entry
