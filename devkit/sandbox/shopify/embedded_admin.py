"""The merchant's admin hosting an embedded app, as Shopify's admin does.

``GET /<shop>/admin/apps/<api_key>``: a shop without the app sees the install page (the scopes of
the app's configuration); installing creates the installation and the configured webhook
subscriptions.  An installed app is shown in an iframe at its ``application_url`` with the launch
parameters ``embedded=1, hmac, host, id_token, locale, session, shop, timestamp``.  The page
answers the app's App Bridge messages: a fresh session token (``idToken()``), a redirect of the
whole admin (``open(url, "_top")``: the charge confirmation page), a toast.

``GET /cdn/shopifycloud/app-bridge.js`` is a stand-in for App Bridge (``shopify.idToken()``,
``shopify.toast.show()``, ``open(url, "_top")``) speaking that protocol; browser tests serve it for
``https://cdn.shopify.com/shopifycloud/app-bridge.js``.  ``POST /__sandbox/apps/config`` deploys a
``shopify.app.toml`` (see :mod:`sandbox.shopify.app_config`).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, request

from sandbox.shopify import session_tokens
from sandbox.shopify.app_config import deploy
from sandbox.shopify.config import DEFAULT_SCOPES, AppConfig
from sandbox.shopify.oauth import query_hmac
from sandbox.shopify.state import ShopState, WebhookSubscription
from sandbox.shopify.webhooks import topic_enum

if TYPE_CHECKING:
    from sandbox.shopify.store import Sandbox

_STYLE = (
    "body{margin:0;font:14px system-ui}nav{background:#1a1a1a;color:#fff;padding:10px 16px}main{padding:0}"
)

_ADMIN = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{app} · {shop} · Shopify admin (sandbox)</title>
<style>{style}iframe{{width:100%;height:calc(100vh - 44px);border:0}}</style></head>
<body><nav aria-label="Shopify admin">Shopify admin (sandbox) — {shop} — Apps — {app}</nav>
<main><iframe id="app-iframe" name="app-iframe" title="{app}" src="{src}"></iframe></main>
<script>
(function () {{
  var frame = document.getElementById("app-iframe");
  var appOrigin = new URL(frame.src).origin;
  var tokenUrl = {token_url};
  window.addEventListener("message", function (event) {{
    if (event.origin !== appOrigin || event.source !== frame.contentWindow) return;
    var message = event.data || {{}};
    if (message.type === "shopify:idToken") {{
      fetch(tokenUrl, {{method: "POST"}}).then(function (r) {{ return r.json(); }}).then(function (body) {{
        var reply = {{type: "shopify:idToken:reply", id: message.id, token: body.token}};
        frame.contentWindow.postMessage(reply, appOrigin);
      }});
    }} else if (message.type === "shopify:redirect") {{
      var target = new URL(message.url, window.location.href);
      if (target.protocol === "http:" || target.protocol === "https:") window.location.assign(target.href);
    }} else if (message.type === "shopify:toast") {{
      document.title = String(message.message);
    }}
  }});
}})();
</script></body></html>"""

_INSTALL = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Install {app} · Shopify admin (sandbox)</title>
<style>{style}</style></head><body><nav aria-label="Shopify admin">Shopify admin (sandbox) — {shop}</nav>
<main style="padding:16px"><h1>Install {app}</h1><p>{app} will be able to:</p><ul>{scopes}</ul>
<form method="post" action="{action}"><button type="submit">Install</button></form></main></body></html>"""

#: the stand-in App Bridge script
APP_BRIDGE_JS = (Path(__file__).resolve().parent.parent / "assets" / "shopify" / "app-bridge.js").read_text()


def admin_host(shop: ShopState) -> str:
    """The ``host`` launch parameter: base64 of the admin's host and path."""
    return base64.b64encode(f"admin.shopify.com/store/{shop.handle}".encode()).decode().rstrip("=")


def launch_url(app: AppConfig, shop: ShopState, token: str) -> str:
    """The app's URL with the launch parameters the admin adds (signed with the app secret)."""
    params = {
        "embedded": "1",
        "host": admin_host(shop),
        "id_token": token,
        "locale": "en",
        "session": secrets.token_hex(16),
        "shop": shop.domain,
        "timestamp": str(int(time.time())),
    }
    params["hmac"] = query_hmac(params, app.api_secret)
    joiner = "&" if "?" in (app.application_url or "") else "?"
    return f"{app.application_url}{joiner}{urlencode(sorted(params.items()))}"


def install_configured(sb: Sandbox, shop: ShopState, app: AppConfig) -> None:
    """A managed install: the configured scopes, and the configured webhook subscriptions for this shop."""
    sb.install(shop, app.api_key, frozenset(app.scopes or DEFAULT_SCOPES))
    now = time.time()
    with sb.state.lock:
        for topic, uri in app.webhook_subscriptions:
            enum_value = topic_enum(topic)
            taken = any(
                s.app_key == app.api_key and s.topic == enum_value and s.callback_url == uri
                for s in shop.subscriptions.values()
            )
            if not taken:
                sub = WebhookSubscription(sb.state.next_id(), app.api_key, enum_value, uri, now, now)
                shop.subscriptions[sub.num] = sub


def embedded_admin_blueprint(sb: Sandbox) -> Blueprint:
    bp = Blueprint("shopify_embedded_admin", __name__)

    def found(shop_name: str, app_key: str) -> tuple[ShopState, AppConfig]:
        """The shop and the app of an admin page (404, or 409 for an app without configuration)."""
        shop, app = sb.state.shop(shop_name), sb.app(app_key)
        if shop is None or app is None:
            abort(Response("There's no page at this address", status=404, mimetype="text/plain"))
        if not app.application_url:
            abort(
                Response(
                    f"{app.name} has no application_url: deploy its shopify.app.toml "
                    "(POST /__sandbox/apps/config)",
                    status=409,
                    mimetype="text/plain",
                )
            )
        return shop, app

    @bp.get("/<shop_name>/admin/apps/<app_key>")
    def open_app(shop_name: str, app_key: str) -> Response:
        shop, app = found(shop_name, app_key)
        sb.remember_base_url(request.host_url)
        names = {"app": escape(app.name), "shop": escape(shop.domain), "style": _STYLE}
        if app.api_key not in shop.installations:
            scopes = "".join(f"<li>{escape(s)}</li>" for s in (app.scopes or DEFAULT_SCOPES))
            action = f"/{shop.domain}/admin/apps/{app.api_key}/install"
            return Response(
                _INSTALL.format(scopes=scopes, action=escape(action), **names), mimetype="text/html"
            )
        src = launch_url(app, shop, session_tokens.mint(app, shop))
        token_url = json.dumps(f"/{shop.domain}/admin/apps/{app.api_key}/session-token")
        return Response(_ADMIN.format(src=escape(src), token_url=token_url, **names), mimetype="text/html")

    @bp.post("/<shop_name>/admin/apps/<app_key>/install")
    def install(shop_name: str, app_key: str) -> Response:
        shop, app = found(shop_name, app_key)
        install_configured(sb, shop, app)
        return Response(status=303, headers={"Location": f"/{shop.domain}/admin/apps/{app.api_key}"})

    @bp.post("/<shop_name>/admin/apps/<app_key>/session-token")
    def session_token(shop_name: str, app_key: str) -> Response:
        shop, app = found(shop_name, app_key)
        if app.api_key not in shop.installations:
            return Response(json.dumps({"error": "not installed"}), status=403, mimetype="application/json")
        return jsonify({"token": session_tokens.mint(app, shop)})

    @bp.get("/cdn/shopifycloud/app-bridge.js")
    def app_bridge() -> Response:
        return Response(APP_BRIDGE_JS, mimetype="text/javascript")

    @bp.post("/__sandbox/apps/config")
    def deploy_config() -> tuple[Response, int]:
        body: dict[str, Any] = request.get_json(silent=True) or {}
        try:
            app = deploy(
                sb,
                str(body.get("toml", "")),
                body.get("api_secret"),
                body.get("dev_url"),
                body.get("client_id"),
            )
        except ValueError as exc:
            return jsonify({"error": str(exc)}), 400
        view = {k: v for k, v in app.__dict__.items() if k != "api_secret"}
        return jsonify(view), 201

    return bp
