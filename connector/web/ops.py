"""For the machines watching the service: ``/metrics`` (Prometheus), ``/healthz`` (alive), ``/readyz``.

``/healthz`` answers as long as the process serves requests (a liveness probe: restart when it
fails).  ``/readyz`` checks what work needs — the database, Redis and the model file — and answers
503 naming what is missing (a readiness probe: send no traffic until it passes).  ``/metrics`` is
guarded like the dashboard (``DASHBOARD_PASSWORD`` as basic auth, else loopback only).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from connector import metrics
from connector.model_fetch import model_path
from connector.services import Services
from connector.web.context import services
from connector.web.dashboard import guard

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """Alive: the process answers."""
    return jsonify(ok=True)


def _database(svc: Services) -> str | None:
    with svc.session() as s:
        s.execute(text("SELECT 1"))
    return None


def _redis(svc: Services) -> str | None:
    svc.redis.ping()
    return None


def _model(svc: Services) -> str | None:
    path = model_path(svc.settings.u2net_home, svc.settings.model)
    return None if path.is_file() else f"{path.name} is not in U2NET_HOME: run `connector model`"


CHECKS: dict[str, Callable[[Services], str | None]] = {
    "database": _database,
    "redis": _redis,
    "model": _model,
}


@bp.get("/readyz")
def readyz():
    """Ready: the database and Redis answer and the model file is there; else 503 naming what is not."""
    svc = services()
    checks: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            problem = check(svc)
        except Exception as exc:  # the class only: a driver's message may carry a connection string
            problem = f"unreachable ({type(exc).__name__})"
        checks[name] = problem or "ok"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(ok=ready, checks=checks), 200 if ready else 503


@bp.get("/metrics")
def scrape():
    """Every process's metrics of this host, and the queue's state, for Prometheus."""
    refused = guard()
    if refused is not None:
        return refused
    svc = services()
    return Response(metrics.render(svc.settings, svc.redis), mimetype=None, content_type=metrics.CONTENT_TYPE)
