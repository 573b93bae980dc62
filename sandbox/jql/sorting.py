"""ORDER BY: one key function per sort field, returning None for an empty value.

`Query.sort` places None after every other value (before, descending), so the functions here only
need to say how non-empty values of each field kind compare.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from typing import Any

from sandbox.jql.context import JqlContext
from sandbox.jql.errors import JqlError
from sandbox.jql.fields import FieldDef, Kind, resolve_field
from sandbox.jql.functions import as_utc
from sandbox.jql.nodes import SortKey
from sandbox.jql.predicates import custom_getter, lowered
from sandbox.jql.values import PRIORITY_RANK, key_parts
from sandbox.model import Issue, User

SortSpec = tuple[Callable[[Issue], Any], bool]  # (key function returning None for empty, descending)

_CATEGORY_ORDER = {"new": 0, "indeterminate": 1, "done": 2}


def sort_specs(ctx: JqlContext, keys: Iterable[SortKey]) -> list[SortSpec]:
    """Key functions for ORDER BY; empty values come back as None (sorted as the largest)."""
    specs: list[SortSpec] = []
    for sort_key in keys:
        definition = resolve_field(sort_key.field, ctx.custom_fields)
        if not definition.sortable:
            raise JqlError(f"Not able to sort using field '{sort_key.field.name}'.")
        descending = (
            definition.descending_by_default if sort_key.ascending is None else not sort_key.ascending
        )
        specs.append((_sort_value(definition, ctx.users), descending))
    return specs


def _sort_value(definition: FieldDef, users: Mapping[str, User]) -> Callable[[Issue], Any]:
    """How one field orders issues."""
    kind = definition.kind
    attr = definition.attr
    if kind is Kind.KEY:
        return lambda issue: key_parts(issue.key)
    if kind is Kind.ISSUE_REF:
        getter = attrgetter(attr)
        return lambda issue: key_parts(value) if (value := getter(issue)) else None
    if kind is Kind.PRIORITY:
        return lambda issue: PRIORITY_RANK.get(issue.priority.lower(), 0) if issue.priority else None
    if kind is Kind.STATUS_CATEGORY:
        return lambda issue: _CATEGORY_ORDER.get(issue.status_category, 3)
    if kind is Kind.USER:
        user_getter = attrgetter(attr)

        def user_name(issue: Issue) -> str | None:
            """Users sort by display name, as Jira shows them."""
            account = user_getter(issue)
            if not account:
                return None
            user = users.get(account)
            return (user.display_name if user else account).lower()

        return user_name
    if kind is Kind.MULTI:
        list_getter = attrgetter(attr)
        return lambda issue: (
            tuple(sorted(v.lower() for v in values)) if (values := list_getter(issue)) else None
        )
    if kind is Kind.DATETIME:
        moment_getter = attrgetter(attr)
        return lambda issue: as_utc(value) if (value := moment_getter(issue)) is not None else None
    if kind is Kind.DATE:
        return attrgetter(attr)
    if kind is Kind.NUMBER:
        return custom_getter(attr)
    return lowered(attr)  # project, names, summary
