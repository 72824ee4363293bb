"""The merchant's app inside the platform's admin (Shopify): every request carries a session token.

``GET /embedded/<platform>`` is the app's URL (``application_url``): the admin opens it in an
iframe with launch parameters and a session token; a store seen for the first time is installed
there by token exchange.  Everything else is ``/embedded/<platform>/api/...`` with
``Authorization: Bearer <session token>``, acting only on the token's own store.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request

from connector import actions, billing
from connector.errors import ConnectorError
from connector.models import Image, Product, Run
from connector.onboarding import start_install_sync
from connector.store_settings import configure_store
from connector.stores import save_install
from connector.web.context import services
from connector.web.embedded_overview import overview
from connector.web.embedded_session import Merchant, embedded_app, installed_store, merchant, own

bp = Blueprint(
    "embedded",
    __name__,
    url_prefix="/embedded",
    template_folder="templates",
    static_folder="static/embedded",
    static_url_path="/static",
)


@bp.after_request
def frame_policy(response: Any) -> Any:
    """Only the admin may frame the app; nothing is cached between shops."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<platform>")
def launch(platform: str):
    """The app's URL in the admin: check the launch and its token, install on first load, show the app."""
    svc = services()
    app = embedded_app(platform)
    identity = app.verify_launch(request.args)
    store_id = installed_store(platform, identity.shop)
    if store_id is None:  # managed install: the admin installed the app; trade the token for access
        result = app.install_from_session(identity.shop, app.launch_token(request.args))
        store_id = save_install(svc, platform, result.shop, result.credentials)
        start_install_sync(svc, store_id)
    notice = _refresh_plan(store_id)
    page = render_template(
        "embedded/app.html",
        frame=app.embedded_frame(),
        platform=platform,
        shop=identity.shop,
        launch_token=app.launch_token(request.args),
        view=overview(svc, store_id),
        notice=notice,
    )
    ancestors = " ".join(app.frame_ancestors(identity.shop))
    return page, 200, {"Content-Security-Policy": f"frame-ancestors {ancestors};"}


def _refresh_plan(store_id: int) -> str | None:
    """Mirror the store's plan from the platform (after an approval it is active); a notice on trouble."""
    try:
        active = billing.refresh_subscription(services(), store_id)
    except ConnectorError as exc:
        return f"The plan could not be checked just now ({exc.message}); usage below may be out of date."
    if active is not None:
        actions.release_waiting(services(), store_id)  # results that waited for the plan go out now
        billing.charge_waiting(services(), store_id)  # charges the platform could not take before
    return None


@bp.get("/<platform>/api/view")
def view(platform: str):
    """The page's content again (after an action)."""
    who = merchant(platform)
    return render_template("embedded/_main.html", platform=platform, view=overview(services(), who.store_id))


def _done(message: str, **extra: Any):
    return jsonify(message=message, **extra)


@bp.post("/<platform>/api/images/<int:image_id>/<action>")
def image_action(platform: str, image_id: int, action: str):
    """Approve, reject, redo or roll back one image of the merchant's store."""
    who = merchant(platform)
    own(who, Image, image_id)
    svc = services()
    if action == "approve":
        actions.approve(svc, actions.latest_result(svc, image_id).id, actor=who.actor)
        return _done(f"Approved: image {image_id} is being published.")
    if action == "reject":
        actions.reject(svc, actions.latest_result(svc, image_id).id, actor=who.actor)
        return _done(f"Rejected: image {image_id} keeps its original photo.")
    if action == "redo":
        actions.reprocess(svc, store_id=who.store_id, image_id=image_id, actor=who.actor)
        return _done(f"Image {image_id} is being processed again.")
    if action == "rollback":
        _, count = actions.rollback(svc, store_id=who.store_id, image_id=image_id, actor=who.actor)
        return _done(f"Rolling back image {image_id} ({count} to restore).")
    return jsonify(error=f"unknown action {action!r}", hint="approve, reject, redo or rollback"), 404


@bp.post("/<platform>/api/<scope>/<int:row_id>/rollback")
def scope_rollback(platform: str, scope: str, row_id: int):
    """Put every photo a product shows (``products``), or a run changed (``runs``), back as it was."""
    who = merchant(platform)
    if scope not in ("products", "runs"):
        return jsonify(error=f"cannot roll back {scope!r}", hint="roll back products or runs"), 404
    product = scope == "products"
    own(who, Product if product else Run, row_id)
    _, count = actions.rollback(
        services(),
        store_id=who.store_id,
        product_id=row_id if product else None,
        run_id=None if product else row_id,
        actor=who.actor,
    )
    return _done(f"Rolling back {count} image(s) of the {'product' if product else 'run'}.")


@bp.post("/<platform>/api/settings")
def save_settings(platform: str):
    """Mode, preset, model and QA strictness, checked before they are saved."""
    who = merchant(platform)
    form = request.get_json(silent=True) or {}
    if not isinstance(form, dict):
        form = {}
    chosen = configure_store(
        services(),
        who.store_id,
        mode=str(form.get("mode", "")),
        preset=str(form.get("preset", "")),
        model=str(form.get("model", "")),
        strictness=str(form.get("strictness", "")),
    )
    return _done("Settings saved; new photos are processed with them.", settings=chosen)


@bp.post("/<platform>/api/billing/subscribe")
def subscribe(platform: str):
    """Offer the plan; the page sends the merchant to the platform's confirmation page."""
    who: Merchant = merchant(platform)
    back = embedded_app(platform).admin_app_url(who.identity.shop)
    url = billing.subscribe(services(), who.store_id, back)
    return _done("Approve the plan on the confirmation page.", confirmation_url=url)
