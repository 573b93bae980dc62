"""What explains one stored value of a KR or KPI: the one typed shape every writer and reader shares.

The sync builds an `Explanation` for every value it stores (which JQLs, what they counted, which
field was summed, which issue was checked, where and when Jira answered); a check-in is explained
by its note and author. The store keeps it as JSON (`to_dict` / `from_dict`, which also reads rows
written before this type existed), and every renderer — the grade report, the terminal, history
JSON, the views and status pages — reads the same fields and calls `describe()` for the human line instead
of guessing at dict keys. Pure: no IO.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class JqlCount:
    """One JQL and the number of issues it matched (a ratio's numerator or denominator)."""

    jql: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: `{"jql": ..., "count": ...}`."""
        return {"jql": self.jql, "count": self.count}


def _count_of(data: Any) -> JqlCount | None:
    """A JqlCount from its JSON form; None when `data` does not have that shape."""
    if isinstance(data, Mapping) and isinstance(data.get("jql"), str) and isinstance(data.get("count"), int):
        return JqlCount(data["jql"], data["count"])
    return None


def _number(value: Any) -> float | None:
    """`value` as a float when it is a number (bool is not), else None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


@dataclass(frozen=True)
class Explanation:
    """How one value was obtained. Which fields are set depends on `source` (the source kind):

    - `jql_count`: `jql`, `count`
    - `jql_ratio`: `numerator`, `denominator` (value = 100 * numerator / denominator)
    - `jql_sum`: `jql`, `field`, `agg` ("sum" or "avg"), `issues` matched, `with_value` of them
    - `milestone`: `issue`, `status`, `status_category`; with partial credit `children_done`/`_total`
    - `kpi`: `kpi` (the KPI's id) and `kpi_explanation` (how the KPI's value was obtained);
      `snapshot_id`/`taken_at` when the KPI's stored value was reused rather than asked this run
    - `manual`: a check-in; `note` and `author` when given

    Jira-backed values also carry `deployment`, `jira` (the site) and `queried_at` (ISO-8601).
    `extra` keeps keys of stored rows this type does not know, so decoding loses nothing.
    """

    source: str = "manual"
    jql: str | None = None
    count: int | None = None
    numerator: JqlCount | None = None
    denominator: JqlCount | None = None
    field: str | None = None
    agg: str | None = None
    issues: int | None = None
    with_value: int | None = None
    issue: str | None = None
    status: str | None = None
    status_category: str | None = None
    children_done: int | None = None
    children_total: int | None = None
    kpi: str | None = None
    kpi_explanation: Explanation | None = None
    snapshot_id: int | None = None
    taken_at: str | None = None
    deployment: str | None = None
    jira: str | None = None
    queried_at: str | None = None
    note: str | None = None
    author: str | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def done_ratio(self) -> float | None:
        """A milestone epic's done share (children done / children), for partial credit; else None."""
        if self.children_done is not None and self.children_total:
            return self.children_done / self.children_total
        # Rows written by hand or by early versions may carry the ratio itself.
        return _number(self.extra.get("done_ratio"))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the store keeps: unset fields left out, `extra` keys merged back in."""
        data: dict[str, Any] = dict(self.extra)
        # the instance's fields in declaration order (a dataclass sets them in that order)
        for name, value in self.__dict__.items():
            if value is None or name == "extra":
                continue
            data[name] = value.to_dict() if isinstance(value, JqlCount | Explanation) else value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None,
                  columns: Mapping[str, Any] | None = None) -> Explanation:
        """An Explanation from its JSON form, including rows stored before this type existed.

        Those used `kpi_detail` for the KPI's explanation and, in grading's reading, `source_kind`
        for the source; unknown keys land in `extra`, and a value of the wrong type is kept there
        rather than trusted. `columns` are fields a stored row keeps beside the JSON (source kind,
        note, author): they are set as given, whatever the JSON says.
        """
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in (data or {}).items():
            known = _KEYS.get(key)
            if known is not None:
                name, decode = known
                decoded = decode(value)
                if decoded is not None:
                    values.setdefault(name, decoded)  # today's key and an earlier row's: the first wins
                    continue
            extra[key] = value
        if columns:
            values.update(columns)
        if cls is not Explanation or not values.keys() <= _FIELD_SET:
            return cls(**values, extra=extra)
        # What the generated __init__ does, without a call per field (`grades --nested` decodes
        # 120,000 explanations): every field set, in declaration order, defaults first. A test
        # holds it to the constructor.
        made = object.__new__(cls)
        fields = made.__dict__
        fields.update(_DEFAULTS)
        fields.update(values)
        fields["extra"] = extra
        return made

    def describe(self, as_of: datetime | None = None) -> str:
        """The one-line human explanation: which JQL, what it counted (and, given `as_of`, when).

        e.g. `23 / 1,000: [labels = converted] / [type = Visit]`, `count 17: [project = WEB]`,
        `check-in "March invoices" by carol`, `from KPI web-conversion: count 640: [...]`.
        """
        line = self._how()
        return f"{line}, as of {as_of.date().isoformat()}" if as_of is not None else line

    def _how(self) -> str:
        """`describe` without the date."""
        if self.numerator is not None and self.denominator is not None:
            return (f"{self.numerator.count:,} / {self.denominator.count:,}: "
                    f"[{self.numerator.jql}] / [{self.denominator.jql}]")
        if self.field is not None:
            return f"{self.agg or 'sum'} of {self.field} over {self.issues} issues: [{self.jql}]"
        if self.jql is not None:
            return f"count {self.count}: [{self.jql}]"
        if self.issue is not None:
            children = (f" ({self.children_done}/{self.children_total} children done)"
                        if self.children_total else "")
            return f"{self.issue} is {self.status}{children}"
        if self.kpi is not None:
            inner = self.kpi_explanation.describe() if self.kpi_explanation is not None else ""
            return f"from KPI {self.kpi}" + (f": {inner}" if inner else "")
        if self.source == "manual":
            note = f' "{self.note}"' if self.note else ""
            return f"check-in{note}" + (f" by {self.author}" if self.author else "")
        return self.source


_FIELDS = tuple(item.name for item in dataclasses.fields(Explanation) if item.name != "extra")
"""The fields an explanation's JSON may set, in order (`extra` holds the rest)."""
_FIELD_SET = frozenset(_FIELDS)
_DEFAULTS = {item.name: item.default for item in dataclasses.fields(Explanation) if item.name != "extra"}
"""Each field's default (every one but `extra` has a plain default), in declaration order."""

_RENAMED = {"kpi_detail": "kpi_explanation", "source_kind": "source"}
"""Keys earlier rows used for today's fields."""

_TEXT = frozenset({"source", "jql", "field", "agg", "issue", "status", "status_category", "kpi", "taken_at",
                   "deployment", "jira", "queried_at", "note", "author"})


def _text(value: Any) -> str | None:
    """A stored text field, or None when it is not text."""
    return value if isinstance(value, str) else None


def _whole(value: Any) -> int | None:
    """A stored whole-number field (bool is not one), or None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _inner(value: Any) -> Explanation | None:
    """A KPI's stored explanation, or None when it is not an object."""
    return Explanation.from_dict(value) if isinstance(value, Mapping) else None


def _decoder(name: str) -> Callable[[Any], Any]:
    """How field `name` is decoded from its stored value (None: not of the field's type)."""
    if name in ("numerator", "denominator"):
        return _count_of
    if name == "kpi_explanation":
        return _inner
    return _text if name in _TEXT else _whole


_KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    **{name: (name, _decoder(name)) for name in _FIELDS},
    **{old: (new, _decoder(new)) for old, new in _RENAMED.items()},
}
"""Each key an explanation's JSON may hold for a field (today's and earlier rows'): the field and
its decoder, found in one look-up per key."""

