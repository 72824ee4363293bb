"""Deterministic synthetic product photos with known subject masks (Pillow + numpy only).

Every photo is drawn from vector shapes and shaded with numpy, so the true subject mask is known exactly
(anti-aliased, fractional along thin wires and lace).  :func:`render` covers what real catalogs hold —
products already on white, studio sweeps, busy lifestyle scenes, dark-on-dark, chrome, fine detail,
cut-out PNGs, odd sizes and encodings — and the broken files stores also serve.  :func:`real_photos`
returns the rembg example photos with masks taken from their reference cut-outs.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from sandbox.seeds.scenes import lifestyle_scene, product_scene, reflective_scene
from sandbox.seeds.shapes import PRODUCT_COLOURS, Rand

KINDS: tuple[str, ...] = (
    "on-white",
    "studio-grey",
    "lifestyle",
    "dark-on-dark",
    "reflective",
    "fine-detail",
    "transparent-png",
    "tiny",
    "huge",
    "cmyk-jpeg",
    "exif-rotated",
    "palette-png",
    "16bit-png",
    "animated-gif",
    "webp",
    "broken-truncated",
    "broken-html",
    "zero-byte",
    "svg",
)
#: Files a store may serve but no image pipeline can (or should) decode.
BROKEN_KINDS: frozenset[str] = frozenset({"broken-truncated", "broken-html", "zero-byte", "svg"})
#: Kinds whose cut-out may well be wrong (low contrast, reflections, sub-pixel structures, too few pixels).
HARD_KINDS: frozenset[str] = frozenset({"dark-on-dark", "reflective", "fine-detail", "tiny"})
#: Fixed pixel sizes of the size-specific kinds (the ``size`` argument of :func:`render` is ignored for them).
TINY_SIZE = (60, 60)
HUGE_SIZE = (6000, 6000)

EXTENSIONS: dict[str, str] = {
    "transparent-png": "png",
    "palette-png": "png",
    "16bit-png": "png",
    "animated-gif": "gif",
    "webp": "webp",
    "svg": "svg",
}
MIME_TYPES: dict[str, str] = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "svg": "image/svg+xml",
}
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets" / "rembg-examples"
EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class Photo:
    """One image file as a store would serve it, with the truth about its subject.

    ``mask`` is the true subject mask ("L", 255 = subject) in the orientation a viewer sees; it is None for
    broken kinds, lifestyle scenes and real photos without a reference cut-out.  ``expect`` is "ok",
    "hard" (a cut-out may well be wrong), "review" (no single subject) or "refuse" (not a usable image).
    """

    kind: str
    data: bytes
    mime: str
    filename: str
    mask: Image.Image | None
    expect: str

    def open(self) -> Image.Image:
        """Decode the first frame as a viewer sees it (EXIF orientation applied); raises on broken files."""
        with Image.open(io.BytesIO(self.data)) as im:
            im.load()
            return ImageOps.exif_transpose(im)


def extension(kind: str) -> str:
    """File extension a photo of ``kind`` is served with (without the dot)."""
    _check_kind(kind)
    return EXTENSIONS.get(kind, "jpg")


def expectation(kind: str) -> str:
    """What a correct pipeline should conclude about ``kind``: ok | hard | review | refuse."""
    _check_kind(kind)
    if kind in BROKEN_KINDS:
        return "refuse"
    if kind == "lifestyle":
        return "review"
    return "hard" if kind in HARD_KINDS else "ok"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown photo kind {kind!r}; choose one of {', '.join(KINDS)}")


# --------------------------------------------------------------------------------------------- encoding


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    return _encode(image, "JPEG", quality=quality)


def _png16(rgb: np.ndarray) -> bytes:
    """A 48-bit RGB PNG (Pillow cannot write one): ``rgb`` is uint16 (H, W, 3)."""
    height, width, _ = rgb.shape
    rows = np.empty((height, 1 + width * 6), np.uint8)
    rows[:, 0] = 0  # filter type None
    rows[:, 1:] = rgb.astype(">u2").view(np.uint8).reshape(height, width * 6)

    def chunk(tag: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
        + (chunk(b"IEND", b""))
    )


def _svg(size: tuple[int, int], r: Rand) -> bytes:
    w, h = size
    fill = "#" + "".join(f"{int(c):02x}" for c in r.colour(PRODUCT_COLOURS))
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
        f'<rect width="{w}" height="{h}" fill="#ffffff"/>'
        f'<rect x="{w * 0.4:.0f}" y="{h * 0.2:.0f}" width="{w * 0.2:.0f}" height="{h * 0.6:.0f}" '
        f'rx="{w * 0.04:.0f}" fill="{fill}"/></svg>\n'
    ).encode()


BROKEN_HTML = (
    b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
    b"<body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>\n"
)

# --------------------------------------------------------------------------------------------- kinds

_Made = tuple[bytes, Image.Image | None]  # file bytes, true mask


def _make_plain(size: tuple[int, int], r: Rand, style: str, encoder: Callable[[Image.Image], bytes]) -> _Made:
    scene = product_scene(size, r, style)
    return encoder(scene.image), scene.mask


def _make_transparent(size: tuple[int, int], r: Rand) -> _Made:
    scene = product_scene(size, r, "white")
    assert scene.subject is not None and scene.mask is not None
    visible = (np.asarray(scene.mask) > 0)[..., None]  # fully transparent pixels are transparent black
    rgba = Image.fromarray(np.clip(scene.subject * visible + 0.5, 0, 255).astype(np.uint8), "RGB")
    rgba.putalpha(scene.mask)
    return _encode(rgba, "PNG"), scene.mask


def _make_huge(size: tuple[int, int], r: Rand) -> _Made:
    scene = product_scene((HUGE_SIZE[0] // 8, HUGE_SIZE[1] // 8), r, "white")
    assert scene.mask is not None
    big = scene.image.resize(HUGE_SIZE, Image.Resampling.BILINEAR)
    return _jpeg(big, 85), scene.mask.resize(HUGE_SIZE, Image.Resampling.BILINEAR)


def _make_exif_rotated(size: tuple[int, int], r: Rand) -> _Made:
    scene = product_scene(size, r, "grey")
    stored = scene.image.transpose(Image.Transpose.ROTATE_90)  # Orientation 6: viewer rotates 90° clockwise
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    return _encode(stored, "JPEG", quality=90, exif=exif.tobytes()), scene.mask


def _make_16bit(size: tuple[int, int], r: Rand) -> _Made:
    scene = product_scene(size, r, "grey")
    wide = np.asarray(scene.image, dtype=np.uint16) * 257 + r.np.integers(
        0, 256, (size[1], size[0], 3), np.uint16
    )
    return _png16(np.minimum(wide, 65535)), scene.mask


def _make_gif(size: tuple[int, int], r: Rand) -> _Made:
    scene = product_scene(size, r, "white")
    assert scene.subject is not None and scene.mask is not None
    background = Image.new("RGB", size, (255, 255, 255))
    frames = []
    for shift in (0.0, 0.15, 0.3, 0.15):
        tinted = scene.subject * (1 - shift) + np.array((255, 200, 60), np.float32) * shift
        frame = Image.composite(
            Image.fromarray(np.clip(tinted, 0, 255).astype(np.uint8), "RGB"), background, scene.mask
        )
        frames.append(frame.quantize(colors=128, dither=Image.Dither.NONE))
    return _encode(
        frames[0], "GIF", save_all=True, append_images=frames[1:], duration=250, loop=0
    ), scene.mask


def _make_truncated(size: tuple[int, int], r: Rand) -> _Made:
    data = _jpeg(product_scene(size, r, "white").image)
    return data[: len(data) // 2], None


_MAKERS: dict[str, Callable[[tuple[int, int], Rand], _Made]] = {
    "on-white": lambda s, r: _make_plain(s, r, "white", _jpeg),
    "studio-grey": lambda s, r: _make_plain(s, r, "grey", _jpeg),
    "lifestyle": lambda s, r: (_jpeg(lifestyle_scene(s, r).image, 88), None),
    "dark-on-dark": lambda s, r: _make_plain(s, r, "dark", _jpeg),
    "reflective": lambda s, r: (lambda sc: (_jpeg(sc.image), sc.mask))(reflective_scene(s, r)),
    "fine-detail": lambda s, r: _make_plain(s, r, "fine", lambda im: _jpeg(im, 94)),
    "transparent-png": _make_transparent,
    "tiny": lambda s, r: _make_plain(TINY_SIZE, r, "white", _jpeg),
    "huge": _make_huge,
    "cmyk-jpeg": lambda s, r: _make_plain(s, r, "white", lambda im: _jpeg(im.convert("CMYK"))),
    "exif-rotated": _make_exif_rotated,
    "palette-png": lambda s, r: _make_plain(
        s, r, "white", lambda im: _encode(im.quantize(colors=256), "PNG")
    ),
    "16bit-png": _make_16bit,
    "animated-gif": _make_gif,
    "webp": lambda s, r: _make_plain(s, r, "grey", lambda im: _encode(im, "WEBP", quality=85, method=0)),
    "broken-truncated": _make_truncated,
    "broken-html": lambda s, r: (BROKEN_HTML, None),
    "zero-byte": lambda s, r: (b"", None),
    "svg": lambda s, r: (_svg(s, r), None),
}


def render(kind: str, seed: int = 0, size: tuple[int, int] = (800, 800)) -> Photo:
    """Draw one photo of ``kind``; the same (kind, seed, size) always gives the same bytes and mask.

    ``size`` is (width, height) as a viewer sees it; "tiny" and "huge" have fixed sizes of their own.
    """
    _check_kind(kind)
    if min(size) < 16 or max(size) > 8000:
        raise ValueError(f"size {size} is out of range; use 16..8000 pixels a side")
    data, mask = _MAKERS[kind]((int(size[0]), int(size[1])), Rand(kind, seed, size[0], size[1]))
    ext = extension(kind)
    return Photo(kind, data, MIME_TYPES[ext], f"{kind}-{seed}.{ext}", mask, expectation(kind))


# --------------------------------------------------------------------------------------------- real photos

#: photo name -> expectation; the reference cut-out is <name>.out.png or <name>.u2netp.png when present.
REAL_PHOTOS: dict[str, str] = {
    "car-1": "ok",
    "car-2": "ok",
    "car-3": "ok",
    "animal-2": "hard",
    "girl-1": "hard",
    "cloth-1": "ok",
    "anime-girl-1": "hard",
}


@lru_cache(maxsize=1)
def _real_photos() -> tuple[Photo, ...]:
    photos = []
    for name, expect in REAL_PHOTOS.items():
        source = ASSETS_DIR / f"{name}.jpg"
        mask = None
        for reference in (ASSETS_DIR / f"{name}.out.png", ASSETS_DIR / f"{name}.u2netp.png"):
            if reference.exists():
                with Image.open(reference) as cutout:
                    mask = cutout.convert("RGBA").getchannel("A")
                break
        photos.append(Photo(f"real:{name}", source.read_bytes(), "image/jpeg", source.name, mask, expect))
    return tuple(photos)


def real_photos() -> list[Photo]:
    """The rembg example photos, with masks from the alpha of their reference cut-outs (None for cloth-1)."""
    return list(_real_photos())


def real_photo(name: str) -> Photo:
    """One real photo by name ("car-1" or "real:car-1")."""
    wanted = name.removeprefix("real:")
    for photo in _real_photos():
        if photo.kind == f"real:{wanted}":
            return photo
    raise ValueError(f"unknown real photo {name!r}; choose one of {', '.join(REAL_PHOTOS)}")


# --------------------------------------------------------------------------------------------- scoring


def aligned_iou(predicted: Image.Image, truth: Image.Image, side: int = 256) -> float:
    """IoU of two masks after cropping each to its subject and scaling both to ``side`` px.

    Studio results are reframed (trimmed, centred, padded, resized), so a result's alpha is compared
    with the true mask up to position and scale.  0.0 when either mask is empty.
    """

    def normalised(mask: Image.Image) -> np.ndarray | None:
        grey = mask.convert("L")
        box = grey.point(lambda v: 255 if v >= 128 else 0).getbbox()
        if box is None:
            return None
        return np.asarray(grey.crop(box).resize((side, side), Image.Resampling.BILINEAR)) >= 128

    a, b = normalised(predicted), normalised(truth)
    if a is None or b is None:
        return 0.0
    return float((a & b).sum() / max((a | b).sum(), 1))
