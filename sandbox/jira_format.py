"""Jira's JSON for the objects inside issues: users, statuses, types, projects; Jira's ids and dates.

Cloud and Data Center differ in small ways that clients notice: users carry `accountId` (Cloud) or
`name`/`key` (DC). Whole issues are rendered by `jira_issue_format.py`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sandbox.model import Project, User
from sandbox.state import SandboxState

EPIC_LINK_FIELD = "customfield_10014"

# key -> (id, name, colorName): Jira's three status categories.
STATUS_CATEGORIES: dict[str, tuple[int, str, str]] = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}
STATUS_IDS = {
    "Open": "1", "In Progress": "3", "Closed": "6", "To Do": "10000", "Done": "10001",
    "In Review": "10002", "Won": "10003", "Lost": "10004", "Negotiation": "10005", "Backlog": "10006",
}
# name -> (id, hierarchyLevel, subtask)
ISSUE_TYPES: dict[str, tuple[str, int, bool]] = {
    "Epic": ("10000", 1, False), "Story": ("10001", 0, False), "Task": ("10002", 0, False),
    "Bug": ("10003", 0, False), "Visit": ("10004", 0, False), "Deal": ("10005", 0, False),
    "Sub-task": ("10006", -1, True),
}
PRIORITIES = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
RESOLUTIONS = {"Done": "10000", "Won't Do": "10001", "Duplicate": "10002", "Cannot Reproduce": "10003"}



def stable_id(name: str, base: int) -> str:
    """A numeric id for a name with no registered id (stable across runs)."""
    return str(base + zlib.crc32(name.encode("utf-8")) % 9000)


def jira_timestamp(moment: datetime | None) -> str | None:
    """Jira's timestamp style: `2026-05-01T12:00:00.000+0000` (rendered in UTC)."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    utc = aware.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def jira_date(day: date | None) -> str | None:
    """Jira's date style: `2026-05-01`."""
    return day.isoformat() if day else None


@dataclass(frozen=True)
class Render:
    """What shapes the JSON: the base URL, the API version in links, the deployment."""

    state: SandboxState
    base_url: str           # without trailing slash
    api: str                # "2" or "3"

    @property
    def cloud(self) -> bool:
        """Whether the sandbox plays Jira Cloud."""
        return self.state.deployment == "cloud"

    @property
    def rest(self) -> str:
        """`<base>/rest/api/<version>` for self links."""
        return f"{self.base_url}/rest/api/{self.api}"


def avatar_urls(render: Render, seed: str) -> dict[str, str]:
    """The four avatar sizes Jira lists for users and projects."""
    return {size: f"{render.base_url}/secure/useravatar?size={size}&avatarId={seed}"
            for size in ("48x48", "24x24", "16x16", "32x32")}


def user_json(user: User, render: Render) -> dict[str, Any]:
    """A user as Jira lists it (UserDetails): accountId on Cloud, name/key on Data Center."""
    data: dict[str, Any]
    if render.cloud:
        data = {
            "self": f"{render.rest}/user?accountId={user.account_id}",
            "accountId": user.account_id,
            "accountType": "atlassian",
        }
    else:
        data = {"self": f"{render.rest}/user?username={user.login}", "name": user.login, "key": user.login}
    data.update({
        "emailAddress": user.email,
        "avatarUrls": avatar_urls(render, user.account_id),
        "displayName": user.display_name,
        "active": user.active,
        "timeZone": user.time_zone,
    })
    return data


def status_id(name: str) -> str:
    """A status's id (registered, else stable per name)."""
    return STATUS_IDS.get(name) or stable_id(name, 11000)


def status_json(name: str, category: str, render: Render) -> dict[str, Any]:
    """A status with its category (`key`, `name`, `colorName`), as in an issue's fields."""
    identifier = status_id(name)
    cat_id, cat_name, color = STATUS_CATEGORIES.get(category, STATUS_CATEGORIES["new"])
    return {
        "self": f"{render.rest}/status/{identifier}",
        "description": "",
        "iconUrl": f"{render.base_url}/images/icons/statuses/generic.png",
        "name": name,
        "id": identifier,
        "statusCategory": {
            "self": f"{render.rest}/statuscategory/{cat_id}",
            "id": cat_id, "key": category, "colorName": color, "name": cat_name,
        },
    }


def issuetype_json(name: str, render: Render) -> dict[str, Any]:
    """An issue type."""
    type_id, level, subtask = ISSUE_TYPES.get(name, (stable_id(name, 12000), 0, False))
    return {
        "self": f"{render.rest}/issuetype/{type_id}", "id": type_id, "description": "",
        "iconUrl": f"{render.base_url}/images/icons/issuetypes/{name.lower()}.svg",
        "name": name, "subtask": subtask, "hierarchyLevel": level,
    }


def project_json(key: str, render: Render) -> dict[str, Any]:
    """A project reference as an issue's `project` field shows it."""
    project = render.state.projects.get(key) or Project(key, stable_id(key, 13000), key)
    return {
        "self": f"{render.rest}/project/{project.id}", "id": project.id, "key": project.key,
        "name": project.name, "projectTypeKey": project.project_type, "simplified": False,
        "avatarUrls": avatar_urls(render, project.id),
    }


def named_json(kind: str, name: str, ids: dict[str, str], base: int, render: Render) -> dict[str, Any]:
    """A named Jira object (priority, resolution, component, version) with a self link."""
    item_id = ids.get(name) or stable_id(name, base)
    return {"self": f"{render.rest}/{kind}/{item_id}", "id": item_id, "name": name}
