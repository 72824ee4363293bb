"""Secrets never reach a log: tokens, passwords, signatures and the query strings that carry them.

:func:`redact` blanks them in a text; :func:`install` makes every log record of the process pass
through it (a record factory, so the web server's access log, gunicorn's, rq's and the
connector's own loggers are all covered, whatever handlers they use).
"""

from __future__ import annotations

import logging
import re
from typing import Any

MASK = "[redacted]"

#: Names of query parameters and fields whose values are secret.
SECRET_NAMES = (
    "password|app_password|pass|pwd|passwd|token|access_token|refresh_token|id_token|session_token|"
    "code|hmac|signature|sig|s|t|oauth_signature|oauth_token|oauth_nonce|consumer_key|consumer_secret|"
    "secret|webhook_secret|client_secret|api_secret|key|state|state_hint|user_id|authorization"
)
#: Field names secret wherever they appear (``password=…``, ``"consumer_secret": "…"``).
SECRET_FIELDS = (
    "password|app_password|passwd|access_token|refresh_token|id_token|session_token|oauth_signature|"
    "consumer_key|consumer_secret|webhook_secret|client_secret|api_secret|secret_key|encryption_key"
)
_QUERY = re.compile(rf"(?i)([?&;](?:{SECRET_NAMES})=)[^&\s\"'#]*")
_FIELD = re.compile(rf"(?i)([\"']?\b(?:{SECRET_FIELDS})[\"']?\s*[:=]\s*[\"']?)(?![\"'\s])[^\"'&\s,}}]+")
_AUTH = re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._~-]{8,}")
_TOKENS = re.compile(r"\b(?:shp(?:at|ca|pa|ss|ua|rt)_[0-9A-Za-z]+|ck_[0-9a-f]{20,}|cs_[0-9a-f]{20,})\b")


def redact(text: str) -> str:
    """``text`` with every secret it carries replaced by ``[redacted]``."""
    text = _AUTH.sub(rf"\1 {MASK}", text)
    text = _QUERY.sub(rf"\1{MASK}", text)
    text = _FIELD.sub(rf"\1{MASK}", text)
    return _TOKENS.sub(MASK, text)


_installed = False


def install() -> None:
    """Redact every log record this process creates from now on (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error report
            return record
        record.msg, record.args = redact(message), None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
