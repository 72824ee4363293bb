"""App configuration as code: a ``shopify.app.toml`` deployed to the sandbox, as ``shopify app deploy``
does to the Partner Dashboard.

Read: ``client_id``, ``name``, ``application_url``, ``embedded``, ``[access_scopes] scopes``,
``[auth] redirect_urls``, ``[webhooks] api_version`` and every ``[[webhooks.subscriptions]]``
(``topics`` and/or ``compliance_topics`` with a ``uri``).  ``dev_url`` replaces the origin of
every URL in the file, as ``shopify app dev`` points an app at a tunnel.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from sandbox.shopify.config import AppConfig
from sandbox.shopify.store import KNOWN_SCOPES, split_scopes
from sandbox.shopify.webhooks import COMPLIANCE_TOPICS

if TYPE_CHECKING:
    from sandbox.shopify.store import Sandbox


def _rebase(url: str, dev_url: str | None) -> str:
    if not dev_url:
        return url
    base, parts = urlsplit(dev_url.rstrip("/")), urlsplit(url)
    path = base.path.rstrip("/") + parts.path
    return urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))


def app_config_from_toml(text: str, secret: str, dev_url: str | None = None) -> AppConfig:
    """The app's dashboard entry from a ``shopify.app.toml``; ValueError says what is wrong."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"shopify.app.toml is not valid TOML: {exc}") from exc
    for key in ("client_id", "application_url"):
        if not data.get(key):
            raise ValueError(f"shopify.app.toml needs {key}")
    scopes = split_scopes(str((data.get("access_scopes") or {}).get("scopes", "")))
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        raise ValueError(f"unknown access scopes: {', '.join(unknown)}")
    webhooks = data.get("webhooks") or {}
    subscriptions: list[tuple[str, str]] = []
    compliance_url: str | None = None
    for sub in webhooks.get("subscriptions") or []:
        uri = _rebase(str(sub.get("uri") or ""), dev_url)
        if not uri:
            raise ValueError("every [[webhooks.subscriptions]] needs a uri")
        subscriptions.extend((str(topic), uri) for topic in sub.get("topics") or [])
        for topic in sub.get("compliance_topics") or []:
            if topic not in COMPLIANCE_TOPICS:
                raise ValueError(f"{topic!r} is not a compliance topic ({', '.join(COMPLIANCE_TOPICS)})")
            compliance_url = uri
    redirects = (data.get("auth") or {}).get("redirect_urls") or []
    return AppConfig(
        api_key=str(data["client_id"]),
        api_secret=secret,
        name=str(data.get("name") or "App"),
        redirect_urls=tuple(_rebase(str(u), dev_url) for u in redirects),
        compliance_url=compliance_url,
        application_url=_rebase(str(data["application_url"]), dev_url),
        embedded=bool(data.get("embedded", True)),
        scopes=tuple(scopes),
        webhooks_api_version=str(webhooks.get("api_version") or "") or None,
        webhook_subscriptions=tuple(subscriptions),
    )


def deploy(
    sb: Sandbox,
    text: str,
    secret: str | None = None,
    dev_url: str | None = None,
    client_id: str | None = None,
) -> AppConfig:
    """Register (or update) the app a ``shopify.app.toml`` describes; its secret stays the registered one.

    ``client_id`` overrides the file's (a dev app with its own key, as ``shopify app dev`` uses).
    """
    config = app_config_from_toml(text, secret or "", dev_url)
    if client_id:
        config = replace(config, api_key=client_id)
    known = sb.app(config.api_key)
    if not (secret or known):
        raise ValueError(f"app {config.api_key} is not registered: give its secret")
    return sb.register_app(replace(config, api_secret=secret or (known.api_secret if known else "")))
