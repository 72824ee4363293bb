"""The imaging library's own errors: it is a library, so it knows nothing of the service's.

Each error says what was wrong (``message``), what the user can do (``hint``) and names the
reason in a short ``code``.  The service turns them into its own error tree at its boundary
(``connector.imaging``).
"""

from __future__ import annotations


class ImagingError(Exception):
    """Base class of every error the imaging library raises on purpose."""

    code = "imaging_error"

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None) -> None:
        super().__init__(f"{message} ({hint})" if hint else message)
        self.message, self.hint = message, hint
        self.code = code or type(self).code


class BadImageError(ImagingError):
    """An input image was refused before or while decoding; ``code`` names the reason."""

    code = "bad_image"


class ConfigurationError(ImagingError):
    """A setting, preset, template or model the pipeline was given cannot be used."""

    code = "configuration"
