"""The Jira side of the sandbox: mounts the Jira REST blueprints and Jira-shaped error answers.

Endpoints live in `jira_search.py` (search, counts, epic issues), `jira_issues.py` (issues, remote
links, properties), `jira_comments.py` (issue comments), `jira_users.py` (users, groups, myself,
serverInfo) and `jira_fields.py` (fields).
"""

from __future__ import annotations

from flask import Flask, Response

from sandbox import jira_comments, jira_fields, jira_issues, jira_search, jira_users
from sandbox.errors import JiraError, jira_error


def register(app: Flask) -> None:
    """Mount every Jira endpoint on `app` and answer `JiraError` in Jira's error shape."""
    app.register_blueprint(jira_search.bp)
    app.register_blueprint(jira_issues.bp)
    app.register_blueprint(jira_comments.bp)
    app.register_blueprint(jira_users.bp)
    app.register_blueprint(jira_fields.bp)

    @app.errorhandler(JiraError)
    def jira_failure(error: JiraError) -> Response:
        """`{"errorMessages": [...], "errors": {...}}` with the error's status."""
        return jira_error(error.status, *error.messages, errors=error.errors)
