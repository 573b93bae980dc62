"""The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json` (the tests validate every
API answer against it, so it cannot drift from the code)."""

from __future__ import annotations

from typing import Any

_NUMBER = {"type": ["number", "null"]}
_TEXT = {"type": ["string", "null"]}
_STR = {"type": "string"}
_POINTS = {"type": "array", "items": {"type": "array", "prefixItems": [_STR, {"type": "number"}],
                                      "minItems": 2, "maxItems": 2}}
_JQL = {"type": "object", "required": ["jql", "count", "url"],
        "properties": {"jql": {"type": "string"}, "count": {}, "url": _TEXT, "part": {"type": "string"}}}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
    "KrCard": {
        "type": "object",
        "required": ["id", "title", "url", "objective", "owner", "unit", "measure", "target", "target_value",
                     "value", "score", "status", "colour", "progress", "pace", "forecast", "forecast_score",
                     "trend", "stale", "stale_reason", "how"],
        "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "url": {"type": "string"},
            "objective": {"type": "object", "required": ["id", "title", "cycle"],
                          "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                                         "cycle": {"type": "string"}}},
            "owner": _TEXT, "unit": _STR, "measure": _STR, "target": _STR,
            "target_value": _NUMBER, "value": _NUMBER, "score": _NUMBER,
            "status": {"enum": ["no data", "off track", "at risk", "on track"]},
            "colour": {"enum": ["grey", "red", "yellow", "green"]},
            "progress": {"type": "number", "minimum": 0, "maximum": 1}, "pace": {"type": "string"},
            "forecast": _NUMBER, "forecast_score": _NUMBER, "trend": _POINTS, "stale": {"type": "boolean"},
            "stale_reason": _TEXT,
            "how": {"type": "object", "required": ["source", "as_of", "jqls", "detail"],
                    "properties": {"source": {"type": "string"}, "as_of": _TEXT,
                                   "jqls": {"type": "array", "items": _JQL}, "detail": {"type": "object"}}},
        },
    },
    "Objective": {
        "type": "object",
        "required": ["id", "title", "level", "team", "owner", "cycle", "score", "status", "colour", "pace",
                     "krs"],
        "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "level": {"type": "string"},
                       "team": _STR, "owner": _TEXT, "cycle": _STR, "score": _NUMBER,
                       "status": {"type": "string"}, "colour": {"type": "string"}, "pace": {"type": "string"},
                       "krs": {"type": "array", "items": {"type": "string"}}},
    },
    "HistoryEntry": {
        "type": "object", "required": ["taken_at", "value", "score", "source", "jqls", "note", "author"],
        "properties": {"taken_at": {"type": "string"}, "value": _NUMBER, "score": _NUMBER,
                       "source": {"type": "string"}, "jqls": {"type": "array", "items": _JQL},
                       "note": _TEXT, "author": _TEXT},
    },
    "Epic": {
        "type": "object", "required": ["key", "summary", "status", "done", "progress", "url"],
        "properties": {"key": {"type": "string"}, "summary": {"type": "string"}, "status": {"type": "string"},
                       "done": {"type": "boolean"}, "progress": {"type": "number"},
                       "children_done": {"type": "integer"}, "children_total": {"type": "integer"},
                       "url": {"type": "string"}},
    },
    "Initiative": {
        "type": "object", "required": ["epic_key", "kr_id", "summary", "status", "done", "progress", "url"],
        "properties": {"epic_key": _STR, "kr_id": _STR, "summary": _STR,
                       "status": {"type": "string"}, "done": {"type": "boolean"},
                       "progress": {"type": "number"}, "url": {"type": "string"}},
    },
    "PeriodReport": {
        "type": "object", "required": ["period", "kind", "start", "end", "as_of", "objectives", "kpis"],
        "properties": {"period": {"type": "string"}, "kind": {"enum": ["year", "quarter", "month"]},
                       "start": {"type": "string"}, "end": {"type": "string"}, "as_of": {"type": "string"},
                       "objectives": {"type": "array", "items": {"type": "object"}},
                       "kpis": {"type": "array", "items": {"type": "object"}}},
    },
}


def _ref(name: str) -> dict[str, str]:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A JSON response description."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(summary: str, ok: dict[str, Any], *, params: tuple[str, ...] = (), found: bool = False,
               period: bool = False) -> dict[str, Any]:
    """A GET operation answering `ok`, 401 when not signed in, and 400/404 where they can happen."""
    parameters: list[dict[str, Any]] = [{"name": "kr_id", "in": "path", "required": True,
                                         "schema": {"type": "string"}}] if found else []
    parameters += [{"name": name, "in": "query", "required": False, "schema": _STR} for name in params]
    responses: dict[str, Any] = {"200": _answer(ok, summary),
                                 "401": _answer(_ref("Error"), "not signed in (web.auth)"),
                                 "503": _answer(_ref("Error"), "Jira cannot say who the viewer is")}
    if period:
        responses["400"] = _answer(_ref("Error"), "an unknown period or tab")
    if found:
        responses["404"] = _answer(_ref("Error"), "no such key result, or not visible to the viewer")
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


def openapi_document(server: str) -> dict[str, Any]:
    """The document, with `server` (this app's URL) as its server."""
    period_params = ("period",)
    return {
        "openapi": "3.1.0",
        "info": {"title": "okrbridge API", "version": "1",
                 "description": "OKRs, key results, grades and initiatives, as far as the viewer may see."},
        "servers": [{"url": f"{server}/api/v1"}],
        "paths": {
            "/objectives": _operation("visible objectives graded for a period", {
                "type": "object", "required": ["period", "objectives"],
                "properties": {"period": {"type": "string"},
                               "objectives": {"type": "array", "items": _ref("Objective")}}},
                params=period_params, period=True),
            "/krs": _operation("the key results of the visible objectives", {
                "type": "object", "required": ["period", "krs"],
                "properties": {"period": _STR, "krs": {"type": "array", "items": _ref("KrCard")}}},
                params=("period", "tab"), period=True),
            "/krs/{kr_id}": _operation("one key result with its history and epics", {
                "allOf": [_ref("KrCard"), {"type": "object", "required": ["history", "epics"], "properties": {
                    "history": {"type": "array", "items": _ref("HistoryEntry")},
                    "epics": {"type": "array", "items": _ref("Epic")}}}]}, found=True),
            "/krs/{kr_id}/history": _operation("a key result's stored values", {
                "type": "object", "required": ["id", "history"],
                "properties": {"id": _STR, "history": {"type": "array", "items": _ref("HistoryEntry")}}},
                found=True),
            "/grades": _operation("the period report", _ref("PeriodReport"), params=period_params,
                                  period=True),
            "/initiatives": _operation("epics driving visible key results", {
                "type": "object", "required": ["initiatives"],
                "properties": {"initiatives": {"type": "array", "items": _ref("Initiative")}}},
                params=("epic",)),
        },
        "components": {"schemas": SCHEMAS},
    }
