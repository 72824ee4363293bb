"""``wc/v3/webhooks``: create, list, read, update, delete (creation and saves ping the URL)."""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Blueprint, Response, jsonify

from sandbox.woocommerce.api_products import EDITABLE, PREFIX, run_batch
from sandbox.woocommerce.context import (
    caller,
    delete_request,
    get_site,
    query_args,
    require,
    sandbox,
    write_request,
)
from sandbox.woocommerce.errors import WPError, invalid_params
from sandbox.woocommerce.models import Webhook, now_utc
from sandbox.woocommerce.params import Args, paginate
from sandbox.woocommerce.serialize import wc_url, webhook_json
from sandbox.woocommerce.site import Site

RESOURCES = ("coupon", "customer", "order", "product")
EVENTS = ("created", "updated", "deleted", "restored")
STATUSES = ("active", "paused", "disabled")

bp = Blueprint("wc_webhooks", __name__)


def valid_topic(topic: str) -> bool:
    """``wc_is_webhook_valid_topic``."""
    if topic.startswith("action.") and len(topic) > 7:
        return True
    resource, _, event = topic.partition(".")
    return resource in RESOURCES and event in EVENTS


def _apply(s: Site, hook: Webhook | None, data: dict[str, Any]) -> Webhook:
    topic = str(data.get("topic", hook.topic if hook else ""))
    if not valid_topic(topic):
        raise WPError(
            "woocommerce_rest_webhook_invalid_topic", "Webhook topic is required and must be valid.", 400
        )
    url = str(data.get("delivery_url", hook.delivery_url if hook else ""))
    if not re.match(r"^https?://[^/\s]+", url):
        raise WPError(
            "woocommerce_rest_webhook_invalid_delivery_url",
            "Webhook delivery URL must be a valid URL starting with http:// or https://.",
            400,
        )
    status = str(data.get("status", hook.status if hook else "active"))
    if status not in STATUSES:
        raise invalid_params({"status": "status is not one of active, paused and disabled."})
    if hook is None:
        name = str(data.get("name") or f"Webhook created on {now_utc():%b %d, %Y @ %I:%M %p}")
        return s.add_webhook(name, topic, url, str(data.get("secret") or secrets.token_urlsafe(37)), status)
    with s.lock:
        if status == "active" and hook.status != "active":
            hook.failure_count = 0
        hook.topic, hook.delivery_url, hook.status = topic, url, status
        hook.name = str(data.get("name", hook.name))
        if data.get("secret"):
            hook.secret = str(data["secret"])
        hook.modified = now_utc()
    return hook


def _saved(s: Site, hook: Webhook, retargeted: bool = False) -> dict[str, Any]:
    """Answer a save; an active webhook is pinged when new, given a new URL, or its last ping failed
    (``WC_Webhook_Data_Store::update``: ``$trigger || pending_delivery``)."""
    if hook.status == "active" and (retargeted or hook.pending_delivery):
        sandbox().webhooks.ping(s, hook)
    with s.lock:
        return webhook_json(s, hook)


def _hook(s: Site, webhook_id: int) -> Webhook:
    return s.existing(s.webhooks, webhook_id, "webhook")


@bp.get(PREFIX + "/webhooks")
def list_webhooks(site: str) -> Response:
    """``GET webhooks`` (filter by ``status``: all, active, paused, disabled; ``orderby`` date, id, title).

    A real store orders by date, to the second: webhooks saved in the same second may change places
    between pages, so a client paging through them orders by id."""
    s = get_site(site)
    who = caller(s)
    args = Args(query_args())
    status = args.choice("status", "all", ("all", *STATUSES))
    page = args.integer("page", 1, minimum=1)
    per_page = args.integer("per_page", 10, minimum=1, maximum=100)
    orderby = args.choice("orderby", "date", ("date", "id", "title"))
    order = args.choice("order", "desc", ("asc", "desc"))
    args.check()
    require(who, "view")
    with s.lock:
        rows = sorted(
            (h for h in s.webhooks.values() if status == "all" or h.status == status),
            key=lambda h: (
                (h.name, h.id) if orderby == "title" else (h.created, h.id) if orderby == "date" else h.id
            ),
            reverse=order == "desc",
        )
        result = paginate(rows, page, per_page, wc_url(s, "webhooks"), query_args())
        resp = jsonify([webhook_json(s, h) for h in result.items])
    return result.headers(resp)


@bp.post(PREFIX + "/webhooks")
def create_webhook(site: str) -> tuple[Response, int]:
    """``POST webhooks`` {name, topic, delivery_url, secret, status}: saves, then pings when active."""
    s, data = write_request(site, "create")
    return jsonify(_saved(s, _apply(s, None, data))), 201


@bp.get(PREFIX + "/webhooks/<int:webhook_id>")
def get_webhook(site: str, webhook_id: int) -> Response:
    """``GET webhooks/<id>``."""
    s = get_site(site)
    require(caller(s), "read")
    hook = _hook(s, webhook_id)
    with s.lock:
        return jsonify(webhook_json(s, hook))


@bp.route(PREFIX + "/webhooks/<int:webhook_id>", methods=EDITABLE)
def update_webhook(site: str, webhook_id: int) -> Response:
    """``PUT webhooks/<id>`` (setting ``status: active`` re-enables a disabled webhook)."""
    s, data = write_request(site, "edit")
    return jsonify(_update(s, _hook(s, webhook_id), data))


def _update(s: Site, hook: Webhook, data: dict[str, Any]) -> dict[str, Any]:
    old_url = hook.delivery_url
    saved = _apply(s, hook, data)
    return _saved(s, saved, retargeted=saved.delivery_url != old_url)


def _delete(s: Site, webhook_id: int) -> dict[str, Any]:
    hook = _hook(s, webhook_id)
    with s.lock:
        body = webhook_json(s, hook)
        s.webhooks.pop(webhook_id, None)
    return body


@bp.delete(PREFIX + "/webhooks/<int:webhook_id>")
def delete_webhook(site: str, webhook_id: int) -> Response:
    """``DELETE webhooks/<id>?force=true`` (webhooks cannot be trashed)."""
    s, force = delete_request(site)
    if not force:
        raise WPError("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
    return jsonify(_delete(s, webhook_id))


@bp.post(PREFIX + "/webhooks/batch")
def batch_webhooks(site: str) -> Response:
    """``POST webhooks/batch``."""
    s, data = write_request(site, "batch")
    return jsonify(
        run_batch(
            data,
            lambda item: _saved(s, _apply(s, None, item)),
            lambda item: _update(s, _hook(s, int(item.get("id") or 0)), item),
            lambda hook_id: _delete(s, hook_id),
        )
    )
