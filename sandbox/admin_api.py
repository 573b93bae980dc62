"""`/_sandbox/*`: the sandbox's own controls (no Atlassian auth; loopback clients only).

| path | does |
|---|---|
| `GET/PUT/DELETE /_sandbox/faults` | read, change (merge the given settings), clear injected faults |
| `GET/DELETE /_sandbox/requests` | the request log (`?limit=N` for the newest N), clear it |
| `GET/PUT /_sandbox/clock` | read or set now: `{"now": ISO}`, `{"today": "YYYY-MM-DD"}`, `{"real": true}` |
| `GET /_sandbox/stats` | data sizes, request totals, JQL evaluation time and cache hits |
| `GET /_sandbox/users` | the seeded credentials (email, API token, PAT, groups) |
| `POST /_sandbox/reset` | re-seed the world (`{"seed": n, "size": n}`), at the current clock |
| `POST /_sandbox/churn` | change `{"share": 0.01, "seed": n}` of the issues as people would (sandbox.edits) |

Only the developer's own tools may call it, never a web page they happen to visit: the client must be
on this machine (see auth), the `Host` must be a loopback name or address (or the host the sandbox
was told to serve on), so a DNS-rebound name is refused; an `Origin`, when sent, must be the
sandbox's own; and a body (POST, PUT) must be JSON, which a cross-site form or `text/plain` fetch
cannot send without a preflight the sandbox never grants.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from sandbox.auth import groups_of
from sandbox.edits import churn
from sandbox.faults import FaultConfigError
from sandbox.runtime import current_runtime
from sandbox.seed import DEFAULT_SEED, DEFAULT_SIZE, populate
from sandbox.state import current_state

bp = Blueprint("sandbox_admin", __name__, url_prefix="/_sandbox")

ADMIN_HOSTS_KEY = "SANDBOX_ADMIN_HOSTS"
"""app.config key: host names the admin API accepts besides loopback ones (the host served on)."""


def _host_name(host: str) -> str:
    """The name or address part of a Host header (`[::1]:8090` -> `::1`, `localhost:80` -> `localhost`)."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_loopback_name(name: str) -> bool:
    """localhost (and its subdomains, which resolve to loopback by RFC 6761) or a loopback address."""
    lowered = name.lower().rstrip(".")
    if lowered == "localhost" or lowered.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(lowered).is_loopback
    except ValueError:
        return False


def _forbidden(message: str, status: int = 403) -> Response:
    """A refusal with the reason."""
    response = jsonify({"error": message})
    response.status_code = status
    return response


@bp.before_request
def guard() -> Response | None:
    """Refuse requests a web page could have made: foreign Host, foreign Origin, non-JSON bodies."""
    name = _host_name(request.host)
    allowed = {h.lower() for h in current_app.config.get(ADMIN_HOSTS_KEY, ())}
    if not (_is_loopback_name(name) or name.lower() in allowed):
        return _forbidden(f"the sandbox admin API answers only for loopback hosts, not {name!r}")
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        return _forbidden(f"cross-origin requests to the sandbox admin API are refused (Origin {origin!r})")
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype != "application/json":
        return _forbidden("the sandbox admin API takes JSON bodies only (Content-Type: application/json)",
                          status=415)
    return None


def _bad(message: str) -> Response:
    """400 with a plain message."""
    response = jsonify({"error": message})
    response.status_code = 400
    return response


def _body() -> dict[str, Any]:
    """The JSON object body (empty when there is none)."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


@bp.route("/faults", methods=["GET"])
def get_faults() -> Response:
    """The fault settings in force."""
    return jsonify(current_runtime().faults.config.to_json())


@bp.route("/faults", methods=["PUT"])
def put_faults() -> Response:
    """Merge the given settings into the current ones (`"reset": true` starts from none)."""
    body = _body()
    reset = bool(body.pop("reset", False))
    try:
        config = current_runtime().faults.configure(body, reset=reset)
    except FaultConfigError as error:
        return _bad(str(error))
    return jsonify(config.to_json())


@bp.route("/faults", methods=["DELETE"])
def delete_faults() -> Response:
    """Clear every fault."""
    return jsonify(current_runtime().faults.configure({}, reset=True).to_json())


@bp.route("/requests", methods=["GET"])
def get_requests() -> Response:
    """The request log, oldest first, with totals."""
    log = current_runtime().log
    limit = request.args.get("limit", type=int)
    return jsonify({"requests": log.snapshot(limit), "summary": log.summary()})


@bp.route("/requests", methods=["DELETE"])
def clear_requests() -> Response:
    """Empty the request log."""
    current_runtime().log.clear()
    return Response(status=204)


def _clock_json() -> dict[str, Any]:
    """The sandbox clock as JSON."""
    state = current_state()
    now = state.now()
    return {"now": now.isoformat(), "today": now.date().isoformat(),
            "offset_seconds": state.clock.offset.total_seconds()}


@bp.route("/clock", methods=["GET"])
def get_clock() -> Response:
    """The sandbox's current instant and day."""
    return jsonify(_clock_json())


@bp.route("/clock", methods=["PUT"])
def put_clock() -> Response:
    """Set "now": an instant, a day (its noon UTC), or back to real time."""
    body = _body()
    clock = current_state().clock
    try:
        if body.get("real"):
            clock.offset = timedelta(0)
        elif "now" in body:
            clock.set_now(datetime.fromisoformat(str(body["now"]).replace("Z", "+00:00")))
        elif "today" in body:
            day = date.fromisoformat(str(body["today"]))
            clock.set_now(datetime.combine(day, time(12, 0), tzinfo=UTC))
        else:
            return _bad('give "now" (ISO-8601 instant), "today" (YYYY-MM-DD) or "real": true')
    except ValueError as error:
        return _bad(str(error))
    return jsonify(_clock_json())


@bp.route("/churn", methods=["POST"])
def post_churn() -> Response:
    """Change `share` of the issues (sandbox.edits.churn); how many of each kind of change."""
    body = _body()
    try:
        share, seed = float(body.get("share", 0.01)), int(body.get("seed", 1))
        return jsonify(churn(current_state(), share, seed))
    except (TypeError, ValueError) as error:
        return _bad(str(error))


@bp.route("/stats", methods=["GET"])
def stats() -> Response:
    """Sizes of the simulated world, request totals and JQL evaluation figures."""
    state = current_state()
    runtime = current_runtime()
    return jsonify({
        "deployment": state.deployment,
        "data_version": state.data_version,
        "issues": len(state.issues),
        "users": len(state.users),
        "groups": len(state.groups),
        "projects": sorted(state.projects),
        "remote_links": sum(len(links) for links in state.remote_links.values()),
        "seed": state.seed_info,
        "requests": runtime.log.summary(),
        "jql": runtime.jql.stats.to_json(),
        "faults": runtime.faults.config.to_json(),
        "started_at": runtime.started_at.isoformat(),
    })


@bp.route("/users", methods=["GET"])
def users() -> Response:
    """Every user with the credentials the sandbox accepts for them."""
    state = current_state()
    return jsonify([{
        "accountId": u.account_id, "username": u.login, "email": u.email,
        "displayName": u.display_name, "apiToken": u.api_token, "pat": u.personal_access_token,
        "active": u.active, "groups": groups_of(state, u),
    } for u in sorted(state.users.values(), key=lambda u: u.login)])


@bp.route("/reset", methods=["POST"])
def reset() -> Response:
    """Rebuild the world (Jira and Confluence) from a seed at the current clock.

    Faults, the request log and the clock stay as they are.
    """
    body = _body()
    try:
        seed = int(body.get("seed", current_state().seed_info.get("seed", DEFAULT_SEED)))
        size = int(body.get("size", current_state().seed_info.get("size", DEFAULT_SIZE)))
    except (TypeError, ValueError) as error:
        return _bad(str(error))
    state = current_state()
    with state.lock:
        state.confluence = type(state.confluence)()
    populate(state, seed=seed, size=size)
    current_runtime().jql.clear()
    return jsonify(state.seed_info)
