"""The monitoring page: per store and overall, work per hour, failures, QA drift, cost, live state."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, request

from connector.models import Store
from connector.monitoring import overview
from connector.runs import run_summary
from connector.web.context import services
from connector.web.dashboard import guard

bp = Blueprint("monitoring", __name__, template_folder="templates")
bp.before_request(guard)

MAX_HOURS = 24 * 14


def _figures() -> dict:
    store_id = request.args.get("store", type=int)
    hours = min(max(request.args.get("hours", 24, type=int), 1), MAX_HOURS)
    svc = services()
    with svc.session() as s:
        if store_id is not None and s.get(Store, store_id) is None:
            abort(404)
        return overview(s, svc.settings, svc.redis, store_id, hours)


@bp.get("/monitoring")
def page():
    """The page (``?store=ID`` for one store, ``?hours=N`` for the window)."""
    figures = _figures()
    peak = max([1] + [max(h["processed"], h["published"], h["failed"]) for h in figures["timeline"]])
    gates = sorted({g for h in figures["timeline"] for g in h["scores"]})
    return render_template("monitoring.html", f=figures, peak=peak, gates=gates)


@bp.get("/monitoring.json")
def figures_json():
    """The same figures as JSON."""
    figures = _figures()
    for row in figures["timeline"]:
        row["hour"] = row["hour"].isoformat()
    return jsonify(figures)


@bp.get("/runs/<int:run_id>.json")
def run_json(run_id: int):
    """A run's summary with its cost and return, as JSON."""
    return jsonify(run_summary(services(), run_id) or abort(404))
