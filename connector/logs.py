"""Logs an operator can follow: every line says which store, run, job and image it concerns.

Readable text by default, one JSON object a line with ``LOG_FORMAT=json``.  The context comes
from :func:`log_context` (contextvars, so threads and jobs do not mix theirs).  Secrets never
reach the output: the service's handler scrubs every line — ours and the libraries' (urllib3's
request lines, werkzeug's access log) — of token-, secret-, password- and signature-looking
values and of every secret value the process knows (settings, decrypted store credentials).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from connector.settings import Settings

#: The fields a line may carry, in the order text lines show them.
CONTEXT_FIELDS = ("store", "run", "job", "image")
REDACTED = "[redacted]"

_context: ContextVar[dict[str, Any]] = ContextVar("connector_log_context", default={})  # noqa: B039

_SECRET_NAME = r"[\w.-]*(?:token|secret|password|passwd|signature|hmac|api[_-]?key|consumer[_-]?key)[\w.-]*"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # query strings and forms: access_token=…, oauth_signature=…, hmac=…, code=… (an OAuth grant)
    (re.compile(rf"(?i)((?:{_SECRET_NAME}|(?<![\w.-])code|(?<![\w.-])key)=)[^&\s\"'<>]+"), rf"\1{REDACTED}"),
    # headers, dict reprs and JSON: "X-Shopify-Access-Token": "…", 'password': '…'
    (re.compile(rf"(?i)([\"']?{_SECRET_NAME}[\"']?\s*[:]\s*[\"']?)[^\"'\s,}}]+"), rf"\1{REDACTED}"),
    # what stands for a secret in the service's own URLs: install states, signed media links
    (re.compile(r"(?i)([?&](?:state|state_hint|user_id|t|s)=)[^&\s\"'<>]+"), rf"\1{REDACTED}"),
    # Authorization headers
    (re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._~-]{6,}"), rf"\1 {REDACTED}"),
    # token shapes of the platforms: Shopify's shpat_/shpca_/…, WooCommerce's ck_/cs_ keys
    (re.compile(r"\bshp[a-z]{2}_[A-Za-z0-9]+"), REDACTED),
    (re.compile(r"\b(?:ck|cs)_[0-9a-f]{16,}\b"), REDACTED),
)

_secret_values: set[str] = set()
_secret_lock = threading.Lock()
_secret_regex: re.Pattern[str] | None = None

#: Shorter values are not treated as secrets (they would scrub ordinary words and numbers).
MIN_SECRET_LENGTH = 6


def redact_values(values: Iterable[object]) -> None:
    """Remember secret values (tokens, passwords, keys) so that no log line shows them."""
    global _secret_regex
    fresh = {str(v) for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH}
    with _secret_lock:
        if fresh <= _secret_values:
            return
        _secret_values.update(fresh)
        ordered = sorted(_secret_values, key=len, reverse=True)
        _secret_regex = re.compile("|".join(re.escape(v) for v in ordered))


def scrub(text: str) -> str:
    """``text`` with every secret-looking and every known secret value replaced."""
    known = _secret_regex
    if known is not None:
        text = known.sub(REDACTED, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``store``, ``run``, ``job``, ``image`` (None values are left out) to every line logged inside."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, Any]:
    """The fields lines logged now carry."""
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Puts the current context on each record (as ``record.context``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "context"):
            record.context = current_context()
        return True


def _exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    if record.exc_info:
        return formatter.formatException(record.exc_info)
    return record.exc_text or ""


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [store=1 run=2 job=… image=3]``, scrubbed."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = getattr(record, "context", {}) or {}
        tags = " ".join(f"{k}={context[k]}" for k in CONTEXT_FIELDS if k in context)
        return scrub(f"{line} [{tags}]" if tags else line)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the context fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        entry.update(getattr(record, "context", {}) or {})
        exception = _exception_text(self, record)
        if exception:
            entry["exception"] = scrub(exception)
        return json.dumps(entry, default=str)


class _ServiceHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """The one handler the service installs on the root logger."""


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written (test runners and daemons swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


#: Configuration variables whose values are secrets (SECRET_KEY, SHOPIFY_API_SECRET, DASHBOARD_PASSWORD, ...).
_SECRET_SETTING = re.compile(r"SECRET|PASSWORD|TOKEN|ENCRYPTION_KEY|PRIVATE")


def _settings_secrets(settings: Settings) -> list[str]:
    keys = [k.strip() for k in settings.encryption_key.split(",")]
    configured = [v for k, v in settings.env.items() if _SECRET_SETTING.search(k.upper())]
    return [settings.secret_key, settings.dashboard_password, *keys, *configured]


def remove_service_handler() -> None:
    """Take the service's handler off the root logger (tests, embedding)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ServiceHandler)]:
        root.removeHandler(old)


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Send every logger's lines through one scrubbing handler in ``settings.log_format``.

    Idempotent: a second call replaces the handler the first installed.
    """
    redact_values(_settings_secrets(settings))
    remove_service_handler()
    root = logging.getLogger()
    handler = _ServiceHandler(stream or _CurrentStderr())
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    return handler
