"""JSON error answers shared by the Forge Remote endpoints and the API: always a JSON body with
`Content-Type: application/json`, and 401 only when the caller's credentials are refused."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify


def json_error(code: int, message: str, **extra: Any) -> Response:
    """`{"error": message, ...}` with HTTP status `code`."""
    response = jsonify({"error": message, **extra})
    response.status_code = code
    return response


def unauthorized(message: str, scheme: str = "Bearer") -> Response:
    """401 with a challenge naming the scheme the caller must use."""
    response = json_error(401, message)
    response.headers["WWW-Authenticate"] = f'{scheme} realm="okrbridge"'
    return response
