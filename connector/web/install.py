"""Install a store: start the platform's grant, finish it, register webhooks, queue the first sync."""

from __future__ import annotations

import secrets

from flask import Blueprint, redirect, request, session, url_for

from connector.errors import AuthError
from connector.stores import open_client, save_install
from connector.web.context import services

bp = Blueprint("install", __name__)


@bp.get("/install/<platform>")
def begin(platform: str):
    """Send the merchant to the platform's consent screen."""
    shop = request.args.get("shop", "").strip().lower()
    if not shop:
        raise AuthError(
            "the install link needs ?shop=<your store>", hint="open the install link from the store"
        )
    state = secrets.token_urlsafe(24)
    session[f"install_state:{platform}"] = state
    # server-to-server callbacks (WooCommerce's key grant) carry no browser session: remember it here too
    services().redis.set(services().settings.redis_key("install-state", state), f"{platform}:{shop}", ex=3600)
    callback = services().settings.public_url + url_for("install.finish", platform=platform)
    return redirect(services().platform(platform).authorize_url(shop, state, callback))


@bp.route("/install/<platform>/callback", methods=["GET", "POST"])
def finish(platform: str):
    """Verify the callback, keep the credentials encrypted, subscribe webhooks, start a sync."""
    svc = services()
    expected = session.pop(f"install_state:{platform}", None)
    hint = request.args.get("state_hint", "")
    if expected is None and hint and svc.redis.delete(svc.settings.redis_key("install-state", hint)):
        expected = hint
    if expected is not None:
        svc.redis.delete(svc.settings.redis_key("install-state", expected))
    else:
        raise AuthError(
            "this install callback does not belong to an install the connector started",
            hint="start again from the install link",
        )
    result = svc.platform(platform).complete_install(request.args, request.get_data(), expected)
    store_id = save_install(svc, platform, result.shop, result.credentials)
    open_client(svc, store_id).register_webhooks(f"{svc.settings.public_url}/webhooks/{platform}")
    from connector.enqueue import enqueue
    from connector.runs import start_run
    from jobs.tasks import sync_store_job

    run_id = start_run(svc, store_id, "install-sync", actor="install")
    enqueue(
        svc, sync_store_job, store_id, run_id, True, job_id=f"sync-store-{store_id}-r{run_id}", kind="sync"
    )
    if request.method == "POST":
        return {"store": store_id}, 200
    return redirect(url_for("dashboard.store", store_id=store_id))
