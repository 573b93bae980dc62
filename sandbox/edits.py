"""People's edits to the sandbox's Jira, as Jira records them: create, edit, transition, delete and
move issues. Each edit except a delete sets the issue's `updated` to the sandbox's now, as Jira does;
a delete leaves no trace (Jira keeps no tombstone a search could find).

Tests of the steady-state sync use these to change the world between two syncs; they are also what
a script driving the sandbox in-process would call.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from sandbox.model import Issue, StatusChange
from sandbox.seed_issues import CATEGORY
from sandbox.state import SandboxState


def _next_number(state: SandboxState, project: str) -> int:
    """The next free issue number in `project`."""
    numbers = [int(key.rsplit("-", 1)[1]) for key in state.issues if key.startswith(f"{project}-")]
    return max(numbers, default=0) + 1


def create_issue(state: SandboxState, project: str, issuetype: str, summary: str, *,
                 status: str = "To Do", **fields: Any) -> Issue:
    """A new issue in `project` (created and updated now); `fields` are any other `Issue` fields."""
    with state.lock:
        now = state.now()
        key = f"{project}-{_next_number(state, project)}"
        issue_id = str(max((int(i.id) for i in state.issues.values()), default=10000) + 1)
        done = CATEGORY[status] == "done"
        issue = Issue(id=issue_id, key=key, project=project, issuetype=issuetype, summary=summary,
                      status=status, status_category=CATEGORY[status], created=now, updated=now,
                      resolution="Done" if done else None, resolved=now if done else None,
                      history=[StatusChange(now, None, status)], **fields)
        state.issues = {**state.issues, key: issue}
        state.touch()
        return issue


def edit_issue(state: SandboxState, key: str, **changes: Any) -> Issue:
    """Change fields of an issue (a summary, labels, a custom field, …); `updated` becomes now."""
    with state.lock:
        issue = dataclasses.replace(state.issues[key], **changes, updated=state.now())
        state.issues = {**state.issues, key: issue}
        state.touch()
        return issue


def transition(state: SandboxState, key: str, status: str) -> Issue:
    """Move an issue to `status`, with its history, resolution and `updated`, as a workflow does."""
    with state.lock:
        issue = state.issues[key]
        now = state.now()
        done = CATEGORY[status] == "done"
        return edit_issue(state, key, status=status, status_category=CATEGORY[status],
                          resolution="Done" if done else None, resolved=now if done else None,
                          history=[*issue.history, StatusChange(now, issue.status, status)])


def delete_issue(state: SandboxState, key: str) -> None:
    """Delete an issue (and its remote links); nothing records when."""
    with state.lock:
        state.issues = {k: v for k, v in state.issues.items() if k != key}
        state.remote_links.pop(key, None)
        state.touch()


def move_issue(state: SandboxState, key: str, project: str) -> Issue:
    """Move an issue to another project: it gets a key there, and `updated` becomes now."""
    with state.lock:
        issue = state.issues[key]
        new_key = f"{project}-{_next_number(state, project)}"
        moved = dataclasses.replace(issue, key=new_key, project=project, updated=state.now())
        state.issues = {**{k: v for k, v in state.issues.items() if k != key}, new_key: moved}
        state.touch()
        return moved


def churn(state: SandboxState, share: float, seed: int) -> dict[str, int]:
    """Change about `share` of the issues, as a busy hour of people would: most of them move along
    their workflow (a status change, which updates them), some get a new sibling (an issue created
    in the same project with the same type), a few are deleted. Repeatable for the same seed and
    world. Returns how many of each."""
    if not 0 <= share <= 1:
        raise ValueError("share must be between 0 and 1")
    rng = random.Random(seed)
    with state.lock:
        keys = sorted(state.issues)
        picked = rng.sample(keys, k=min(len(keys), round(len(keys) * share)))
        done = {"transitioned": 0, "created": 0, "deleted": 0}
        for key in picked:
            roll = rng.random()
            issue = state.issues.get(key)
            if issue is None:
                continue
            if roll < 0.6:
                transition(state, key, "In Progress" if issue.status_category == "done" else "Done")
                done["transitioned"] += 1
            elif roll < 0.9:
                create_issue(state, issue.project, issue.issuetype, f"Follow-up to {key}",
                             labels=list(issue.labels), parent=issue.parent, epic_link=issue.epic_link)
                done["created"] += 1
            else:
                delete_issue(state, key)
                done["deleted"] += 1
        return done
