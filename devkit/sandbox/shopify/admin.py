"""The sandbox's own admin routes under ``/__sandbox`` — never part of the Shopify API surface.

Tests and the demo use them to create shops, issue tokens as if installed, look at what a
store shows now and at every upload and webhook delivery, play the merchant (edit products and
images so drift can happen), inject faults and finish delayed work at once.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, jsonify, request

from sandbox.shopify.admin_support import (
    AdminError,
    admin_routes,
    bulk_summary,
    json_body,
    media_summary,
    product_of,
    product_summary,
    subscription_summary,
)
from sandbox.shopify.config import DEFAULT_SCOPES, AppConfig
from sandbox.shopify.gids import gid
from sandbox.shopify.payloads import compliance_payload, product_payload, shop_payload
from sandbox.shopify.state import ShopState
from sandbox.shopify.uploads import staged_summary
from sandbox.shopify.webhooks import COMPLIANCE_TOPICS

if TYPE_CHECKING:
    from sandbox.shopify.store import Sandbox


def admin_blueprint(sb: Sandbox) -> Blueprint:
    """The sandbox's own routes: settings, faults, apps, shops, tokens, and what a store holds and sent."""
    bp = admin_routes("shopify_admin")
    shop_of = sb.shop_or_error

    def app_key_of(body: dict[str, Any]) -> str:
        key = body.get("api_key") or request.args.get("api_key") or sb.default_app().api_key
        if sb.app(key) is None:
            raise AdminError(404, f"no app with api_key {key!r}; register it with POST /__sandbox/apps")
        return key

    # --- sandbox-wide ------------------------------------------------------------------

    @bp.get("/health")
    def health() -> Response:
        return jsonify({"ok": True, "shops": len(sb.state.shops), "pending": sb.scheduler.pending()})

    @bp.get("/settings")
    def settings() -> Response:
        cfg = dataclasses.asdict(sb.config)
        cfg.pop("apps", None)
        cfg.pop("shops", None)
        cfg["faults"] = sb.faults.config.as_dict()
        return jsonify(cfg)

    @bp.patch("/settings")
    def update_settings() -> Response:
        sb.update_settings(**json_body())
        return settings()

    @bp.get("/faults")
    def faults() -> Response:
        return jsonify({**sb.faults.config.as_dict(), "injected": dict(sb.faults.injected)})

    @bp.put("/faults")
    def set_faults() -> Response:
        sb.faults.update(**json_body())
        return faults()

    @bp.post("/run-pending")
    def run_pending() -> Response:
        return jsonify(sb.run_pending())

    @bp.get("/apps")
    def apps() -> Response:
        return jsonify([{**dataclasses.asdict(a), "api_secret": "***"} for a in sb.apps.values()])

    @bp.post("/apps")
    def add_app() -> tuple[Response, int]:
        body = json_body()
        if not body.get("api_key") or not body.get("api_secret"):
            raise AdminError(400, "api_key and api_secret are required")
        app = sb.register_app(
            AppConfig(
                body["api_key"],
                body["api_secret"],
                name=body.get("name", "Image Connector"),
                redirect_urls=tuple(body.get("redirect_urls") or ()),
                compliance_url=body.get("compliance_url"),
            )
        )
        return jsonify({**dataclasses.asdict(app), "api_secret": "***"}), 201

    @bp.post("/deliveries/<int:delivery_id>/redeliver")
    def redeliver(delivery_id: int) -> tuple[Response, int]:
        delivery = sb.webhooks.redeliver(delivery_id)
        if delivery is None:
            raise AdminError(404, f"no sent delivery {delivery_id} to repeat")
        return jsonify(delivery.as_dict()), 202

    # --- shops ---------------------------------------------------------------------------

    @bp.get("/shops")
    def shops() -> Response:
        return jsonify([shop_info(s) for s in sb.state.shops.values()])

    def shop_info(shop: ShopState) -> dict[str, Any]:
        return {
            "shop": shop.domain,
            "id": gid("Shop", shop.num),
            "seed": shop.seed,
            "profile": shop.profile,
            "products": len(shop.products),
            "files": sum(1 for f in shop.files.values() if not f.deleted),
            "installed_apps": {k: sorted(v.scopes) for k, v in shop.installations.items()},
            "base_url": f"{sb.base_url}/{shop.domain}",
            "graphql_url": f"{sb.base_url}/{shop.domain}/admin/api/{sb.config.api_versions[0]}/graphql.json",
        }

    @bp.post("/shops")
    def create_shop() -> tuple[Response, int]:
        sb.remember_base_url(request.host_url)
        body = json_body()
        if not body.get("shop"):
            raise AdminError(400, "shop is required (e.g. 'demo' or 'demo.myshopify.com')")
        shop = sb.create_shop(
            body["shop"], int(body.get("seed", 1)), int(body.get("size", 20)), body.get("profile", "mixed")
        )
        return jsonify(shop_info(shop)), 201

    @bp.get("/shops/<shop_name>")
    def get_shop(shop_name: str) -> Response:
        return jsonify(shop_info(shop_of(shop_name)))

    @bp.delete("/shops/<shop_name>")
    def delete_shop(shop_name: str) -> Response:
        shop = shop_of(shop_name)
        with sb.state.lock:
            sb.state.shops.pop(shop.domain, None)
        return jsonify({"deleted": shop.domain})

    @bp.post("/shops/<shop_name>/tokens")
    def tokens(shop_name: str) -> tuple[Response, int]:
        shop, body = shop_of(shop_name), json_body()
        key = app_key_of(body)
        scopes = frozenset(body.get("scopes") or DEFAULT_SCOPES)
        sb.install(shop, key, scopes)
        answer = sb.issue_tokens(
            shop,
            key,
            scopes,
            expiring=bool(body.get("expiring", True)),
            access_ttl=body.get("access_ttl"),
            refresh_ttl=body.get("refresh_ttl"),
        )
        return jsonify(answer), 201

    @bp.post("/shops/<shop_name>/tokens/expire")
    def expire(shop_name: str) -> Response:
        shop, body = shop_of(shop_name), json_body()
        count = sb.expire_tokens(shop, body.get("api_key"), body.get("kind", "access"))
        return jsonify({"expired": count})

    @bp.post("/shops/<shop_name>/uninstall")
    def uninstall(shop_name: str) -> Response:
        shop, body = shop_of(shop_name), json_body()
        return jsonify({"webhooks_sent": sb.uninstall(shop, app_key_of(body))})

    @bp.get("/shops/<shop_name>/throttle")
    def throttle(shop_name: str) -> Response:
        shop = shop_of(shop_name)
        bucket = sb.buckets.get(shop.domain, app_key_of({}))
        return jsonify({**bucket.status().as_dict(), "spentPoints": bucket.spent})

    @bp.put("/shops/<shop_name>/throttle")
    def set_throttle(shop_name: str) -> Response:
        shop, body = shop_of(shop_name), json_body()
        bucket = sb.buckets.get(shop.domain, app_key_of(body))
        bucket.set_level(float(body.get("currently_available", 0)))
        return jsonify(bucket.status().as_dict())

    @bp.get("/shops/<shop_name>/api-log")
    def api_log(shop_name: str) -> Response:
        return jsonify(list(shop_of(shop_name).api_log))

    # --- inspection ----------------------------------------------------------------------

    @bp.get("/shops/<shop_name>/products")
    def products(shop_name: str) -> Response:
        shop = shop_of(shop_name)
        offset, limit = int(request.args.get("offset", 0)), int(request.args.get("limit", 100))
        with sb.state.lock:
            chosen = list(shop.products.values())[offset : offset + limit]
            render = request.args.get("render", "0") == "1"
            return jsonify([product_summary(sb, shop, p, render) for p in chosen])

    @bp.get("/shops/<shop_name>/products/<pid>")
    def product(shop_name: str, pid: str) -> Response:
        shop = shop_of(shop_name)
        with sb.state.lock:
            return jsonify(product_summary(sb, shop, product_of(shop, pid)))

    @bp.get("/shops/<shop_name>/files")
    def all_files(shop_name: str) -> Response:
        shop = shop_of(shop_name)
        render = request.args.get("render", "0") == "1"
        include_seeded = request.args.get("seeded", "0") == "1"
        with sb.state.lock:
            chosen = [f for f in shop.files.values() if include_seeded or f.origin != "seed"]
            return jsonify([media_summary(sb, shop, f, None, render) for f in chosen])

    @bp.get("/shops/<shop_name>/uploads")
    def uploads(shop_name: str) -> Response:
        return jsonify(list(shop_of(shop_name).uploads))

    @bp.get("/shops/<shop_name>/staged")
    def staged(shop_name: str) -> Response:
        return jsonify([staged_summary(t) for t in shop_of(shop_name).staged.values()])

    @bp.get("/shops/<shop_name>/bulk")
    def bulk_ops(shop_name: str) -> Response:
        return jsonify([bulk_summary(op) for op in shop_of(shop_name).bulk_operations.values()])

    @bp.get("/shops/<shop_name>/webhooks")
    def subscriptions(shop_name: str) -> Response:
        return jsonify([subscription_summary(sub) for sub in shop_of(shop_name).subscriptions.values()])

    @bp.get("/shops/<shop_name>/deliveries")
    def deliveries(shop_name: str) -> Response:
        shop = shop_of(shop_name)
        topic = request.args.get("topic")
        chosen = [
            d.as_dict()
            for d in sb.outbox.deliveries
            if d.meta.get("shop") == shop.domain and (topic is None or d.meta.get("topic") == topic)
        ]
        return jsonify(chosen)

    @bp.post("/shops/<shop_name>/webhooks/trigger")
    def trigger(shop_name: str) -> tuple[Response, int]:
        shop, body = shop_of(shop_name), json_body()
        topic = body.get("topic", "")
        if topic in COMPLIANCE_TOPICS:
            key = app_key_of(body)
            payload = compliance_payload(shop, topic, body.get("customer_id"))
            if not sb.webhooks.emit_compliance(shop, topic, payload, key):
                raise AdminError(409, f"app {key} has no compliance_url configured")
            return jsonify({"sent": 1}), 202
        if topic.startswith("products/"):
            if not body.get("product_id"):
                raise AdminError(400, "product_id is required for product topics")
            with sb.state.lock:
                target = product_of(shop, str(body["product_id"]))
                payload = product_payload(sb.base_url, shop, target)
        elif topic == "app/uninstalled":
            payload = shop_payload(shop)
        else:
            raise AdminError(400, f"unsupported topic {topic!r}")
        return jsonify({"sent": sb.webhooks.emit(shop, topic, payload, body.get("api_key"))}), 202

    return bp
