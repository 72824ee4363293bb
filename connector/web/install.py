"""Install a store: start the platform's grant, finish it, register webhooks, queue the first sync.

A platform with a second consent (the port's ``FollowUpConsent``, WooCommerce) continues in the
merchant's browser: the grant's return URL (``resume``) sends it to that consent, whose callback
(``followed_up``) merges the extra credentials and only then queues the first sync.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, redirect, request, session, url_for

from connector.errors import AuthError, ConnectorError
from connector.onboarding import start_install_sync, webhook_url
from connector.port import followup_consent
from connector.services import Services
from connector.stores import add_credentials, get_store, open_client, save_install
from connector.web.context import services

bp = Blueprint("install", __name__)


@bp.get("/install/<platform>")
def begin(platform: str):
    """Send the merchant to the platform's consent screen of the store asked for (and only there)."""
    raw = request.args.get("shop", "").strip()
    if not raw:
        raise AuthError(
            "the install link needs ?shop=<your store>", hint="open the install link from the store"
        )
    app = services().platform(platform)
    try:
        shop = app.normalize_shop(raw)
    except AuthError as exc:  # not a store the connector may reach: bad input, said why
        raise ConnectorError(exc.message, hint=exc.hint, code="bad_request") from None
    state = secrets.token_urlsafe(24)
    session[f"install_state:{platform}"] = state
    # server-to-server callbacks (WooCommerce's key grant) carry no browser session: remember it here too,
    # with the store it was started for
    services().redis.set(services().settings.redis_key("install-state", state), f"{platform}:{shop}", ex=3600)
    callback = services().settings.public_url + url_for("install.finish", platform=platform)
    followup = followup_consent(app)
    if followup is not None:  # the browser comes back to us after the grant, for the second consent
        back = services().settings.public_url + url_for("install.resume", platform=platform)
        return redirect(followup.authorize_url(shop, state, callback, return_url=back))
    return redirect(app.authorize_url(shop, state, callback))


def _claim_state(svc: Services, platform: str) -> tuple[str, str]:
    """The install state this callback answers, used up; AuthError unless it was started by the
    connector for this platform and for exactly the store the callback names."""
    state = session.pop(f"install_state:{platform}", None) or request.args.get("state_hint", "")
    recorded = None
    if state:
        key = svc.settings.redis_key("install-state", state)
        with svc.redis.pipeline() as pipe:  # read and used up at once: a state answers one callback
            pipe.get(key)
            pipe.delete(key)
            recorded, _ = pipe.execute()
    if recorded is None:
        raise AuthError(
            "this install callback does not belong to an install the connector started",
            hint="start again from the install link",
        )
    started_for = recorded.decode() if isinstance(recorded, bytes) else str(recorded)
    if started_for != f"{platform}:{request.args.get('shop', '')}":
        raise AuthError(
            "this install callback names another store than the install was started for",
            hint="start again from the install link of your store",
        )
    return state, started_for.split(":", 1)[1]


@bp.route("/install/<platform>/callback", methods=["GET", "POST"])
def finish(platform: str):
    """Verify the callback, keep the credentials encrypted, subscribe webhooks, start a sync."""
    svc = services()
    expected, shop = _claim_state(svc, platform)
    app = svc.platform(platform)
    result = app.complete_install(request.args, request.get_data(), expected)
    if result.shop != shop:
        raise AuthError(
            "the platform granted access to another store", hint="start again from the install link"
        )
    store_id = save_install(svc, platform, result.shop, result.credentials)
    # webhooks now: a re-install brings a new webhook secret, and the store must sign with it at once
    open_client(svc, store_id).register_webhooks(webhook_url(svc, platform))
    if followup_consent(app) is not None:
        # the install goes on in the merchant's browser (resume → followed_up); the first sync waits for it
        svc.redis.set(svc.settings.redis_key("install-granted", expected), store_id, ex=3600)
    else:
        start_install_sync(svc, store_id)
    if request.method == "POST":
        return {"store": store_id}, 200
    return redirect(url_for("dashboard.store", store_id=store_id))


@bp.get("/install/<platform>/return")
def resume(platform: str):
    """The merchant's browser back from a grant whose credentials came server to server: on to the
    platform's second consent (WooCommerce: WordPress's Application Password page)."""
    svc = services()
    followup = followup_consent(svc.platform(platform))
    state = session.pop(f"install_state:{platform}", None)
    granted = None
    if state:
        key = svc.settings.redis_key("install-granted", state)
        granted = svc.redis.get(key)
        svc.redis.delete(key)
    if followup is None or granted is None:
        raise AuthError(
            "the store did not grant the connector access (declined, or the grant did not reach us)",
            hint="start again from the install link and approve the access",
        )
    store_id = int(granted)
    with svc.session() as s:
        shop = get_store(s, store_id).domain
    pending = secrets.token_urlsafe(24)
    session[f"install_followup:{platform}"] = {"state": pending, "store": store_id}
    callback = svc.settings.public_url + url_for("install.followed_up", platform=platform)
    return redirect(followup.followup_url(shop, pending, callback))


@bp.get("/install/<platform>/followup")
def followed_up(platform: str):
    """The second consent's callback: merge its credentials, then start the first sync."""
    svc = services()
    followup = followup_consent(svc.platform(platform))
    pending = session.pop(f"install_followup:{platform}", None)
    if followup is None or not isinstance(pending, dict):
        raise AuthError(
            "this callback does not belong to an install the connector started in this browser",
            hint="start again from the install link",
        )
    store_id = int(pending["store"])
    with svc.session() as s:
        shop = get_store(s, store_id).domain
    add_credentials(svc, store_id, followup.complete_followup(shop, request.args, str(pending["state"])))
    start_install_sync(svc, store_id)
    return redirect(url_for("dashboard.store", store_id=store_id))
