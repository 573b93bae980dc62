"""The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json` (the tests validate every
API answer against it, so it cannot drift from the code)."""

from __future__ import annotations

from typing import Any

_NUMBER = {"type": ["number", "null"]}
_TEXT = {"type": ["string", "null"]}
_STR = {"type": "string"}
_POINTS = {"type": "array", "items": {"type": "array", "prefixItems": [_STR, {"type": "number"}],
                                      "minItems": 2, "maxItems": 2}}
_STATUS = {"enum": ["no data", "off track", "at risk", "on track"]}
_LEFT_OUT = {"type": "object", "required": ["objectives", "kpis"],
             "properties": {"objectives": {"type": "integer"}, "kpis": {"type": "integer"}}}
_JQL = {"type": "object", "required": ["jql", "count", "url"],
        "properties": {"jql": {"type": "string"}, "count": {}, "url": _TEXT, "part": {"type": "string"}}}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
    "KrCard": {
        "type": "object",
        "required": ["id", "title", "url", "page_url", "objective", "period", "owner", "unit", "measure",
                     "goal", "value", "value_text", "score", "status", "colour", "progress", "pace", "as_of",
                     "forecast", "forecast_text", "forecast_score", "trend", "stale", "stale_reason", "how",
                     "queries"],
        "properties": {
            "id": _STR, "title": _STR, "url": _STR, "page_url": _TEXT,
            "objective": {"type": "object", "required": ["id", "title", "cycle"],
                          "properties": {"id": _STR, "title": _STR, "cycle": _STR}},
            "period": _STR, "owner": _TEXT, "unit": _STR, "measure": _STR, "goal": _STR,
            "value": _NUMBER, "value_text": _STR, "score": _NUMBER, "status": _STATUS,
            "colour": {"enum": ["grey", "red", "yellow", "green"]},
            "progress": {"type": "number", "minimum": 0, "maximum": 1}, "pace": _STR, "as_of": _TEXT,
            "forecast": _NUMBER, "forecast_text": _STR, "forecast_score": _NUMBER, "trend": _POINTS,
            "stale": {"type": "boolean"}, "stale_reason": _TEXT, "how": _STR,
            "queries": {"type": "array", "items": {
                "type": "object", "required": ["role", "jql", "url"],
                "properties": {"role": {"enum": ["value", "numerator", "denominator", "issue"]}, "jql": _STR,
                               "url": _TEXT}}},
        },
    },
    "Objective": {
        "type": "object",
        "required": ["id", "title", "level", "team", "owner", "cycle", "score", "status", "colour", "pace",
                     "stale", "parent", "krs"],
        "properties": {"id": _STR, "title": _STR, "level": _STR, "team": _STR, "owner": _TEXT, "cycle": _STR,
                       "score": _NUMBER, "status": _STATUS, "colour": _STR, "pace": _STR,
                       "stale": {"type": "boolean"}, "parent": _TEXT,
                       "krs": {"type": "array", "items": _STR}},
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
    "View": {
        "type": "object",
        "required": ["key", "title", "detail", "period", "start", "end", "as_of", "objectives", "key_results",
                     "kpis", "left_out", "data_as_of"],
        "properties": {"key": _STR, "title": _STR, "detail": {"type": "boolean"}, "period": _STR,
                       "start": _STR, "end": _STR, "as_of": _STR,
                       "objectives": {"type": "array", "items": {"type": "object", "required": [
                           "id", "title", "score", "status", "pace", "krs"]}},
                       "key_results": {"type": "array", "items": {"type": "object"}},
                       "kpis": {"type": "array", "items": {"type": "object", "required": [
                           "id", "name", "value", "score", "status"]}},
                       "left_out": _LEFT_OUT, "data_as_of": _TEXT},
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
            "/grades": _operation("the viewer's view of the period", _ref("View"), params=period_params,
                                  period=True),
            "/initiatives": _operation("epics driving visible key results", {
                "type": "object", "required": ["initiatives"],
                "properties": {"initiatives": {"type": "array", "items": _ref("Initiative")}}},
                params=("epic",)),
        },
        "components": {"schemas": SCHEMAS},
    }
