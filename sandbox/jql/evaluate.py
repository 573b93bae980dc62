"""How parsed JQL is evaluated, and the names other modules import for it.

Everything is compiled into plain Python closures once per query and context: every field lookup,
user resolution, date function and value conversion happens at compile time, and the closures that
run per issue only read attributes and compare. That is what makes a search over tens of thousands
of issues cheap, and it is also where every "does not exist" error is raised, before any issue is
looked at. The work is split by idea:
- `compiler`: the boolean structure and the comparison chosen per field kind;
- `values`: operands (literals, EMPTY, functions) resolved into comparable values, with their errors;
- `history`: WAS and CHANGED over the recorded status history;
- `predicates`: the small closures that run per issue;
- `sorting`: ORDER BY key functions; `functions`: dates and date functions.

Jira semantics mirrored (Atlassian's operators reference):
- `!=`, `NOT IN` and `!~` never match an empty field (`component != fred` needs a component);
- `NOT clause` is the same as the clause with its operator negated (`NOT a = b` is `a != b`), so
  NOT is pushed down to the clauses (De Morgan) rather than applied as a boolean complement;
- on multi-valued fields `=` means "contains", `!=` "has values and none is this", `IN` "any of";
- `resolution = Unresolved` is `resolution IS EMPTY`;
- a date-time compared with `=` matches within the minute (JQL dates carry no seconds);
- date-only fields (duedate) compare by calendar day in the context's time zone.
"""

from __future__ import annotations

from sandbox.jql.compiler import Compiled, Compiler
from sandbox.jql.history import status_periods
from sandbox.jql.sorting import SortSpec
from sandbox.jql.values import ALL_FUNCTIONS, key_parts

__all__ = ["ALL_FUNCTIONS", "Compiled", "Compiler", "SortSpec", "key_parts", "status_periods"]
