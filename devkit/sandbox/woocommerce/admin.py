"""``/__sandbox/...``: create sites, inspect state, play the merchant, flush webhooks, set faults.

Never part of the emulated API surface (faults are not injected here).
"""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.woocommerce import merchant
from sandbox.woocommerce.context import sandbox
from sandbox.woocommerce.media import UploadRejected
from sandbox.woocommerce.models import Product
from sandbox.woocommerce.site import NewFile, Site
from sandbox.woocommerce.state import attachment_state, product_state, site_summary, webhooks_state

bp = Blueprint("woo_admin", __name__, url_prefix="/__sandbox")


def _fail(status: int, message: str) -> Response:
    resp = jsonify({"error": message})
    resp.status_code = status
    return resp


class AdminError(Exception):
    """A bad admin request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@bp.errorhandler(AdminError)
def _admin_error(exc: AdminError) -> Response:
    return _fail(exc.status, str(exc))


def _site(name: str) -> Site:
    site = sandbox().sites.get(name)
    if site is None:
        raise AdminError(404, f"no site {name!r}; create it with POST /__sandbox/sites")
    return site


def _product(site: Site, product_id: int) -> Product:
    with site.lock:
        product = site.products.get(product_id)
    if product is None:
        raise AdminError(404, f"site {site.name!r} has no product {product_id}")
    return product


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _flag(name: str, default: bool) -> bool:
    raw = request.args.get(name)
    return default if raw is None else raw.lower() in ("1", "true", "yes")


@bp.get("/health")
def health() -> Response:
    """Liveness and the site names."""
    return jsonify({"ok": True, "sites": sorted(sandbox().sites)})


@bp.post("/sites")
def create_site() -> tuple[Response, int]:
    """``{"site", "seed", "size", "profile"}`` → credentials (consumer key/secret, application password)."""
    data = _body()
    try:
        creds = sandbox().create_site(
            str(data.get("site", "")),
            request.host_url,
            seed=int(data.get("seed", 0)),
            size=int(data.get("size", 5)),
            profile=str(data.get("profile", "mixed")),
        )
    except ValueError as exc:
        raise AdminError(409 if "already exists" in str(exc) else 400, str(exc)) from None
    return jsonify(creds.as_dict()), 201


@bp.get("/sites")
def list_sites() -> Response:
    """Every site with counts."""
    return jsonify([site_summary(s) for s in list(sandbox().sites.values())])


@bp.get("/sites/<name>")
def get_site_info(name: str) -> Response:
    """Counts plus the credentials handed out at creation."""
    site = _site(name)
    creds = sandbox().credentials.get(name)
    return jsonify({**site_summary(site), "credentials": creds.as_dict() if creds else None})


@bp.delete("/sites/<name>")
def delete_site(name: str) -> Response:
    """Forget a site."""
    _site(name)
    sandbox().delete_site(name)
    return jsonify({"deleted": True})


@bp.get("/sites/<name>/products")
def products(name: str) -> Response:
    """What every product shows (``?ids=1,2`` to pick, ``?hashes=1`` for sha256 of the bytes)."""
    site = _site(name)
    wanted = {int(i) for i in request.args.get("ids", "").split(",") if i.strip()}
    with site.lock:
        rows = [p for p in site.products.values() if not wanted or p.id in wanted]
    hashes = _flag("hashes", False)
    return jsonify([product_state(site, p, hashes) for p in sorted(rows, key=lambda p: p.id)])


@bp.get("/sites/<name>/products/<int:product_id>")
def product(name: str, product_id: int) -> Response:
    """What one product shows: attachment ids, positions, sha256 of the bytes, variation images."""
    site = _site(name)
    return jsonify(product_state(site, _product(site, product_id), _flag("hashes", True)))


@bp.get("/sites/<name>/media")
def media(name: str) -> Response:
    """The whole media library (``?hashes=1`` adds sha256)."""
    site = _site(name)
    with site.lock:
        atts = sorted(site.attachments.values(), key=lambda a: a.id)
    hashes = _flag("hashes", False)
    return jsonify([attachment_state(site, a, hashes) for a in atts])


@bp.delete("/sites/<name>/media/<int:media_id>")
def delete_media(name: str, media_id: int) -> Response:
    """The merchant deletes an attachment for good."""
    site = _site(name)
    if not site.delete_attachment(media_id):
        raise AdminError(404, f"site {name!r} has no attachment {media_id}")
    return jsonify({"deleted": True})


@bp.get("/sites/<name>/uploads")
def uploads(name: str) -> Response:
    """Every upload ever made (wp/v2/media, sideloads, merchant), failed ones with their error."""
    site = _site(name)
    with site.lock:
        return jsonify(list(site.uploads))


@bp.get("/sites/<name>/webhooks")
def webhooks(name: str) -> Response:
    """Webhooks with secret, failure count and pings."""
    return jsonify(webhooks_state(_site(name)))


@bp.get("/sites/<name>/deliveries")
def deliveries(name: str) -> Response:
    """The webhook delivery log of a site."""
    _site(name)
    return jsonify([d.as_dict() for d in sandbox().outbox.deliveries if d.meta.get("site") == name])


@bp.get("/sites/<name>/grants")
def grants(name: str) -> Response:
    """Key-grant callbacks posted, and the keys that exist."""
    site = _site(name)
    with site.lock:
        keys = [
            {
                "key_id": k.key_id,
                "permissions": k.permissions,
                "description": k.description,
                "truncated_key": k.truncated_key,
            }
            for k in site.keys.values()
        ]
        return jsonify({"grants": list(site.grants), "keys": keys})


@bp.get("/sites/<name>/app-passwords")
def app_passwords(name: str) -> Response:
    """The Application Passwords of the site's users (never the passwords themselves)."""
    site = _site(name)
    with site.lock:
        return jsonify(
            [
                {
                    "uuid": p.uuid,
                    "user_id": p.user_id,
                    "name": p.name,
                    "app_id": p.app_id,
                    "created": p.created.isoformat(),
                    "last_used": p.last_used.isoformat() if p.last_used else None,
                }
                for p in site.app_passwords
            ]
        )


def _new_file(data: dict[str, Any]) -> NewFile:
    if data.get("data_base64"):
        try:
            raw = base64.b64decode(str(data["data_base64"]), validate=True)
        except ValueError:
            raise AdminError(400, "data_base64 is not valid base64") from None
        return NewFile(str(data.get("filename") or "merchant-upload.jpg"), raw, "")
    return merchant.rendered(
        str(data.get("kind", "on-white")), int(data.get("seed", 1)), data.get("filename")
    )


@bp.post("/sites/<name>/products/<int:product_id>/images/<action>")
def merchant_edit(name: str, product_id: int, action: str) -> Response:
    """Merchant edits: ``replace`` {position, kind|data_base64, seed, filename, alt}, ``add`` {…, position},
    ``reorder`` {order: [ids]}, ``remove`` {media_id}, ``touch`` {} — each saves (product.updated)."""
    site = _site(name)
    prod = _product(site, product_id)
    data = _body()
    try:
        if action == "replace":
            merchant.replace_image(
                site, prod, int(data.get("position", 0)), _new_file(data), str(data.get("alt", ""))
            )
        elif action == "add":
            pos = data.get("position")
            merchant.add_image(
                site, prod, _new_file(data), None if pos is None else int(pos), str(data.get("alt", ""))
            )
        elif action == "reorder":
            merchant.reorder_images(site, prod, [int(i) for i in data.get("order", [])])
        elif action == "remove":
            merchant.remove_image(site, prod, int(data["media_id"]))
        elif action == "touch":
            merchant.touch(site, prod)
        else:
            raise AdminError(
                404, f"unknown merchant action {action!r}; use replace, add, reorder, remove or touch"
            )
    except (IndexError, ValueError, KeyError, UploadRejected) as exc:
        raise AdminError(400, f"{type(exc).__name__}: {exc}") from None
    return jsonify(product_state(site, _product(site, product_id), hashes=True))


@bp.post("/sites/<name>/products/<int:product_id>/trash")
def merchant_trash(name: str, product_id: int) -> Response:
    """The merchant trashes a product (product.deleted)."""
    site = _site(name)
    site.trash_product(_product(site, product_id))
    return jsonify({"trashed": True})


@bp.post("/flush")
def flush() -> Response:
    """Deliver every pending webhook now; the attempts made."""
    return jsonify([d.as_dict() for d in sandbox().outbox.flush()])


@bp.get("/deliveries")
def all_deliveries() -> Response:
    """The delivery log of every site."""
    return jsonify([d.as_dict() for d in sandbox().outbox.deliveries])


@bp.route("/faults", methods=["GET", "PUT", "POST"])
def faults() -> Response:
    """Read or change fault injection: {error_rate, kinds, latency_ms, retry_after, seed, hang_s}."""
    injector = sandbox().faults
    if request.method != "GET":
        try:
            injector.update(**_body())
        except (TypeError, ValueError) as exc:
            raise AdminError(400, str(exc)) from None
    return jsonify({**injector.config.as_dict(), "injected": dict(injector.injected)})


@bp.route("/settings", methods=["GET", "PUT", "POST"])
def settings() -> Response:
    """Read or change ``webhook_delay`` (seconds) and ``webhook_timeout`` of the delivery queue."""
    box = sandbox().outbox
    if request.method != "GET":
        data = _body()
        if "webhook_delay" in data:
            box.delay = float(data["webhook_delay"])
        if "webhook_timeout" in data:
            box.timeout = float(data["webhook_timeout"])
    return jsonify({"webhook_delay": box.delay, "webhook_timeout": box.timeout, "pending": box.pending()})
