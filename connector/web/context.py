"""Access to the app's services from a request."""

from __future__ import annotations

from flask import current_app

from connector.services import Services


def services() -> Services:
    """The Services the app was built on."""
    return current_app.config["SERVICES"]
