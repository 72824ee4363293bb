"""Secrets in request URLs never reach an access log.

Some platforms hand credentials over in a redirect's query string (WordPress's Application
Password page sends ``…?user_login=…&password=…`` to the connector), and web servers log the
request line.  A filter on the access loggers of the development server (``werkzeug``) and of
gunicorn (``gunicorn.access``) replaces such values with ``[redacted]`` before any handler sees them.
"""

from __future__ import annotations

import logging
import re
from typing import Any

#: query parameters whose values are secrets (``code``/``hmac``: Shopify's OAuth code and its signature)
SECRET_KEYS = (
    "password",
    "app_password",
    "consumer_secret",
    "consumer_key",
    "oauth_signature",
    "code",
    "hmac",
)
_SECRET = re.compile(r"((?<![\w-])(?:" + "|".join(SECRET_KEYS) + r")=)[^&\s\"']*", re.IGNORECASE)
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")


def redact(text: str) -> str:
    """``text`` with the values of secret query parameters replaced."""
    return _SECRET.sub(r"\1[redacted]", text)


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactSecrets(logging.Filter):
    """Redacts secret query values in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_clean(a) for a in record.args)
        return True


def install_redaction() -> None:
    """Put the filter on the access loggers (once)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
