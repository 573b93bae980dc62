"""OKR style checks, and the `Problem` every catalog check reports.

`lint(catalog)` is pure: it looks at validated domain objects and returns warnings about how the OKRs
are written, never about whether they can be loaded (that is the loader's job, see catalog.py). The
warnings carry a subject (objective/KR/KPI id) and a field but no file or line; the loader fills those
in, because only it has the source text.

The "reads like a task" rule
----------------------------
A key result should say what changes and by how much ("Increase conversion from 2% to 2.5%"), not
what the team will do ("Write 20 blog posts"). A KR title is flagged when both hold:

1. its first word(s) are an activity verb from `ACTIVITY_VERBS` ("launch", "A/B test", "set up", ...),
   compared case-insensitively on the bare imperative form; and
2. it names no measured outcome: no percentage (`%`, "percent", "pp"), no currency (`$ € £ ¥` or an
   ISO code such as USD), no "from X to Y" with numbers, and no number followed by a unit of time
   (`ms`, `s`, minutes, hours, days, weeks, ...) or a multiplier (`3x`).

A bare count does not make a task an outcome: "Hire 5 engineers" and "A/B test 10 copy variations"
count activities and are still flagged, while "Ship checkout with p95 latency under 300 ms" is not.
Titles that start with an outcome verb ("Increase", "Reduce", "Keep") are never flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from okrbridge.cycles import CycleError, FiscalCalendar
from okrbridge.domain import Catalog, KeyResult, Level, Objective

Severity = Literal["error", "warning"]

MIN_KEY_RESULTS = 3
MAX_KEY_RESULTS = 5


@dataclass(frozen=True)
class Problem:
    """One thing wrong (error) or questionable (warning) in an OKR or check-in file.

    `subject` is the objective/KR/KPI id the problem is about (or a position such as `objective[2]`
    when the entry has no usable id); `field` is the key path inside that entry (`source.jql`).
    """

    severity: Severity
    file: str
    line: int | None
    subject: str | None
    field: str | None
    message: str

    @property
    def is_error(self) -> bool:
        """Whether the problem stops the file from loading."""
        return self.severity == "error"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = ".".join(part for part in (self.subject, self.field) if part)
        prefix = "" if self.severity == "error" else "warning: "
        return f"{where}: {what}: {prefix}{self.message}" if what else f"{where}: {prefix}{self.message}"


ACTIVITY_VERBS: tuple[str, ...] = (
    "a/b test", "set up", "roll out", "kick off", "sign up",
    "add", "analyse", "analyze", "attend", "audit", "build", "complete", "conduct", "create",
    "define", "deliver", "deploy", "design", "develop", "document", "draft", "establish", "finish",
    "hire", "hold", "host", "implement", "install", "integrate", "interview", "introduce", "launch",
    "migrate", "organise", "organize", "plan", "prepare", "produce", "publish", "record", "redesign",
    "refactor", "release", "research", "review", "rewrite", "run", "schedule", "send", "ship", "start",
    "test", "train", "update", "write",
)
"""Verbs (imperative form) that open a to-do rather than an outcome; multi-word ones come first."""

_NUMBER = r"\d+(?:[.,]\d+)*"
_TIME_UNITS = (r"ms|msec|s|secs?|seconds?|mins?|minutes?|h|hrs?|hours?|days?|d|weeks?|wks?|months?"
               r"|years?|yrs?|x")
_MEASURED = re.compile(
    rf"%|\bpercent\b|\bpercentage points?\b|\bpp\b"                 # a share
    rf"|[$€£¥]|\b(?:usd|eur|gbp|jpy|chf|cad|aud)\b"                   # money
    rf"|\bfrom\s+\S*{_NUMBER}\S*\s+to\s+\S*{_NUMBER}"                # a from-to change
    rf"|{_NUMBER}\s*(?:{_TIME_UNITS})\b",                            # a duration or a multiplier
    re.IGNORECASE,
)
_WORDS = re.compile(r"[a-z/]+")


def task_verb(title: str) -> str | None:
    """The activity verb when a KR title reads like a task rather than an outcome, else None.

    See the module docstring for the rule.
    """
    words = _WORDS.findall(title.lower())
    verb = next((v for v in ACTIVITY_VERBS if words[:v.count(" ") + 1] == v.split(" ")), None)
    if verb is None or _MEASURED.search(title):
        return None
    return verb


def _warning(subject: str, field: str | None, message: str) -> Problem:
    """A lint warning; the loader fills in file and line."""
    return Problem("warning", "", None, subject, field, message)


def _lint_key_result(kr: KeyResult) -> Iterable[Problem]:
    """Warnings about one key result: owner and wording."""
    if not kr.owner:
        yield _warning(kr.id, "owner", "no owner; every key result needs exactly one owner")
    verb = task_verb(kr.title)
    if verb is not None:
        yield _warning(kr.id, "title",
                       f"{kr.title!r} reads like a task ('{verb} ...'), not an outcome; say what "
                       "changes and by how much, e.g. 'Increase conversion from 2% to 2.5%'")


def _lint_alignment(objective: Objective, catalog: Catalog, calendar: FiscalCalendar) -> Iterable[Problem]:
    """Warnings about where an objective sits in the tree and whether its cycle fits its parent's."""
    if objective.level is Level.COMPANY and objective.parent:
        yield _warning(objective.id, "parent",
                       "a company objective is the top of the tree; it should not align to "
                       f"{objective.parent!r}")
    if objective.level is not Level.COMPANY and not objective.parent:
        yield _warning(objective.id, "parent",
                       f"a {objective.level.value} objective should align to a parent objective "
                       "(parent = \"...\")")
    parent = catalog.objective(objective.parent) if objective.parent else None
    if parent is None:
        return
    try:
        mine, theirs = calendar.parse(objective.cycle), calendar.parse(parent.cycle)
    except CycleError:
        return  # the loader reports cycles that do not parse; nothing to compare here
    if not mine.overlaps(theirs):
        yield _warning(objective.id, "cycle",
                       f"cycle {mine.label} does not overlap the cycle {theirs.label} of its parent "
                       f"{parent.id}")


def lint(catalog: Catalog) -> list[Problem]:
    """Style warnings for a validated catalog, in file order.

    The catalog's calendar resolves cycle labels when comparing a child's cycle with its parent's.
    """
    calendar = catalog.calendar
    found: list[Problem] = []
    for objective in catalog.objectives:
        count = len(objective.key_results)
        if not MIN_KEY_RESULTS <= count <= MAX_KEY_RESULTS:
            found.append(_warning(
                objective.id, None,
                f"{count} key result{'s' if count != 1 else ''}; an objective should have "
                f"{MIN_KEY_RESULTS} to {MAX_KEY_RESULTS}"))
        found.extend(_lint_alignment(objective, catalog, calendar))
        for kr in objective.key_results:
            found.extend(_lint_key_result(kr))
    return found
