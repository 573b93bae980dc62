"""Which JQL field names exist, what kind of value each holds, and which operators each accepts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from sandbox.jql.errors import JqlError
from sandbox.jql.nodes import FieldRef
from sandbox.model import CustomField


class Kind(Enum):
    """How a field's values are compared."""

    KEY = "key"                      # issue key or numeric id
    PROJECT = "project"              # project key, case-insensitive
    NAME = "name"                    # one named value: issuetype, status, resolution
    PRIORITY = "priority"            # a name with an order (priority > Medium)
    STATUS_CATEGORY = "statusCategory"
    USER = "user"                    # an accountId
    MULTI = "multi"                  # several names: labels, components, fix versions
    ISSUE_REF = "issue_ref"          # another issue's key: parent, Epic Link
    TEXT = "text"                    # searched with ~ only
    DATETIME = "datetime"
    DATE = "date"                    # date without time: duedate
    NUMBER = "number"                # numeric custom field


EQUALITY = frozenset({"=", "!=", "in", "not in", "is", "is not"})
ORDERING = frozenset({">", ">=", "<", "<="})
OPERATORS: dict[Kind, frozenset[str]] = {
    Kind.KEY: EQUALITY | ORDERING,
    Kind.PROJECT: EQUALITY,
    Kind.NAME: EQUALITY,
    Kind.PRIORITY: EQUALITY | ORDERING,
    Kind.STATUS_CATEGORY: EQUALITY,
    Kind.USER: EQUALITY,
    Kind.MULTI: EQUALITY,
    Kind.ISSUE_REF: EQUALITY,
    Kind.TEXT: frozenset({"~", "!~", "is", "is not"}),
    Kind.DATETIME: EQUALITY | ORDERING,
    Kind.DATE: EQUALITY | ORDERING,
    Kind.NUMBER: EQUALITY | ORDERING,
}


@dataclass(frozen=True)
class FieldDef:
    """A resolved field: `canonical` is Jira's id-like name, `attr` the Issue attribute read (or
    the `customfield_NNNNN` id for custom fields)."""

    canonical: str
    kind: Kind
    attr: str
    history: bool = False          # Jira supports WAS/CHANGED on it
    sortable: bool = True
    descending_by_default: bool = False


_SYSTEM: tuple[tuple[tuple[str, ...], FieldDef], ...] = (
    (("project",), FieldDef("project", Kind.PROJECT, "project")),
    (("key", "issuekey", "issue", "id"), FieldDef("issuekey", Kind.KEY, "key")),
    (("issuetype", "type"), FieldDef("issuetype", Kind.NAME, "issuetype")),
    (("status",), FieldDef("status", Kind.NAME, "status", history=True)),
    (("statuscategory",), FieldDef("statusCategory", Kind.STATUS_CATEGORY, "status_category")),
    (("resolution",), FieldDef("resolution", Kind.NAME, "resolution", history=True)),
    (("labels", "label"), FieldDef("labels", Kind.MULTI, "labels")),
    (("assignee",), FieldDef("assignee", Kind.USER, "assignee", history=True)),
    (("reporter",), FieldDef("reporter", Kind.USER, "reporter", history=True)),
    (("priority",), FieldDef("priority", Kind.PRIORITY, "priority", history=True)),
    (("component", "components"), FieldDef("component", Kind.MULTI, "components")),
    (("fixversion", "fixversions"), FieldDef("fixVersion", Kind.MULTI, "fix_versions", history=True)),
    (("parent",), FieldDef("parent", Kind.ISSUE_REF, "parent")),
    (("epic link",), FieldDef("Epic Link", Kind.ISSUE_REF, "epic_link")),
    (("summary",), FieldDef("summary", Kind.TEXT, "summary")),
    (("description",), FieldDef("description", Kind.TEXT, "description", sortable=False)),
    (("text",), FieldDef("text", Kind.TEXT, "text", sortable=False)),
    (("created", "createddate"), FieldDef("created", Kind.DATETIME, "created", descending_by_default=True)),
    (("updated", "updateddate"), FieldDef("updated", Kind.DATETIME, "updated", descending_by_default=True)),
    (
        ("resolved", "resolutiondate"),
        FieldDef("resolutiondate", Kind.DATETIME, "resolved", descending_by_default=True),
    ),
    (("duedate", "due"), FieldDef("duedate", Kind.DATE, "duedate")),
)
SYSTEM_FIELDS: dict[str, FieldDef] = {
    alias: definition for aliases, definition in _SYSTEM for alias in aliases
}


def unknown_field(ref: FieldRef) -> JqlError:
    """Jira's answer for a field it does not know (or hides)."""
    return JqlError(f"Field '{ref.name}' does not exist or you do not have permission to view it.")


def system_field(ref: FieldRef) -> FieldDef | None:
    """The system field `ref` names (case and runs of spaces ignored), or None for `cf[N]` and
    anything else. System names win over custom fields of the same name, so no context is needed."""
    if ref.cf_number is not None:
        return None
    return SYSTEM_FIELDS.get(" ".join(ref.name.split()).lower())


def resolve_field(ref: FieldRef, custom_fields: Sequence[CustomField]) -> FieldDef:
    """The definition behind a field reference: system names first (case-insensitive), then custom
    fields by `cf[N]`, by `customfield_N` or by name."""
    if ref.cf_number is not None:
        for custom in custom_fields:
            if custom.number == ref.cf_number:
                return FieldDef(custom.id, Kind.NUMBER, custom.id)
        raise unknown_field(ref)
    system = system_field(ref)
    if system is not None:
        return system
    lowered = " ".join(ref.name.split()).lower()
    for custom in custom_fields:
        if custom.id.lower() == lowered or custom.name.lower() == lowered:
            return FieldDef(custom.id, Kind.NUMBER, custom.id)
    raise unknown_field(ref)


def check_operator(definition: FieldDef, ref: FieldRef, op: str) -> None:
    """Refuse an operator the field does not take, in Jira's words."""
    if op not in OPERATORS[definition.kind]:
        raise JqlError(f"The operator '{op}' is not supported by the '{ref.name}' field.")
