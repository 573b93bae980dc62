"""What a JQL evaluation needs to know besides the issues: clock, caller, users, groups, fields."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sandbox.model import CustomField, User


@dataclass
class JqlContext:
    """One search's surroundings. Treat it as immutable once handed to the engine: compiled queries
    are cached per context object.

    `known_values` is optional: when it holds a field's values (keys `project`, `issuetype`,
    `status`, `priority`, `resolution`, `component`, `fixVersion`, `labels`; any case), a value
    outside them is refused as Jira refuses unknown projects or statuses. Fields absent from it are
    not checked, since the sandbox cannot know which statuses a workflow has without being told.

    `deployment` decides how a user is named in a query, as each Jira does: Cloud takes accountIds
    (and emails or display names) and refuses Data Center user names; Data Center takes user names
    (and emails or full names) and has no accountIds. Inside the engine users are accountIds.
    """

    now: datetime                                    # the sandbox clock (aware UTC)
    current_user: str | None                         # accountId of the caller
    users: Mapping[str, User]                        # by accountId
    groups: Mapping[str, Sequence[str]]              # group -> accountIds (membersOf)
    custom_fields: Sequence[CustomField]
    time_zone: str = "UTC"
    known_values: Mapping[str, Collection[str]] = field(default_factory=dict)
    deployment: str = "cloud"
