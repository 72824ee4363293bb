"""Settings of the WooCommerce adapter."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from adapters.outbound import STRICT, OutboundPolicy

#: identifies the connector's Application Passwords on the merchant's profile (WordPress groups them by it)
DEFAULT_APP_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://image-connector.invalid/woocommerce"))


@dataclass(frozen=True)
class WooConfig:
    """How the adapter talks to stores.

    ``return_url`` is where the merchant's browser lands after granting access (the keys go
    to the callback server-to-server); default: the root of the callback's origin.  ``app_id`` is the
    UUID the connector gives WordPress when asking for an Application Password.  ``outbound``
    is where requests may go (default: public https hosts only; see :mod:`adapters.outbound`).
    ``allow_http_callback`` lets installs start with an http callback, which only the sandbox's emulated
    stores accept when told to: a real WooCommerce posts keys only to https ("The callback_url needs
    to be over SSL").
    """

    app_name: str = "Image Connector"
    timeout: float = 30.0
    per_page: int = 100
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    return_url: str | None = None
    app_id: str = DEFAULT_APP_ID
    max_download_bytes: int = 200 * 1024 * 1024
    user_agent: str = "image-connector (WooCommerce REST v3)"
    outbound: OutboundPolicy = STRICT
    allow_http_callback: bool = False
