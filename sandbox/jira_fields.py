"""GET /rest/api/{2,3}/field: the system and custom fields, as Jira lists them (FieldDetails).

Clients resolve a field NAME ("Story Points") to its id here before reading the field. Cloud and
Data Center list the same fields in the same shape, except that Cloud adds `key` (equal to the id)
and Data Center does not. Custom fields carry their JQL clause names (`cf[10016]` and the name) and
a schema naming the custom type.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from sandbox.jira_common import render_for
from sandbox.jira_format import EPIC_LINK_FIELD, Render
from sandbox.model import CustomField

bp = Blueprint("jira_fields", __name__)

NUMBER_FIELD = "com.atlassian.jira.plugin.system.customfieldtypes:float"
EPIC_LINK_TYPE = "com.pyxis.greenhopper.jira:gh-epic-link"

# id -> (name, schema type, schema items, JQL clause names, orderable)
SYSTEM_FIELDS: dict[str, tuple[str, str, str | None, tuple[str, ...], bool]] = {
    "summary": ("Summary", "string", None, ("summary",), True),
    "description": ("Description", "string", None, ("description",), True),
    "issuetype": ("Issue Type", "issuetype", None, ("issuetype", "type"), True),
    "project": ("Project", "project", None, ("project",), False),
    "status": ("Status", "status", None, ("status",), False),
    "resolution": ("Resolution", "resolution", None, ("resolution",), True),
    "priority": ("Priority", "priority", None, ("priority",), True),
    "assignee": ("Assignee", "user", None, ("assignee",), True),
    "reporter": ("Reporter", "user", None, ("reporter",), True),
    "labels": ("Labels", "array", "string", ("labels",), True),
    "components": ("Components", "array", "component", ("component",), True),
    "fixVersions": ("Fix versions", "array", "version", ("fixVersion",), True),
    "parent": ("Parent", "issuelink", None, ("parent",), True),
    "created": ("Created", "datetime", None, ("created", "createdDate"), False),
    "updated": ("Updated", "datetime", None, ("updated", "updatedDate"), False),
    "resolutiondate": ("Resolved", "datetime", None, ("resolutiondate", "resolved"), False),
    "duedate": ("Due date", "date", None, ("due", "duedate"), True),
    "timeoriginalestimate": ("Original estimate", "number", None, ("originalEstimate",), False),
}


def _system_json(field_id: str, render: Render) -> dict[str, Any]:
    """One system field's FieldDetails."""
    name, kind, items, clauses, orderable = SYSTEM_FIELDS[field_id]
    schema: dict[str, Any] = {"type": kind, "system": field_id}
    if items:
        schema["items"] = items
    data: dict[str, Any] = {"id": field_id, "name": name, "custom": False, "orderable": orderable,
                            "navigable": True, "searchable": True, "clauseNames": list(clauses),
                            "schema": schema}
    if render.cloud:
        data["key"] = field_id
    return data


def _custom_json(field_id: str, name: str, kind: str, custom_type: str, render: Render) -> dict[str, Any]:
    """One custom field's FieldDetails: clause names `cf[N]` and the name, the custom type in its schema."""
    number = int(field_id.rsplit("_", 1)[1])
    data: dict[str, Any] = {"id": field_id, "name": name, "custom": True, "orderable": True,
                            "navigable": True, "searchable": True, "clauseNames": [f"cf[{number}]", name],
                            "schema": {"type": kind, "custom": custom_type, "customId": number}}
    if render.cloud:
        data["key"] = field_id
    return data


def fields_json(custom_fields: list[CustomField], render: Render) -> list[dict[str, Any]]:
    """Every field the sandbox knows: system fields, Epic Link, then its numeric custom fields."""
    listed = [_system_json(field_id, render) for field_id in SYSTEM_FIELDS]
    listed.append(_custom_json(EPIC_LINK_FIELD, "Epic Link", "any", EPIC_LINK_TYPE, render))
    listed += [_custom_json(f.id, f.name, "number", NUMBER_FIELD, render) for f in custom_fields]
    return listed


@bp.route("/rest/api/<version>/field", methods=["GET"])
def get_fields(version: str) -> Response:
    """GET /field: a JSON array of FieldDetails (no paging: Jira lists them all)."""
    render = render_for(version)
    return jsonify(fields_json(list(render.state.custom_fields), render))
