"""Image bytes: decoding checks (Pillow) the way Shopify's media processing judges uploads.

Seeded catalog images are rendered lazily (:func:`file_bytes`) and their pixel sizes are
predicted from the catalog's rules (:func:`seed_dimensions`) so listing a 10 000-product shop
never draws a photo.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import warnings
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageOps, UnidentifiedImageError

from sandbox.seeds import catalog, photos
from sandbox.seeds.catalog import SeedImage
from sandbox.shopify.state import MediaError, MediaFile

#: formats Shopify accepts as product images
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
MIN_ASPECT, MAX_ASPECT = 1 / 100, 100


@dataclass(frozen=True)
class Inspection:
    """What processing concluded about some bytes."""

    width: int | None = None
    height: int | None = None
    mime: str | None = None
    error: MediaError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _failure(code: str, reason: str, details: str | None = None) -> Inspection:
    return Inspection(error=MediaError(code, f"Media could not be processed because {reason}.", details))


def inspect_image(data: bytes, max_bytes: int, max_pixels: int) -> Inspection:
    """Decode ``data`` fully; READY-able images give their size and type, others a media error."""
    if len(data) > max_bytes:
        return _failure("INVALID_IMAGE_FILE_SIZE", "the image size is too large", f"{len(data)} bytes")
    if not data:
        return _failure("IMAGE_PROCESSING_FAILURE", "the image could not be processed", "empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                fmt = im.format or ""
                if fmt not in ACCEPTED_FORMATS:
                    return _failure(
                        "UNSUPPORTED_IMAGE_FILE_TYPE", "the image is an unsupported file type", fmt or None
                    )
                width, height = im.size
                if width * height > max_pixels:
                    return _failure(
                        "INVALID_IMAGE_RESOLUTION",
                        "the image's resolution exceeds the max limit",
                        f"{width}x{height}",
                    )
                im.load()
                oriented = ImageOps.exif_transpose(im)
                width, height = oriented.size
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        return _failure("INVALID_IMAGE_RESOLUTION", "the image's resolution exceeds the max limit")
    except UnidentifiedImageError:
        return _failure("IMAGE_PROCESSING_FAILURE", "the image could not be processed", "not an image")
    except (OSError, ValueError, SyntaxError) as exc:
        return _failure("IMAGE_PROCESSING_FAILURE", "the image could not be processed", str(exc))
    if not MIN_ASPECT <= width / height <= MAX_ASPECT:
        return _failure("INVALID_IMAGE_ASPECT_RATIO", "the image has an invalid aspect ratio")
    return Inspection(width=width, height=height, mime=ACCEPTED_FORMATS[fmt])


def file_error_message(error: MediaError) -> str:
    """The ``fileErrors`` wording of a media error."""
    return error.message.replace("Media could not", "File could not", 1)


# --------------------------------------------------------------------------------------------- seeds


@lru_cache(maxsize=16)
def _real_size(kind: str) -> tuple[int, int]:
    path = photos.ASSETS_DIR / f"{kind.removeprefix('real:')}.jpg"
    with Image.open(path) as im:
        return ImageOps.exif_transpose(im).size


def seed_dimensions(image: SeedImage) -> tuple[int, int] | None:
    """The pixel size a seeded image renders at (as a viewer sees it); None for undecodable kinds."""
    if image.kind.startswith("real:"):
        return _real_size(image.kind)
    if image.kind in photos.BROKEN_KINDS:
        return None
    if image.kind == "tiny":
        return photos.TINY_SIZE
    if image.kind == "huge":
        return photos.HUGE_SIZE
    return catalog.IMAGE_SIZES[image.seed % len(catalog.IMAGE_SIZES)]


def seed_mime(image: SeedImage) -> str:
    if image.kind.startswith("real:"):
        return "image/jpeg"
    return photos.MIME_TYPES[photos.extension(image.kind)]


def file_bytes(f: MediaFile) -> bytes:
    """The bytes a file serves now (rendering a seeded image when needed) and records their hash."""
    if f.data is not None:
        data = f.data
    elif f.seed is not None:
        data = f.seed.render().data
    else:
        data = b""
    if f.sha256 is None:
        f.sha256 = hashlib.sha256(data).hexdigest()
        f.byte_size = len(data)
    return data


def guess_mime(filename: str, fallback: str = "application/octet-stream") -> str:
    return mimetypes.guess_type(filename)[0] or fallback
