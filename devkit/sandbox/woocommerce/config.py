"""Configuration of the WooCommerce sandbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta, timezone

from sandbox.common.faults import FaultConfig


@dataclass(frozen=True)
class WooSandboxConfig:
    """Knobs of the emulated WooCommerce 7.9 / WordPress 6.1 stores.

    Defaults follow a real store; tests shorten the delays.  ``allow_private_src`` plays the
    ``http_request_host_is_external`` filter for sideloaded image URLs (off: loopback and private
    addresses other than the store itself are refused, as WordPress does).  ``allow_private_callbacks``
    does the same for webhook and key-grant callbacks (on, so a connector on loopback can be reached).
    ``allow_http_callback`` lets the key grant post to an ``http://`` callback (a real store demands https).
    ``environment_type`` is ``wp_get_environment_type()``: on a "local" site WordPress offers Application
    Passwords over plain http and lets ``authorize-application.php`` redirect to http URLs.
    """

    webhook_delay: float = 60.0
    webhook_timeout: float = 60.0
    webhook_max_failures: int = 5
    ping_timeout: float = 5.0
    sideload_timeout: float = 10.0
    callback_timeout: float = 60.0
    allow_private_src: bool = False
    allow_private_callbacks: bool = True
    allow_http_callback: bool = False
    big_image_threshold: int = 2560  # WordPress's big_image_size_threshold; 0 disables scaling
    jpeg_quality: int = 82
    utc_offset_minutes: int = 120  # the site's timezone setting; dates without _gmt are in it
    admin_user: str = "admin"
    admin_email: str = "admin@example.test"
    environment_type: str = "local"  # local | development | staging | production
    faults: FaultConfig = field(default_factory=FaultConfig)
    wc_version: str = "7.9.0"
    wp_version: str = "6.1.1"

    @property
    def tz(self) -> timezone:
        """The site's local timezone."""
        return timezone(timedelta(minutes=self.utc_offset_minutes))
