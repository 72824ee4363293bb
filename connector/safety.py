"""What a deployment must have before it serves anyone: secrets, a guarded dashboard, a proxy setup.

Production is ``CONNECTOR_ENV=production``, or any ``PUBLIC_URL`` not on this machine when
``CONNECTOR_ENV`` is unset (see :attr:`connector.settings.Settings.production`).  There the web app
and the workers refuse to start without ``SECRET_KEY``, ``ENCRYPTION_KEY`` and either
``DASHBOARD_PASSWORD`` or an explicit ``DASHBOARD_LOCAL_ONLY=1``; requests to stores are https only.
"""

from __future__ import annotations

import logging
import secrets

from connector.errors import ConfigurationError
from connector.settings import Settings

log = logging.getLogger(__name__)

#: Shorter secret keys are guessable; production refuses them.
MIN_SECRET_KEY_LENGTH = 16


def refuse_unsafe_start(settings: Settings) -> None:
    """Raise ConfigurationError when a production deployment lacks what keeps it safe."""
    if not settings.production:
        return
    settings.require_secrets()
    if len(settings.secret_key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigurationError(
            f"SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters",
            hint="generate one: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
        )
    if not settings.dashboard_password and not settings.dashboard_local_only:
        raise ConfigurationError(
            "production needs DASHBOARD_PASSWORD (or DASHBOARD_LOCAL_ONLY=1 for a dashboard reachable only "
            "from this machine)",
            hint="set DASHBOARD_PASSWORD to a long random string",
        )


def web_secret_key(settings: Settings) -> str:
    """The key signing sessions and media URLs: ``SECRET_KEY``; outside production, without one, a
    random key for this process (sessions and links then last as long as the process)."""
    if settings.secret_key:
        return settings.secret_key
    if settings.production:
        raise ConfigurationError("SECRET_KEY is not set", hint="run `make env` or set SECRET_KEY")
    log.warning("SECRET_KEY is not set: using a random key for this process (run `make env`)")
    return secrets.token_urlsafe(32)
