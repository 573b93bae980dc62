"""`search`: the one call the sandbox's REST layer needs."""

from __future__ import annotations

from collections.abc import Container, Iterable

from sandbox.jql.context import JqlContext
from sandbox.jql.errors import JqlError
from sandbox.jql.parser import parse
from sandbox.model import Issue


def search(issues: Iterable[Issue], jql: str, ctx: JqlContext, *,
           existing_keys: Container[str] | None = None) -> list[Issue]:
    """Parse, validate, filter and sort. Raises JqlError (Jira's message) instead of returning.

    Besides `Query.validate`, this checks that issue keys named in `key`/`issuekey` clauses exist
    among `issues`, as Jira refuses `key = NOPE-1` ("An issue with key ... does not exist ...").
    A caller that passes only some candidates as `issues` (say those of
    `Query.project_restriction()`) passes the upper-cased keys of all issues as `existing_keys`.
    """
    query = parse(jql)
    compiled = query.compile(ctx)
    query.sort_specs(ctx)  # ORDER BY errors surface before any filtering, as in Jira
    pool = issues if isinstance(issues, list) else list(issues)
    if compiled.referenced_keys:
        existing = {issue.key.upper() for issue in pool} if existing_keys is None else existing_keys
        missing = [JqlError(f"An issue with key '{key}' does not exist for field '{field_name}'.")
                   for key, field_name in compiled.referenced_keys if key.upper() not in existing]
        if missing:
            raise JqlError.of(missing)
    predicate = compiled.predicate
    return query.sort([issue for issue in pool if predicate(issue)], ctx)
