"""Jira user and instance endpoints: a user's groups, a group's members, myself, serverInfo."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request

from sandbox.auth import groups_of, require_admin
from sandbox.errors import JiraError
from sandbox.jira_common import int_param, query_list, render_for, signed_in
from sandbox.jira_format import Render, jira_timestamp, user_json
from sandbox.model import User
from sandbox.state import current_state

bp = Blueprint("jira_users", __name__)

USER_NOT_FOUND = "Specified user does not exist or you do not have required permissions"
GROUP_PAGE_MAX = 50
_GROUP_NAMESPACE = uuid.UUID("6b1e1c53-3a4e-4a55-9a0f-6f6b72627269")


def group_id(name: str) -> str:
    """A stable UUID per group name (Cloud identifies groups by `groupId`)."""
    return str(uuid.uuid5(_GROUP_NAMESPACE, name))


def group_json(name: str, render: Render) -> dict[str, Any]:
    """A group reference (GroupName): `groupId` on Cloud only."""
    data: dict[str, Any] = {"name": name}
    if render.cloud:
        gid = group_id(name)
        data["groupId"] = gid
        data["self"] = f"{render.rest}/group?groupId={gid}"
    else:
        data["self"] = f"{render.rest}/group?groupname={name}"
    return data


def _lookup_user() -> User:
    """The user named by `accountId` (Cloud) or `username`/`key` (Data Center)."""
    state = current_state()
    if state.deployment == "cloud":
        account_id = request.args.get("accountId")
        if not account_id:
            raise JiraError(400, "The accountId query parameter needs to be provided.")
        user = state.users.get(account_id)
    else:
        login = request.args.get("username") or request.args.get("key")
        if not login:
            raise JiraError(400, "The username query parameter needs to be provided.")
        user = state.user_by_login(login)
    if user is None:
        raise JiraError(404, USER_NOT_FOUND)
    return user


@bp.route("/rest/api/<version>/user/groups", methods=["GET"])
def user_groups(version: str) -> Response:
    """The groups a user belongs to."""
    render = render_for(version)
    user = _lookup_user()
    return jsonify([group_json(name, render) for name in groups_of(render.state, user)])


def _group_name() -> str:
    """The group a request names, by `groupname` or (Cloud) `groupId`."""
    state = current_state()
    name = request.args.get("groupname")
    gid = request.args.get("groupId")
    if name and gid:
        raise JiraError(400, "You must provide either a group name or a group ID, not both.")
    if gid and state.deployment == "cloud":
        name = next((n for n in state.groups if group_id(n) == gid), None)
        if name is None:
            raise JiraError(404, f"Group with id '{gid}' does not exist.")
    if not name:
        raise JiraError(400, "You must provide a group name or a group ID.")
    if name not in state.groups:
        raise JiraError(404, f"Group '{name}' does not exist.")
    return name


@bp.route("/rest/api/<version>/group/member", methods=["GET"])
def group_members(version: str) -> Response:
    """A page of a group's members (administrators only, as Jira requires)."""
    render = render_for(version)
    require_admin()
    name = _group_name()
    include_inactive = request.args.get("includeInactiveUsers", "false").lower() == "true"
    start_at = max(0, int_param(request.args.get("startAt"), "startAt", 0))
    max_results = int_param(request.args.get("maxResults"), "maxResults", GROUP_PAGE_MAX)
    max_results = min(max(max_results, 1), GROUP_PAGE_MAX)
    state = render.state
    members = [state.users[a] for a in state.groups[name] if a in state.users]
    members = [u for u in members if include_inactive or u.active]
    members.sort(key=lambda u: u.display_name.lower())
    page = members[start_at: start_at + max_results]
    end = start_at + len(page)

    def page_url(start: int) -> str:
        """The URL of the page starting at `start`."""
        query = {"groupname": name, "includeInactiveUsers": str(include_inactive).lower(),
                 "startAt": start, "maxResults": max_results}
        return f"{render.rest}/group/member?{urlencode(query)}"

    body: dict[str, Any] = {
        "self": page_url(start_at), "maxResults": max_results, "startAt": start_at,
        "total": len(members), "isLast": end >= len(members),
        "values": [user_json(u, render) for u in page],
    }
    if end < len(members):
        body["nextPage"] = page_url(end)
    return jsonify(body)


def _user_with_groups(user: User, render: Render) -> Response:
    """A user as Jira's user resource; `expand=groups` fills in the groups, as Jira does."""
    data = user_json(user, render)
    data["locale"] = "en_US"
    expand = set(query_list("expand"))
    groups = [group_json(name, render) for name in groups_of(render.state, user)]
    data["groups"] = {"size": len(groups), "items": groups if "groups" in expand else []}
    data["applicationRoles"] = {"size": 1, "items": []}
    data["expand"] = "groups,applicationRoles"
    return jsonify(data)


@bp.route("/rest/api/<version>/myself", methods=["GET"])
def myself(version: str) -> Response:
    """The signed-in user; `expand=groups` adds the groups, `applicationRoles` the roles."""
    return _user_with_groups(signed_in(), render_for(version))


@bp.route("/rest/api/<version>/user", methods=["GET"])
def user(version: str) -> Response:
    """A user by `accountId` (Cloud) or `username`/`key` (Data Center); how DC lists a user's groups."""
    render = render_for(version)
    return _user_with_groups(_lookup_user(), render)


@bp.route("/rest/api/<version>/serverInfo", methods=["GET"])
def server_info(version: str) -> Response:
    """The instance: `deploymentType` "Cloud", or "Server" for Data Center (as real DC reports)."""
    render = render_for(version)
    state = render.state
    now = jira_timestamp(state.now())
    built = jira_timestamp(datetime(2026, 1, 12, tzinfo=UTC))
    if render.cloud:
        data: dict[str, Any] = {
            "baseUrl": render.base_url, "displayUrl": render.base_url,
            "displayUrlConfluence": f"{render.base_url}/wiki",
            "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud", "buildNumber": 100300, "buildDate": built,
            "serverTime": now, "scmInfo": "0f3a5c1d2e4b6a7980c1d2e3f4a5b6c7d8e9f0a1",
            "serverTitle": "okrbridge sandbox", "serverTimeZone": "Etc/UTC",
        }
    else:
        data = {
            "baseUrl": render.base_url, "version": "9.12.15", "versionNumbers": [9, 12, 15],
            "deploymentType": state.dc_deployment_type, "buildNumber": 9120015, "buildDate": built,
            "serverTime": now, "scmInfo": "5d2f1e0c9b8a7f6e5d4c3b2a19080706f5e4d3c2",
            "serverTitle": "okrbridge sandbox (Data Center)",
        }
    return jsonify(data)
