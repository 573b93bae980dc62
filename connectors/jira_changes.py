"""What Jira says about change: its clock, the account's time zone, and which projects' issues were
updated lately. The steady-state sync asks these before deciding which counts to re-ask.

| question          | both deployments                                                   |
|-------------------|--------------------------------------------------------------------|
| Jira's clock      | GET /rest/api/{2,3}/serverInfo → `serverTime`                      |
| account time zone | GET /rest/api/{2,3}/myself → `timeZone` (calendar JQL functions use it) |
| updated lately    | search `updated >= -Nm`, field `project` (keys, names and ids)      |

Relative dates in JQL are measured from Jira's own now, so the "updated since" question does not
depend on okrbridge's clock, nor on the account's time zone (which absolute JQL dates would).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.jira_models import JiraError
from connectors.jira_site import JiraSite, describe_json


@dataclass(frozen=True)
class UpdatedProjects:
    """The projects (key, name and id of each, as Jira gave them) of the issues updated in a window;
    `complete` is False when more issues were updated than the caller wanted to read."""

    projects: frozenset[str]
    complete: bool
    issues: int


def _object(data: Any, site: JiraSite, what: str) -> dict[str, Any]:
    """`data` when it is a JSON object, else a JiraError naming what came back."""
    if not isinstance(data, dict):
        raise JiraError(None, [f"expected a JSON object, got {describe_json(data)}"], site.url, context=what)
    return data


def server_time(site: JiraSite) -> datetime:
    """Jira's current time (aware), from serverInfo's `serverTime` (`2026-05-01T12:00:00.000+0000`)."""
    what = "reading Jira's clock from serverInfo"
    client = site.resolve()[1]
    info = _object(site.call(lambda: client.get(client.resource_url("serverInfo")), what=what), site, what)
    text = str(info.get("serverTime") or "")
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        raise JiraError(None, [f"serverTime {text!r} is not a Jira timestamp"], site.url,
                        context=what) from None
    return moment


def time_zone(site: JiraSite) -> str:
    """The signed-in account's time zone (an IANA name), in which Jira evaluates startOfDay() & co."""
    what = "reading okrbridge's account (myself) for its time zone"
    client = site.resolve()[1]
    data = _object(site.call(lambda: client.get(client.resource_url("myself")), what=what), site, what)
    zone = data.get("timeZone")
    if not isinstance(zone, str) or not zone:
        raise JiraError(None, ["myself has no timeZone"], site.url, context=what)
    return zone


def updated_projects(issues: Callable[[str, Iterable[str]], Iterable[dict[str, Any]]], minutes: int,
                     limit: int) -> UpdatedProjects:
    """The projects of the issues updated in the last `minutes` (Jira's clock), reading at most
    `limit` issues (`issues` is the connection's paged search)."""
    if minutes < 1 or limit < 1:
        raise ValueError("minutes and limit must be at least 1")
    found: set[str] = set()
    count = 0
    for issue in issues(f"updated >= -{minutes}m", ("project",)):
        count += 1
        if count > limit:
            return UpdatedProjects(frozenset(found), complete=False, issues=count - 1)
        project = (issue.get("fields") or {}).get("project") or {}
        if isinstance(project, dict):
            found.update(str(project[k]).casefold() for k in ("key", "name", "id") if project.get(k))
    return UpdatedProjects(frozenset(found), complete=True, issues=count)
