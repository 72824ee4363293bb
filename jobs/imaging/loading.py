"""Load image bytes the way real catalogs need it: refuse the unusable with a named reason, then
normalise everything else to 8-bit sRGB RGB/RGBA with the EXIF orientation applied.

Refusal codes (``BadImageError.code``): ``zero_byte``, ``too_large``, ``svg``, ``not_an_image``,
``unsupported``, ``animated``, ``truncated``.  Sizes are checked from the header, before decoding.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from jobs.imaging.errors import BadImageError
from jobs.imaging.settings import PipelineSettings

#: Formats a store photo may arrive in.  MPO is the multi-picture JPEG some cameras write.
SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF", "TIFF", "BMP", "AVIF"})
#: Formats that carry several pictures that are not an animation (take the first, never refuse).
_MULTI_PICTURE_NOT_ANIMATED = frozenset({"MPO", "TIFF"})
MAX_SIDE = 30_000
#: Largest picture the pipeline works on.  Bigger photos (up to ``max_pixels``) are scaled down to
#: this on loading, so a worker's peak memory stays bounded whatever the loader accepts; a store
#: photo this large is already far above what a product page shows.
WORKING_MAX_PIXELS = 10_000_000
_SRGB = ImageCms.createProfile("sRGB")
_FOREIGN_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"8BPS", "a Photoshop document"),
    (b"\x1f\x8b", "a gzip archive"),
)


@dataclass
class LoadedImage:
    """A decoded image ready for the pipeline: 8-bit sRGB, upright, RGB or RGBA."""

    image: Image.Image
    format: str
    mime: str
    #: True when the image is RGBA with at least one pixel not fully opaque.
    has_alpha: bool
    frames: int = 1
    #: What loading changed, e.g. "converted CMYK to RGB", "applied EXIF orientation".
    notes: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        """Width in px after orientation."""
        return self.image.width

    @property
    def height(self) -> int:
        """Height in px after orientation."""
        return self.image.height


def _refuse(code: str, message: str, hint: str) -> BadImageError:
    return BadImageError(message, code=code, hint=hint)


def _sniff_text(head: bytes) -> None:
    """Refuse markup (SVG, HTML error pages served as images) before Pillow sees it."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not text.startswith(b"<"):
        return
    if b"<svg" in head.lower():
        raise _refuse(
            "svg",
            "the file is an SVG vector drawing, not a photo",
            "upload a JPEG, PNG or WebP rendering of the product instead",
        )
    raise _refuse(
        "not_an_image",
        "the file is markup (HTML/XML), not an image - probably an error page served instead of the photo",
        "check the image URL on the store; re-upload the photo if it is broken",
    )


def _sniff_foreign(head: bytes) -> None:
    for signature, what in _FOREIGN_SIGNATURES:
        if head.startswith(signature):
            raise _refuse(
                "unsupported", f"the file is {what}, not a photo", "upload a JPEG, PNG or WebP image"
            )
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        raise _refuse("unsupported", "HEIC/HEIF photos are not supported", "export the photo as JPEG or PNG")


def _open(data: bytes, settings: PipelineSettings) -> Image.Image:
    """Open (header only) and check type and size before any pixel is decoded."""
    if not data:
        raise _refuse("zero_byte", "the image file is empty (0 bytes)", "re-upload the photo on the store")
    if len(data) > settings.max_bytes:
        raise _refuse(
            "too_large",
            f"the file is {len(data):,} bytes, more than the limit of {settings.max_bytes:,}",
            "upload a smaller file or raise max_bytes in the store's pipeline settings",
        )
    head = data[:1024]
    _sniff_text(head)
    _sniff_foreign(head)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refuse(
            "too_large", f"decompression bomb refused: {exc}", "upload a normally sized photo"
        ) from None
    except UnidentifiedImageError:
        if len(data) < 64:
            raise _refuse(
                "truncated", f"only {len(data)} bytes - not a whole image", "re-upload the photo on the store"
            ) from None
        raise _refuse(
            "not_an_image", "the file is not an image format we can read", "upload a JPEG, PNG or WebP image"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise _refuse("truncated", f"the image header is damaged: {exc}", "re-upload the photo") from None
    if image.format not in SUPPORTED_FORMATS:
        raise _refuse(
            "unsupported",
            f"{image.format} images are not supported",
            "upload a JPEG, PNG, WebP, GIF, TIFF or BMP image",
        )
    width, height = image.size
    if (
        width <= 0
        or height <= 0
        or width > MAX_SIDE
        or height > MAX_SIDE
        or width * height > settings.max_pixels
    ):
        raise _refuse(
            "too_large",
            f"the image claims {width}x{height} px, over the limit of {settings.max_pixels:,} px "
            f"(or {MAX_SIDE} px a side)",
            "upload a smaller photo or raise max_pixels in the store's pipeline settings",
        )
    return image


def _first_frame(image: Image.Image, settings: PipelineSettings, notes: list[str]) -> int:
    frames = int(getattr(image, "n_frames", 1) or 1)
    if frames > 1 and image.format not in _MULTI_PICTURE_NOT_ANIMATED:
        if not settings.allow_animated:
            raise _refuse(
                "animated",
                f"the image is animated ({frames} frames) and this store refuses animations",
                "upload a still photo, or set allow_animated to use the first frame",
            )
        notes.append(f"used the first of {frames} frames")
    if frames > 1:
        image.seek(0)
    return frames


def _decode(image: Image.Image) -> None:
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise _refuse(
            "too_large", f"decompression bomb refused: {exc}", "upload a normally sized photo"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _refuse(
            "truncated",
            f"the image data is truncated or damaged ({exc})",
            "re-upload the original photo; the stored file is incomplete",
        ) from None


def _high_bit_depth_to_8(image: Image.Image, notes: list[str]) -> Image.Image:
    """16/32-bit grey and float images to 8-bit grey, scaled by their real range."""
    array = np.asarray(image)
    if image.mode == "F":
        top = float(array.max()) if array.size else 1.0
        scaled = np.clip(array / (top if top > 1.0 else 1.0) * 255.0, 0, 255)
    else:
        top = 65535.0 if array.max(initial=0) > 255 or image.mode.startswith("I;16") else 255.0
        scaled = np.clip(array.astype(np.float64) * (255.0 / top), 0, 255)
    notes.append(f"reduced {image.mode} to 8 bits")
    return Image.fromarray(np.round(scaled).astype(np.uint8), mode="L")


def _to_srgb(image: Image.Image, notes: list[str]) -> Image.Image:
    """Honour an embedded ICC profile: convert to sRGB (CMYK included)."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK", "L", "LA"):
        return image
    alpha = image.getchannel("A") if image.mode in ("RGBA", "LA") else None
    base = image.convert("RGB" if image.mode == "RGBA" else "L") if image.mode in ("RGBA", "LA") else image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = (ImageCms.getProfileDescription(source) or "").strip()
        converted = ImageCms.profileToProfile(
            base, source, _SRGB, outputMode="RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        notes.append(f"ignored an unusable ICC profile ({exc})")
        return image
    assert converted is not None
    if "srgb" not in description.lower():
        notes.append(f"converted colour profile {description or 'embedded'} to sRGB")
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


def _normalise_mode(image: Image.Image, notes: list[str]) -> Image.Image:
    """Any Pillow mode to RGB or RGBA."""
    mode = image.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        image = _high_bit_depth_to_8(image, notes)
        mode = image.mode
    if mode == "P" or mode == "PA":
        has_transparency = "transparency" in image.info or mode == "PA"
        image = image.convert("RGBA" if has_transparency else "RGB")
    elif mode in ("LA", "La", "RGBa"):
        image = image.convert("RGBA")
    elif mode == "CMYK":
        notes.append("converted CMYK to RGB")
        image = image.convert("RGB")
    elif mode not in ("RGB", "RGBA"):
        image = image.convert("RGB")
    return image


def load_image(data: bytes, settings: PipelineSettings) -> LoadedImage:
    """Decode ``data`` into an upright 8-bit sRGB image or raise ``BadImageError`` with a named code."""
    notes: list[str] = []
    image = _open(data, settings)
    source_format = str(image.format)
    frames = _first_frame(image, settings, notes)
    original_size = image.size
    _draft_to_working_size(image)
    _decode(image)
    icc_profile = image.info.get("icc_profile")
    if _orientation(image) not in (None, 1):
        notes.append("applied EXIF orientation")
        image = ImageOps.exif_transpose(image)  # (without an orientation it would only copy the pixels)
    if icc_profile and "icc_profile" not in image.info:
        image.info["icc_profile"] = icc_profile
    image = _to_srgb(image, notes)
    image = _normalise_mode(image, notes)
    has_alpha = False
    if image.mode == "RGBA":
        has_alpha = int(np.asarray(image.getchannel("A")).min()) < 255
        if not has_alpha:
            image = image.convert("RGB")
    image.info.pop("icc_profile", None)
    image = _to_working_size(image, original_size, notes)
    mime = Image.MIME.get(source_format, "application/octet-stream")
    if source_format == "MPO":
        source_format, mime = "JPEG", "image/jpeg"
    return LoadedImage(image, source_format, mime, has_alpha, frames, notes)


def _working_size(size: tuple[int, int]) -> tuple[int, int]:
    """``size`` scaled down (aspect kept) to at most ``WORKING_MAX_PIXELS``; unchanged when below."""
    width, height = size
    if width * height <= WORKING_MAX_PIXELS:
        return size
    scale = (WORKING_MAX_PIXELS / (width * height)) ** 0.5
    return max(1, int(width * scale)), max(1, int(height * scale))


def _draft_to_working_size(image: Image.Image) -> None:
    """Let a JPEG decode at a reduced scale (1/2, 1/4, 1/8) that is still at least the working size."""
    target = _working_size(image.size)
    if target != image.size and image.format in ("JPEG", "MPO"):
        image.draft(image.mode, target)


def _to_working_size(image: Image.Image, original: tuple[int, int], notes: list[str]) -> Image.Image:
    """Scale an image above ``WORKING_MAX_PIXELS`` down to it (a note says so)."""
    target = _working_size(image.size)
    if target == image.size and image.size == original:
        return image
    if target != image.size:
        image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    notes.append(
        f"worked at {image.width}x{image.height} px: the photo's {original[0]}x{original[1]} px are "
        f"more than the {WORKING_MAX_PIXELS // 1_000_000} MP the pipeline works on"
    )
    return image


def _orientation(image: Image.Image) -> int | None:
    try:
        value = image.getexif().get(0x0112)
    except (OSError, ValueError, SyntaxError):
        return None
    return int(value) if value is not None else None
