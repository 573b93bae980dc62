"""The sandbox's JQL engine: parse Jira Query Language and evaluate it over sandbox issues.

    query = parse('project = SALES AND statusCategory = Done ORDER BY resolved DESC')
    query.validate(ctx)                    # JqlError for unknown fields/functions/users/groups
    hits = search(state.issues.values(), jql, ctx)

Parsing is cached per text; compiling is cached per (query, context object). See `evaluate` for
the Jira semantics mirrored and `functions` for dates. `Query.project_restriction()` names the
projects a query cannot leave, so a caller holding issues by `fold_project(issue.project)` can
filter only those (passing all keys as `existing_keys`).
"""

from sandbox.jql.context import JqlContext
from sandbox.jql.engine import search
from sandbox.jql.errors import JqlError
from sandbox.jql.parser import parse
from sandbox.jql.query import Query, fold_project

__all__ = ["JqlContext", "JqlError", "Query", "fold_project", "parse", "search"]
