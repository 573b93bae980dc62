"""The demo organisation's issues over one year: epics and their work, web visits, deals, bugs.

Every issue is first planned as a whole-year story (created, then its status changes), then cut at
`as_of` (the sandbox clock): issues created later do not exist yet, changes later have not
happened. The same seed therefore tells the same story whatever the clock; the clock only decides
how much of it has happened. All randomness comes from the `random.Random` passed in.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sandbox.model import Issue, StatusCategory, StatusChange

STORY_POINTS = "customfield_10016"
RESOLUTION_HOURS = "customfield_10050"

CATEGORY: dict[str, StatusCategory] = {
    "To Do": "new", "Open": "new", "Backlog": "new",
    "In Progress": "indeterminate", "In Review": "indeterminate", "Negotiation": "indeterminate",
    "Done": "done", "Closed": "done", "Won": "done", "Lost": "done",
}
PRIORITY_WEIGHTS = (("Highest", 4), ("High", 18), ("Medium", 52), ("Low", 20), ("Lowest", 6))
COMPONENTS = {"ENG": ("API", "Frontend", "Payments", "Infrastructure"),
              "WEB": ("Pricing", "Landing", "Search")}
CHANNELS = (("organic", 45), ("paid", 25), ("referral", 15), ("social", 10), ("email", 5))
DEAL_TIERS = (("smb", 55), ("midmarket", 30), ("enterprise", 15))
WORK = ("Design", "Implement", "Review", "Document", "Test", "Roll out", "Measure", "Refine", "Plan",
        "Migrate")
THINGS = ("the flow", "edge cases", "metrics", "the rollout plan", "copy", "tracking", "the API",
          "error handling", "the dashboard", "stakeholder feedback", "the checklist", "access rules")
# Conversion rate of web visits: drifts linearly over the year between these shares.
CONVERSION_START, CONVERSION_END = 0.020, 0.024


@dataclass(frozen=True)
class EpicSpec:
    """A planned epic: its project, title, KR labels and working window (days into the year)."""

    project: str
    summary: str
    labels: tuple[str, ...]
    start_day: int
    end_day: int | None          # None: still running at the end of the year


@dataclass
class Plan:
    """An issue's whole-year story before it is cut at the clock."""

    project: str
    issuetype: str
    summary: str
    created: datetime
    events: list[tuple[datetime, str, str | None]]     # (when, new status, resolution if resolving)
    labels: list[str] = field(default_factory=list)
    assignee: str | None = None
    reporter: str | None = None
    epic: str | None = None
    priority: str = "Medium"
    components: list[str] = field(default_factory=list)
    points: float | None = None
    description: str = ""
    duedate: date | None = None
    key: str = ""                                       # epics know their key in advance

    def cut(self, as_of: datetime, issue_id: str, key: str) -> Issue:
        """The issue as it stands at `as_of` (the caller checks it exists by then)."""
        history: list[StatusChange] = []
        status, resolution, resolved = self.events[0][1], None, None
        previous: str | None = None
        for when, new_status, new_resolution in self.events:
            if when > as_of:
                break
            history.append(StatusChange(when, previous, new_status))
            previous = status = new_status
            if CATEGORY[new_status] == "done":
                resolution, resolved = new_resolution or "Done", when
            else:
                resolution, resolved = None, None
        custom: dict[str, float | None] = {}
        if self.points is not None:
            custom[STORY_POINTS] = self.points
        if resolved is not None and self.issuetype in ("Story", "Task", "Bug"):
            custom[RESOLUTION_HOURS] = round((resolved - self.created).total_seconds() / 3600.0, 1)
        return Issue(
            id=issue_id, key=key, project=self.project, issuetype=self.issuetype, summary=self.summary,
            status=status, status_category=CATEGORY[status],
            created=self.created, updated=history[-1].at if history else self.created,
            resolution=resolution, resolved=resolved, labels=list(self.labels),
            assignee=self.assignee, reporter=self.reporter, priority=self.priority,
            components=list(self.components), parent=self.epic, epic_link=self.epic,
            duedate=self.duedate, custom=custom, history=history, description=self.description,
        )


class Planner:
    """Plans the year's issues for one organisation with one random generator."""

    def __init__(self, rng: random.Random, year: int, teams: dict[str, list[str]]) -> None:
        """Plan `year` (UTC); `teams` maps project key -> account ids of the people working there."""
        self.rng = rng
        self.year_start = datetime(year, 1, 1, tzinfo=UTC)
        self.year_end = datetime(year + 1, 1, 1, tzinfo=UTC)
        self.days = (self.year_end - self.year_start).days
        self.teams = teams

    # ----- helpers -------------------------------------------------------------------------------

    def moment(self, day: float) -> datetime:
        """An instant `day` days into the year, moved into working hours (08:00-18:00)."""
        whole = min(max(int(day), 0), self.days - 1)
        seconds = 8 * 3600 + self.rng.random() * 10 * 3600
        return self.year_start + timedelta(days=whole, seconds=int(seconds))

    def pick(self, weighted: Sequence[tuple[str, int]]) -> str:
        """A weighted choice."""
        names = [name for name, _ in weighted]
        return self.rng.choices(names, weights=[w for _, w in weighted])[0]

    def person(self, project: str) -> str | None:
        """Someone from the project's team."""
        team = self.teams.get(project) or []
        return self.rng.choice(team) if team else None

    def work_summary(self) -> str:
        """A short task title."""
        return f"{self.rng.choice(WORK)} {self.rng.choice(THINGS)}"

    # ----- epics and their work ------------------------------------------------------------------

    def epic(self, spec: EpicSpec, key: str, minute: int) -> Plan:
        """An epic created on Jan 1, started and possibly finished within its window."""
        # Planned at the turn of the year, before any other issue exists, so epics get the first keys.
        created = self.year_start + timedelta(minutes=minute)
        events: list[tuple[datetime, str, str | None]] = [(created, "To Do", None)]
        events.append((self.moment(spec.start_day), "In Progress", None))
        due = None
        if spec.end_day is not None:
            events.append((self.moment(spec.end_day), "Done", "Done"))
            due = (self.year_start + timedelta(days=spec.end_day)).date()
        labels = list(spec.labels)
        krs = ", ".join(label[3:] for label in labels if label.startswith("kr-"))
        return Plan(spec.project, "Epic", spec.summary, created, _monotonic(events), labels=labels,
                    assignee=self.person(spec.project), reporter=self.person(spec.project),
                    priority="High", description=f"Initiative for {krs}." if krs else "Initiative.",
                    duedate=due, key=key)

    def epic_work(self, spec: EpicSpec, epic_key: str, count: int) -> list[Plan]:
        """`count` stories, tasks and bugs of an epic, finished by the epic's end when it has one."""
        plans = []
        end = spec.end_day if spec.end_day is not None else self.days + 60
        for _ in range(count):
            day = self.rng.uniform(max(spec.start_day - 7, 0), max(end - 3, spec.start_day + 1))
            issuetype = self.pick((("Story", 55), ("Task", 30), ("Bug", 15)))
            plan = self.work_item(spec.project, issuetype, day, finish_by=spec.end_day)
            plan.summary = f"{spec.summary}: {plan.summary}"
            plan.epic = epic_key
            plan.labels = []
            plans.append(plan)
        return plans

    def work_item(self, project: str, issuetype: str, day: float, finish_by: int | None = None) -> Plan:
        """A story, task or bug: To Do, then In Progress, maybe In Review, then Done (or Won't Do)."""
        created = self.moment(day)
        events: list[tuple[datetime, str, str | None]] = [(created, "To Do", None)]
        wait = self.rng.expovariate(1 / 6.0)
        duration = self.rng.uniform(1.0, 8.0 if issuetype == "Bug" else 18.0)
        start_day, done_day = day + wait, day + wait + duration
        if finish_by is not None and done_day > finish_by:
            # Work of a finished epic is finished before the epic closes.
            done_day = self.rng.uniform(day, finish_by) if finish_by > day else day
            start_day = min(start_day, done_day)
        events.append((self.moment(start_day), "In Progress", None))
        if issuetype != "Bug" and self.rng.random() < 0.5:
            events.append((self.moment((start_day + done_day) / 2), "In Review", None))
        wont_do = issuetype == "Bug" and self.rng.random() < 0.1
        events.append((self.moment(done_day), "Done", "Won't Do" if wont_do else "Done"))
        events.sort(key=lambda event: event[0])
        events = _monotonic(events)
        components = [self.rng.choice(COMPONENTS[project])] if project in COMPONENTS else []
        points = float(self.rng.choice((1, 2, 3, 5, 8, 13))) if issuetype in ("Story", "Task") else None
        return Plan(project, issuetype, self.work_summary(), created, events,
                    assignee=self.person(project), reporter=self.person(project),
                    priority=self.pick(PRIORITY_WEIGHTS), components=components, points=points)

    def standalone(self, project: str, count: int) -> list[Plan]:
        """Work outside epics; bugs arrive less often as the year goes on (quality improves)."""
        mix = {"ENG": (("Bug", 50), ("Task", 30), ("Story", 20)),
               "WEB": (("Bug", 40), ("Task", 40), ("Story", 20)),
               "MKT": (("Task", 60), ("Story", 40))}.get(project, (("Task", 100),))
        plans = []
        for _ in range(count):
            issuetype = self.pick(mix)
            fraction = self.rng.triangular(0.0, 1.0, 0.0) if issuetype == "Bug" else self.rng.random()
            plans.append(self.work_item(project, issuetype, fraction * self.days))
        return plans

    # ----- web visits and deals ------------------------------------------------------------------

    def visits(self, count: int) -> list[Plan]:
        """WEB Visit records; `converted` ones track a rate drifting from 2.0 % to 2.4 %.

        Conversions are spread by error diffusion (a running sum of the rate) rather than coin
        flips, so the observed rate follows the drift closely at any size.
        """
        first = 1 / 24  # after the epics, which are created in the year's first minutes
        days = sorted(first + self.rng.random() * (self.days - first) for _ in range(count))
        carry = self.rng.random()
        plans = []
        for day in days:
            created = self.year_start + timedelta(days=day)
            rate = CONVERSION_START + (CONVERSION_END - CONVERSION_START) * day / self.days
            carry += rate
            labels = [self.pick(CHANNELS)]
            if carry >= 1.0:
                carry -= 1.0
                labels.append("converted")
            closed = created + timedelta(minutes=1 + self.rng.random() * 30)
            plans.append(Plan("WEB", "Visit", f"Visit via {labels[0]}", created,
                              [(created, "Open", None), (closed, "Closed", "Done")],
                              labels=labels, priority="Low"))
        return plans

    def deals(self, count: int) -> list[Plan]:
        """SALES deals: Open, Negotiation, then Won or Lost (some still open at year end)."""
        plans = []
        for _ in range(count):
            day = self.rng.random() * self.days
            created = self.moment(day)
            events: list[tuple[datetime, str, str | None]] = [(created, "Open", None)]
            roll = self.rng.random()
            if roll < 0.15:
                events.append((self.moment(day + self.rng.uniform(2, 20)), "Lost", "Won't Do"))
            elif roll < 0.85:
                talks = day + self.rng.uniform(3, 25)
                events.append((self.moment(talks), "Negotiation", None))
                outcome = self.rng.random()
                if outcome < 0.55:
                    events.append((self.moment(talks + self.rng.uniform(5, 40)), "Won", "Done"))
                elif outcome < 0.9:
                    events.append((self.moment(talks + self.rng.uniform(5, 40)), "Lost", "Won't Do"))
            tier = self.pick(DEAL_TIERS)
            plans.append(Plan("SALES", "Deal", f"{tier.capitalize()} deal #{self.rng.randint(1000, 9999)}",
                              created, _monotonic(events), labels=[tier], assignee=self.person("SALES"),
                              reporter=self.person("SALES"), priority=self.pick(PRIORITY_WEIGHTS)))
        return plans


def _monotonic(events: list[tuple[datetime, str, str | None]]) -> list[tuple[datetime, str, str | None]]:
    """Nudge equal or backwards timestamps forward so each change follows the previous one."""
    fixed = [events[0]]
    for when, status, resolution in events[1:]:
        previous = fixed[-1][0]
        if when <= previous:
            when = previous + timedelta(minutes=5)
        fixed.append((when, status, resolution))
    return fixed


def share(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` into integer parts proportional to `weights` (largest remainders)."""
    whole = sum(weights) or 1.0
    raw = [total * w / whole for w in weights]
    parts = [math.floor(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts
