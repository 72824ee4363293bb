"""Choose the output format and encode: keep the store's format unless told otherwise; JPEG has
no alpha, so a transparent result is flattened onto the background (white when transparent).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image

from jobs.imaging.settings import PipelineSettings

_KEEPABLE = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
_NAMED = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass
class Encoded:
    """Encoded bytes with their format and what encoding had to change."""

    data: bytes
    format: str
    mime: str
    notes: list[str] = field(default_factory=list)


def choose_format(settings: PipelineSettings, input_format: str) -> tuple[str, list[str]]:
    """The Pillow format to write, with notes when the input's format could not be kept."""
    notes: list[str] = []
    if settings.output_format != "keep":
        return _NAMED[settings.output_format], notes
    chosen = _KEEPABLE.get(input_format.upper())
    if chosen is None:
        notes.append(f"{input_format} is not a store format; wrote PNG")
        return "PNG", notes
    if chosen == "JPEG" and settings.transparent:
        notes.append("JPEG cannot be transparent; wrote PNG instead")
        return "PNG", notes
    return chosen, notes


def flatten(image: Image.Image, settings: PipelineSettings) -> Image.Image:
    """RGB of ``image`` laid on the background colour (white when the background is transparent)."""
    if image.mode != "RGBA":
        return image.convert("RGB")
    red, green, blue, _alpha = settings.background_rgba
    base = Image.new("RGBA", image.size, (red, green, blue, 255))
    return Image.alpha_composite(base, image).convert("RGB")


def encode(image: Image.Image, settings: PipelineSettings, input_format: str) -> Encoded:
    """Encode ``image`` (RGBA) as the chosen format at the settings' quality."""
    fmt, notes = choose_format(settings, input_format)
    out = io.BytesIO()
    if fmt == "JPEG":
        if settings.transparent:
            notes.append("JPEG has no alpha: flattened onto white")
        rgb = flatten(image, settings)
        subsampling = 0 if settings.quality >= 85 else 2
        rgb.save(out, "JPEG", quality=settings.quality, optimize=True, subsampling=subsampling)
    elif fmt == "WEBP":
        keep_alpha = settings.transparent and image.mode == "RGBA"
        (image if keep_alpha else flatten(image, settings)).save(
            out, "WEBP", quality=settings.quality, method=4, exact=keep_alpha
        )
    else:
        keep_alpha = settings.transparent and image.mode == "RGBA"
        (image if keep_alpha else flatten(image, settings)).save(out, "PNG", compress_level=6)
    return Encoded(out.getvalue(), fmt, MIME[fmt], notes)
