"""Remote links on Jira issues: read, upsert by globalId, delete — the connector's only writes.

`JiraConnection.remote_links`, `upsert_remote_link` and `delete_remote_link` delegate here. Both
deployments serve the same resource, /rest/api/{3,2}/issue/{key}/remotelink, so nothing here depends
on which one the `JiraSite` talks to.
"""

from __future__ import annotations

import logging
from typing import Any

from connectors.jira_models import JiraAuthError, JiraError, RemoteLink
from connectors.jira_site import JiraSite, check_key, expect_key

# Logged under connectors.jira, where these lines were before the split, so that logging set up for
# the Jira connector keeps covering them.
log = logging.getLogger("connectors.jira")


def remote_links(site: JiraSite, key: str, global_id_prefix: str | None = None) -> list[RemoteLink]:
    """The issue's remote links, optionally only those whose globalId starts with the prefix."""
    key = check_key(key)
    client = site.resolve()[1]
    data = site.call(lambda: client.get_issue_remote_links(key), what=f"reading remote links of {key}")
    items = data if isinstance(data, list) else []
    links = [_remote_link(item) for item in items if isinstance(item, dict)]
    if global_id_prefix is not None:
        links = [link for link in links if (link.global_id or "").startswith(global_id_prefix)]
    return links


def upsert_remote_link(site: JiraSite, key: str, global_id: str, url: str, title: str,
                       summary: str | None = None, icon_url: str | None = None,
                       status_resolved: bool | None = None, relationship: str | None = None) -> str:
    """Create or update (by `global_id`) a remote link on the issue; return the link's id.

    Jira's POST with a globalId is itself the upsert, so one request does it, and a re-sync
    updates the link in place. Being an upsert, it is retried like an idempotent write.
    """
    key = check_key(key)
    if not global_id or len(global_id) > 255:
        raise ValueError("global_id must be 1 to 255 characters (Jira's limit)")
    obj: dict[str, Any] = {"url": url, "title": title}
    if summary is not None:
        obj["summary"] = summary
    if icon_url is not None:
        obj["icon"] = {"url16x16": icon_url}
    if status_resolved is not None:
        obj["status"] = {"resolved": bool(status_resolved)}
    payload: dict[str, Any] = {"globalId": global_id, "object": obj}
    if relationship:
        payload["relationship"] = relationship
    client = site.resolve()[1]
    path = client.resource_url(f"issue/{key}/remotelink")
    data = site.call(lambda: client.post(path, data=payload), what=f"writing a remote link on {key}")
    link_id = expect_key(data, "id", site.url, what=f"writing a remote link on {key}")
    return str(link_id)


def delete_remote_link(site: JiraSite, key: str, global_id: str) -> None:
    """Delete the issue's remote link with this globalId; a link (or issue) already gone is fine."""
    key = check_key(key)
    if not global_id:
        raise ValueError("global_id is required")
    client = site.resolve()[1]
    path = client.resource_url(f"issue/{key}/remotelink")
    try:
        site.call(lambda: client.delete(path, params={"globalId": global_id}),
                  what=f"deleting a remote link on {key}")
    except JiraError as exc:
        if exc.status != 404 or isinstance(exc, JiraAuthError):
            raise
        log.debug("remote link %s on %s was already gone", global_id, key)


def _remote_link(item: dict[str, Any]) -> RemoteLink:
    """A RemoteLink from Jira's RemoteIssueLink JSON."""
    obj = item.get("object") or {}
    icon = obj.get("icon") or {}
    status = obj.get("status") or {}
    resolved = status.get("resolved")
    return RemoteLink(id=str(item.get("id", "")), global_id=item.get("globalId"),
                      url=str(obj.get("url", "")), title=str(obj.get("title", "")),
                      summary=obj.get("summary"), icon_url=icon.get("url16x16"),
                      status_resolved=resolved if isinstance(resolved, bool) else None,
                      relationship=item.get("relationship"))
