"""What the security tests share: a listener that plays along with anything, and a snapshot of
everything an attack could change (store rows, tokens, queue, files, webhook records)."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from connector.models import Image, ImageVersion, Job, Product, Store, WebhookEventRecord
from connector.services import Services
from tests.woo_support import Received, serving

#: What an internal service answers: it must never show up in an error or a log.
INTERNAL_SECRET = "INTERNAL-ANSWER-7f3a9c"


@dataclass
class Listener:
    """An internal service an attacker points the connector at: it records every request and answers
    like a cooperative WooCommerce (200 and JSON to anything), or with a scripted redirect."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    redirect_to: str | None = None
    status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def netloc(self) -> str:
        return self.url.split("://", 1)[1]

    def hits(self) -> list[str]:
        """The paths requested so far."""
        with self.lock:
            return [r.path for r in self.received]


def _listener_app(state: Listener) -> Flask:
    app = Flask("listener")

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "DELETE"])
    @app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE"])
    def anything(path: str) -> Any:
        with state.lock:
            state.received.append(
                Received("/" + path, dict(request.headers), request.get_data(), dict(request.args.items()))
            )
        if state.redirect_to:
            return Response("", 302, {"Location": state.redirect_to})
        answer = jsonify([{"id": 1, "internal": INTERNAL_SECRET, "authentication": {}}])
        answer.status_code = state.status
        return answer

    return app


def listener() -> AbstractContextManager[Listener]:
    """A listener on an ephemeral loopback port, while the block runs."""
    state = Listener()
    return serving(_listener_app(state), state)


@dataclass(frozen=True)
class Snapshot:
    """Everything an attack must leave as it was."""

    stores: tuple[tuple[Any, ...], ...]
    counts: tuple[int, ...]
    webhook_records: int
    queued: int
    scheduled: int
    files: tuple[str, ...]


def snapshot(services: Services) -> Snapshot:
    """The state of the database, the queue and the blob files now."""
    with services.session() as s:
        stores = tuple(
            (st.id, st.platform, st.domain, st.active, st.mode, st.credentials_encrypted, st.uninstalled_at)
            for st in s.scalars(select(Store).order_by(Store.id))
        )
        counts = tuple(
            int(s.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Product, Image, ImageVersion, Job)
        )
        records = int(s.scalar(select(func.count()).select_from(WebhookEventRecord)) or 0)
    queue = services.queue()
    blob_root = services.settings.var_dir / "blobs"
    files = tuple(sorted(str(p.relative_to(blob_root)) for p in Path(blob_root).rglob("*") if p.is_file()))
    return Snapshot(stores, counts, records, queue.count, ScheduledJobRegistry(queue=queue).count, files)
