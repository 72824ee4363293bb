"""The media type of image bytes, read from their header (what a backup is recorded and re-uploaded as)."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError


def sniff_mime(data: bytes, default: str = "application/octet-stream") -> str:
    """``image/jpeg``, ``image/png``, … as the bytes' header says; ``default`` when they are no image."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.get_format_mimetype() or default
    except (UnidentifiedImageError, OSError, ValueError):
        return default
