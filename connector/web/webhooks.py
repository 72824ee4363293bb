"""POST /webhooks/<platform>: verify the raw body's signature, de-duplicate, queue, answer fast."""

from __future__ import annotations

from flask import Blueprint, request

from connector.metrics import webhook_received
from connector.web.context import services
from connector.webhooks import handle_webhook

bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks/<platform>")
def receive(platform: str):
    """Every platform delivers here; the adapter verifies and parses."""
    body = request.get_data(cache=False)
    answer = handle_webhook(services(), platform, dict(request.headers), body)
    webhook_received(platform, answer.status, answer.outcome)
    return {"outcome": answer.outcome}, answer.status
