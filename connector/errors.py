"""One error hierarchy for the whole service, in the spirit of ``requests.exceptions``.

Every error says what was wrong and what the user can do (``hint``).  Callers decide on
retries by class: :class:`TransientError` may be retried with backoff, everything else is
permanent until a person changes something.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base class of every error the connector raises on purpose."""

    #: A short machine-readable code, stored with failed jobs and shown in the dashboard.
    code = "connector_error"

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code:
            self.code = code

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigurationError(ConnectorError):
    """The service is set up wrongly (missing env var, bad value, missing model)."""

    code = "configuration"


class TransientError(ConnectorError):
    """Worth retrying later: timeouts, resets, 5xx, throttling, a lock held by someone else."""

    code = "transient"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: str | None) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class RateLimited(TransientError):
    """The platform asked us to slow down (HTTP 429 or a GraphQL THROTTLED answer)."""

    code = "rate_limited"


class PlatformError(ConnectorError):
    """The platform refused a request for a reason that a retry will not change."""

    code = "platform_error"

    def __init__(self, message: str, *, status: int | None = None, **kw: str | None) -> None:
        super().__init__(message, **kw)
        self.status = status


class AuthError(PlatformError):
    """Credentials are missing, expired beyond refresh, revoked or lack a scope."""

    code = "auth"


class NotFound(PlatformError):
    """The product or media no longer exists on the store."""

    code = "not_found"


class WebhookRejected(ConnectorError):
    """A webhook failed verification (bad signature, unknown shop); nothing was changed."""

    code = "webhook_rejected"


class BadImageError(ConnectorError):
    """An input image was refused before or while decoding; ``code`` names the reason."""

    code = "bad_image"


class MediaFailed(PlatformError):
    """The store could not process an uploaded image (Shopify marked it FAILED); its reason is kept."""

    code = "media_failed"


class ConflictError(ConnectorError):
    """Someone else is working on the same product, or the store changed under us (drift)."""

    code = "conflict"


class OutboundRefused(ConnectorError):
    """A request to a store was refused by the outbound guard (not https, not a public address,
    a redirect to another host): nothing was sent."""

    code = "outbound_refused"
