"""Domain objects as JSON data, and the content hash that tells whether one changed.

The catalog tables keep each objective, key result and KPI as data (`definition`) so history keeps
what an archived item meant, and a hash of that data so an unchanged item is not rewritten on every
load. The hash is over canonical JSON (sorted keys, no whitespace), so it depends only on content.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from enum import Enum
from typing import Any

from okrbridge.domain import KeyResult, Kpi, Objective


def to_data(value: Any) -> Any:
    """A JSON-ready copy of a domain value: dataclasses to dicts, enums to values, tuples to lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_data(v) for k, v in value.items()}
    return value


def objective_definition(objective: Objective) -> dict[str, Any]:
    """The objective as data, its key results by id (each KR keeps its own row and definition).

    Nesting whole key results here would mark the objective changed whenever any KR changes;
    the ids still record which KRs it has, in file order.
    """
    data = to_data(dataclasses.replace(objective, key_results=()))
    data["key_results"] = [kr.id for kr in objective.key_results]
    return dict(data)


def key_result_definition(key_result: KeyResult, objective_id: str) -> dict[str, Any]:
    """The key result as data, with the objective it sits under (the file's nesting decides)."""
    return dict(to_data(dataclasses.replace(key_result, objective_id=objective_id)))


def kpi_definition(kpi: Kpi) -> dict[str, Any]:
    """The KPI as data."""
    return dict(to_data(kpi))


def content_hash(definition: dict[str, Any]) -> str:
    """SHA-256 of the definition's canonical JSON."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
