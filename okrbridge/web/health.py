"""`GET /healthz`: whether this process can read its database, and how the last sync went.

200 when the store answers (`status` "ok" when the last sync succeeded, "degraded" when it failed,
was partial, or none has run yet); 503 when the database cannot be read. Load balancers need only
the status code; people read the body.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

from okrbridge.store import RunStatus
from okrbridge.web.context import current_web
from okrbridge.web.errors import json_error

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The last finished sync's outcome and age in seconds."""
    web = current_web()
    try:
        runs = [run for run in web.workspace.store.runs(limit=20) if not run.dry_run]
    except SQLAlchemyError as error:
        return json_error(503, f"the database cannot be read: {type(error).__name__}", status="unavailable")
    finished = next((run for run in runs if run.finished_at is not None), None)
    if finished is None or finished.finished_at is None:
        return jsonify({"status": "degraded", "last_sync": None, "reason": "no sync has finished yet"})
    age = (web.now() - finished.finished_at).total_seconds()
    body = {
        "status": "ok" if finished.status is RunStatus.SUCCEEDED else "degraded",
        "last_sync": {"id": finished.id, "status": finished.status.value,
                      "finished_at": finished.finished_at.isoformat(), "age_seconds": round(age, 1),
                      "counts": finished.counts},
    }
    return jsonify(body)
