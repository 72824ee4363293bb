"""Deterministic synthetic product photos with known subject masks (Pillow + numpy only).

Every photo is drawn from vector shapes and shaded with numpy, so the true subject mask is known exactly
(anti-aliased, fractional along thin wires and lace).  :func:`render` covers what real catalogs hold —
products already on white, studio sweeps, busy lifestyle scenes, dark-on-dark, chrome, fine detail,
cut-out PNGs, odd sizes and encodings — and the broken files stores also serve.  :func:`real_photos`
returns the rembg example photos with masks taken from their reference cut-outs.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

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
ASSETS_DIR = Path(__file__).resolve().parent / "assets" / "rembg-examples"
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


# --------------------------------------------------------------------------------------------- randomness


class _Rand:
    """A Python and a numpy generator, both derived from a stable string (never Python's salted hash)."""

    def __init__(self, *parts: object) -> None:
        digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
        self.py = random.Random(digest)
        self.np = np.random.default_rng(int.from_bytes(digest[:8], "big"))

    def colour(self, palette: tuple[tuple[int, int, int], ...], jitter: int = 12) -> np.ndarray:
        base = np.array(self.py.choice(palette), dtype=np.float32)
        return np.clip(base + [self.py.uniform(-jitter, jitter) for _ in range(3)], 0, 255)


# --------------------------------------------------------------------------------------------- shapes

Box = tuple[float, float, float, float]
#: draws a subject in white (255) into ``box`` on an "L" canvas; the last argument is pixels per output pixel.
ShapeFn = Callable[[ImageDraw.ImageDraw, Box, random.Random, float], None]


def _bottle(d: ImageDraw.ImageDraw, b: Box, rng: random.Random, px: float) -> None:
    x0, y0, x1, y1 = b
    w, h = x1 - x0, y1 - y0
    d.rounded_rectangle((x0, y0 + 0.38 * h, x1, y1), radius=0.14 * w, fill=255)
    d.ellipse((x0, y0 + 0.26 * h, x1, y0 + 0.52 * h), fill=255)
    d.rectangle((x0 + 0.34 * w, y0 + 0.08 * h, x1 - 0.34 * w, y0 + 0.36 * h), fill=255)
    d.rounded_rectangle((x0 + 0.3 * w, y0, x1 - 0.3 * w, y0 + 0.11 * h), radius=0.04 * w, fill=255)


def _shoe(d: ImageDraw.ImageDraw, b: Box, rng: random.Random, px: float) -> None:
    x0, y0, x1, y1 = b
    w, h = x1 - x0, y1 - y0
    d.rounded_rectangle((x0, y1 - 0.22 * h, x1, y1), radius=0.1 * h, fill=255)
    collar = rng.uniform(0.36, 0.46)
    d.polygon(
        [
            (x0 + 0.03 * w, y1 - 0.12 * h),
            (x0 + 0.04 * w, y0 + 0.3 * h),
            (x0 + 0.16 * w, y0 + 0.02 * h),
            (x0 + collar * w, y0),
            (x0 + (collar + 0.06) * w, y0 + 0.3 * h),
            (x0 + 0.7 * w, y0 + 0.42 * h),
            (x1 - 0.04 * w, y0 + 0.58 * h),
            (x1, y1 - 0.12 * h),
        ],
        fill=255,
    )
    d.ellipse((x1 - 0.3 * w, y0 + 0.45 * h, x1, y1 - 0.02 * h), fill=255)


def _mug(d: ImageDraw.ImageDraw, b: Box, rng: random.Random, px: float) -> None:
    x0, y0, x1, y1 = b
    w, h = x1 - x0, y1 - y0
    d.rounded_rectangle((x0, y0, x0 + 0.76 * w, y1), radius=0.08 * w, fill=255)
    d.ellipse((x0 + 0.56 * w, y0 + 0.2 * h, x1, y0 + 0.72 * h), outline=255, width=max(1, round(0.09 * w)))


def _box(d: ImageDraw.ImageDraw, b: Box, rng: random.Random, px: float) -> None:
    x0, y0, x1, y1 = b
    w, h = x1 - x0, y1 - y0
    cx = x0 + w * rng.uniform(0.4, 0.6)
    d.polygon(
        [
            (cx, y0),
            (x1, y0 + 0.22 * h),
            (x1, y1 - 0.22 * h),
            (cx, y1),
            (x0, y1 - 0.22 * h),
            (x0, y0 + 0.22 * h),
        ],
        fill=255,
    )


def _vase(d: ImageDraw.ImageDraw, b: Box, rng: random.Random, px: float) -> None:
    x0, y0, x1, y1 = b
    w, h = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2
    phase = rng.uniform(0.0, 0.6)
    steps = 40
    right = []
    for i in range(steps + 1):
        t = i / steps
        half = w * (0.22 + 0.26 * math.sin(math.pi * (0.15 + 0.95 * t) + phase) ** 2)
        right.append((cx + min(half, w / 2), y0 + t * h))
    left = [(2 * cx - x, y) for x, y in reversed(right)]
    d.polygon(right + left, fill=255)


def _headphones(d: ImageDraw.ImageDraw, b: Box, rng: random.Random, px: float) -> None:
    x0, y0, x1, y1 = b
    w, h = x1 - x0, y1 - y0
    d.arc((x0 + 0.06 * w, y0, x1 - 0.06 * w, y0 + 1.2 * h), 180, 360, fill=255, width=max(1, round(0.07 * w)))
    d.rectangle((x0 + 0.06 * w, y0 + 0.5 * h, x0 + 0.13 * w, y0 + 0.62 * h), fill=255)
    d.rectangle((x1 - 0.13 * w, y0 + 0.5 * h, x1 - 0.06 * w, y0 + 0.62 * h), fill=255)
    d.rounded_rectangle((x0, y0 + 0.55 * h, x0 + 0.24 * w, y1), radius=0.08 * w, fill=255)
    d.rounded_rectangle((x1 - 0.24 * w, y0 + 0.55 * h, x1, y1), radius=0.08 * w, fill=255)


def _sphere(d: ImageDraw.ImageDraw, b: Box, rng: random.Random, px: float) -> None:
    d.ellipse(b, fill=255)


def _tumbler(d: ImageDraw.ImageDraw, b: Box, rng: random.Random, px: float) -> None:
    x0, y0, x1, y1 = b
    h = y1 - y0
    d.rectangle((x0, y0 + 0.06 * h, x1, y1 - 0.06 * h), fill=255)
    d.ellipse((x0, y0, x1, y0 + 0.12 * h), fill=255)
    d.ellipse((x0, y1 - 0.12 * h, x1, y1), fill=255)


def _plant(d: ImageDraw.ImageDraw, b: Box, rng: random.Random, px: float) -> None:
    x0, y0, x1, y1 = b
    w, h = x1 - x0, y1 - y0
    d.polygon(
        [
            (x0 + 0.25 * w, y0 + 0.62 * h),
            (x1 - 0.25 * w, y0 + 0.62 * h),
            (x1 - 0.32 * w, y1),
            (x0 + 0.32 * w, y1),
        ],
        fill=255,
    )
    for _ in range(9):
        lx, ly = x0 + w * rng.uniform(0.1, 0.9), y0 + h * rng.uniform(0.0, 0.5)
        rw, rh = w * rng.uniform(0.08, 0.16), h * rng.uniform(0.1, 0.2)
        d.ellipse((lx - rw, ly - rh, lx + rw, ly + rh), fill=255)
        d.line([(lx, ly), ((x0 + x1) / 2, y0 + 0.64 * h)], fill=255, width=max(1, round(1.5 * px)))


def _lamp(d: ImageDraw.ImageDraw, b: Box, rng: random.Random, px: float) -> None:
    x0, y0, x1, y1 = b
    w, h = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2
    d.polygon([(x0 + 0.22 * w, y0), (x1 - 0.22 * w, y0), (x1, y0 + 0.36 * h), (x0, y0 + 0.36 * h)], fill=255)
    d.line([(cx, y0 + 0.36 * h), (cx, y1 - 0.06 * h)], fill=255, width=max(1, round(0.035 * w)))
    d.ellipse((x0 + 0.2 * w, y1 - 0.09 * h, x1 - 0.2 * w, y1), fill=255)
    sag = rng.uniform(0.04, 0.12)
    wire = [
        (cx + 0.25 * w + t * 0.55 * w, y1 - 0.04 * h + math.sin(t * math.pi) * sag * h)
        for t in (i / 30 for i in range(31))
    ]
    d.line([(cx, y1 - 0.04 * h), *wire], fill=255, width=max(1, round(0.8 * px)), joint="curve")


def _doily(d: ImageDraw.ImageDraw, b: Box, rng: random.Random, px: float) -> None:
    x0, y0, x1, y1 = b
    cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2
    thread = max(1, round(px))
    scallops = rng.choice((32, 36, 40))
    for i in range(scallops):
        a = 2 * math.pi * i / scallops
        sx, sy, sr = cx + 0.92 * r * math.cos(a), cy + 0.92 * r * math.sin(a), 0.08 * r
        d.ellipse((sx - sr, sy - sr, sx + sr, sy + sr), fill=255)
    d.ellipse((cx - 0.92 * r, cy - 0.92 * r, cx + 0.92 * r, cy + 0.92 * r), fill=255)
    for ring, count, hole in ((0.22, 8, 0.075), (0.42, 14, 0.07), (0.6, 20, 0.055), (0.78, 28, 0.045)):
        for i in range(count):
            a = 2 * math.pi * (i + 0.5 * (count % 4 == 0)) / count
            hx, hy, hr = cx + ring * r * math.cos(a), cy + ring * r * math.sin(a), hole * r
            d.ellipse((hx - hr, hy - hr, hx + hr, hy + hr), fill=0)
        d.ellipse((cx - ring * r, cy - ring * r, cx + ring * r, cy + ring * r), outline=255, width=thread)
    for i in range(24):
        a = 2 * math.pi * i / 24
        d.line([(cx, cy), (cx + 0.9 * r * math.cos(a), cy + 0.9 * r * math.sin(a))], fill=255, width=thread)


def _whisk(d: ImageDraw.ImageDraw, b: Box, rng: random.Random, px: float) -> None:
    x0, y0, x1, y1 = b
    w, h = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2
    d.rounded_rectangle((cx - 0.09 * w, y1 - 0.38 * h, cx + 0.09 * w, y1), radius=0.08 * w, fill=255)
    loops = rng.randint(5, 8)
    for k in range(loops):
        half = 0.5 * w * (k + 1) / loops
        d.ellipse((cx - half, y0, cx + half, y1 - 0.3 * h), outline=255, width=max(1, round(1.2 * px)))


def _hair(d: ImageDraw.ImageDraw, b: Box, rng: random.Random, px: float) -> None:
    x0, y0, x1, y1 = b
    w, h = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2
    d.ellipse((x0 + 0.2 * w, y0, x1 - 0.2 * w, y0 + 0.36 * h), fill=255)
    width = max(1, round(0.8 * px))
    for _ in range(220):
        a = rng.uniform(0.05, 0.95) * math.pi
        sx, sy = cx - 0.3 * w * math.cos(a), y0 + 0.18 * h + 0.16 * h * math.sin(a)
        length, drift, wave = (
            h * rng.uniform(0.5, 0.8),
            rng.uniform(-0.25, 0.25) * w,
            rng.uniform(0.01, 0.04) * w,
        )
        points = [
            (sx + drift * t * t + wave * math.sin(9 * t + a * 5), sy + length * t)
            for t in (i / 14 for i in range(15))
        ]
        d.line(points, fill=255, width=width)


#: name -> (width / height of the bounding box, drawing function)
SHAPES: dict[str, tuple[float, ShapeFn]] = {
    "bottle": (0.4, _bottle),
    "shoe": (2.0, _shoe),
    "mug": (1.25, _mug),
    "box": (0.9, _box),
    "vase": (0.6, _vase),
    "headphones": (0.95, _headphones),
    "sphere": (1.0, _sphere),
    "tumbler": (0.55, _tumbler),
    "plant": (0.8, _plant),
    "lamp": (0.7, _lamp),
    "doily": (1.0, _doily),
    "whisk": (0.5, _whisk),
    "hair": (0.85, _hair),
}
ORDINARY_SHAPES = ("bottle", "shoe", "mug", "box", "vase", "headphones", "sphere")
FINE_SHAPES = ("lamp", "doily", "whisk", "hair")
REFLECTIVE_SHAPES = ("sphere", "tumbler")

PRODUCT_COLOURS = (
    (190, 42, 48),
    (36, 58, 112),
    (24, 120, 118),
    (214, 160, 40),
    (40, 96, 60),
    (178, 92, 60),
    (102, 48, 96),
    (44, 44, 50),
    (152, 102, 62),
    (88, 150, 200),
    (226, 112, 150),
    (120, 120, 128),
)
DARK_COLOURS = ((40, 38, 44), (30, 44, 36), (48, 32, 32), (36, 36, 52), (52, 46, 40))
FINE_COLOURS = ((182, 150, 80), (120, 84, 50), (236, 232, 220), (60, 60, 66), (210, 180, 120))


# --------------------------------------------------------------------------------------------- drawing


def _place(size: tuple[int, int], aspect: float, r: _Rand, fill: tuple[float, float] = (0.5, 0.72)) -> Box:
    w, h = size
    scale = r.py.uniform(*fill)
    bh = scale * h
    bw = bh * aspect
    if bw > scale * w:
        bw, bh = scale * w, scale * w / aspect
    cx = w / 2 + r.py.uniform(-0.05, 0.05) * w
    cy = h / 2 + r.py.uniform(-0.03, 0.05) * h
    return (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2)


def _subject_mask(size: tuple[int, int], shape: str, box: Box, r: _Rand) -> Image.Image:
    """Anti-aliased "L" mask of ``shape`` drawn into ``box`` (drawn supersampled, then box-reduced)."""
    ss = 4 if min(size) < 200 else 2
    canvas = Image.new("L", (size[0] * ss, size[1] * ss), 0)
    SHAPES[shape][1](ImageDraw.Draw(canvas), tuple(v * ss for v in box), r.py, float(ss))  # type: ignore[arg-type]
    return canvas.reduce(ss)


def _gradient(size: tuple[int, int], top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    t = np.linspace(0.0, 1.0, size[1], dtype=np.float32)[:, None, None]
    row = top[None, None, :] * (1 - t) + bottom[None, None, :] * t
    return np.broadcast_to(row, (size[1], size[0], 3)).astype(np.float32)


def _shade(size: tuple[int, int], box: Box, colour: np.ndarray, gloss: float) -> np.ndarray:
    """Cylinder-lit colour of a product in ``box`` with a specular stripe (full-frame RGB, float32)."""
    w, h = size
    x0, y0, x1, y1 = box
    u = np.clip((np.arange(w, dtype=np.float32) - (x0 + x1) / 2) / max((x1 - x0) / 2, 1.0), -1, 1)
    v = np.clip((np.arange(h, dtype=np.float32) - y0) / max(y1 - y0, 1.0), 0, 1)
    light = 0.55 + 0.45 * np.sqrt(1 - u * u)[None, :] * (1 - 0.25 * v)[:, None]
    spec = gloss * np.exp(-(((u + 0.45) / 0.12) ** 2))[None, :]
    return colour[None, None, :] * light[..., None] + (255 * spec)[..., None]


def _contact_shadow(size: tuple[int, int], box: Box, spread: float = 1.0) -> np.ndarray:
    """Soft elliptical shadow under the base of ``box``, 0..1."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    layer = Image.new("L", size, 0)
    ImageDraw.Draw(layer).ellipse(
        (x0 + 0.04 * w, y1 - 0.03 * h * spread, x1 - 0.04 * w + 0.06 * w * spread, y1 + 0.05 * h * spread),
        fill=255,
    )
    radius = max(1.0, 0.025 * min(size) * spread)
    return np.asarray(layer.filter(ImageFilter.GaussianBlur(radius)), dtype=np.float32) / 255


def _blend(base: np.ndarray, top: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha[..., None]
    return base * (1 - a) + top * a


def _finish(rgb: np.ndarray, r: _Rand, noise: float) -> Image.Image:
    """Add sensor noise and quantise to an RGB image."""
    if noise:
        rgb = rgb + r.np.standard_normal(rgb.shape, dtype=np.float32) * noise
    return Image.fromarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8), "RGB")


@dataclass(frozen=True)
class _Scene:
    image: Image.Image  # RGB as a viewer sees it
    mask: Image.Image | None  # true subject mask ("L")
    subject: np.ndarray | None  # the product's own colours, full frame (for cut-out PNGs)


def _product_scene(size: tuple[int, int], r: _Rand, style: str) -> _Scene:
    """One product on a backdrop: style is white | grey | dark | fine."""
    if style == "fine":
        shape = r.py.choice(FINE_SHAPES)
        colour = r.colour(FINE_COLOURS)
        backdrop = np.array((44, 52, 86) if colour.mean() > 200 else (226, 224, 218), dtype=np.float32)
        top, bottom, gloss, shadow = backdrop + 14, backdrop - 14, 0.0, 0.25
    elif style == "dark":
        shape, colour = r.py.choice(ORDINARY_SHAPES), r.colour(DARK_COLOURS, 6)
        top, bottom = (
            np.full(3, r.py.uniform(26, 36), np.float32),
            np.full(3, r.py.uniform(14, 22), np.float32),
        )
        gloss, shadow = 0.06, 0.5
    elif style == "grey":
        shape, colour = r.py.choice(ORDINARY_SHAPES), r.colour(PRODUCT_COLOURS)
        top, bottom = (
            np.full(3, r.py.uniform(214, 232), np.float32),
            np.full(3, r.py.uniform(150, 178), np.float32),
        )
        gloss, shadow = r.py.uniform(0.1, 0.3), 0.45
    else:
        shape, colour = r.py.choice(ORDINARY_SHAPES), r.colour(PRODUCT_COLOURS)
        top = bottom = np.full(3, 255, np.float32)
        gloss, shadow = r.py.uniform(0.1, 0.3), 0.3
    box = _place(size, SHAPES[shape][0], r)
    mask = _subject_mask(size, shape, box, r)
    subject = np.clip(_shade(size, box, colour, gloss), 0, 255)
    background = _gradient(size, top, bottom) * (1 - shadow * _contact_shadow(size, box))[..., None]
    rgb = _blend(background, subject, np.asarray(mask, dtype=np.float32) / 255)
    return _Scene(_finish(rgb, r, 0.0 if style == "white" else 2.0), mask, subject)


def _reflective_scene(size: tuple[int, int], r: _Rand) -> _Scene:
    """Chrome sphere or tumbler that mirrors the studio around it, with specular highlights."""
    w, h = size
    sky_top = np.array([r.py.uniform(150, 200), r.py.uniform(180, 215), r.py.uniform(215, 245)], np.float32)
    sky_low = np.array((232, 234, 236), np.float32)
    floor_near = np.array(
        [r.py.uniform(170, 215), r.py.uniform(150, 185), r.py.uniform(120, 150)], np.float32
    )
    floor_far = floor_near * 0.8
    horizon = int(h * r.py.uniform(0.55, 0.68))
    background = np.concatenate(
        [_gradient((w, horizon), sky_top, sky_low), _gradient((w, h - horizon), floor_far, floor_near)]
    )
    shape = r.py.choice(REFLECTIVE_SHAPES)
    box = _place(size, SHAPES[shape][0], r)
    mask = _subject_mask(size, shape, box, r)
    x0, y0, x1, y1 = box
    nx = np.clip((np.arange(w, dtype=np.float32) - (x0 + x1) / 2) / ((x1 - x0) / 2), -1, 1)[None, :]
    ny = np.clip((np.arange(h, dtype=np.float32) - (y0 + y1) / 2) / ((y1 - y0) / 2), -1, 1)[:, None]
    if shape == "sphere":
        nz = np.sqrt(np.clip(1 - nx * nx - ny * ny, 0, 1))
        ry = 2 * nz * ny
    else:
        nz = np.broadcast_to(np.sqrt(1 - nx * nx), (h, w))
        ry = np.broadcast_to(0.5 * ny, (h, w))
    sky = _blend(np.broadcast_to(sky_low, (h, w, 3)), np.broadcast_to(sky_top, (h, w, 3)), np.clip(-ry, 0, 1))
    floor = _blend(
        np.broadcast_to(floor_near, (h, w, 3)), np.broadcast_to(floor_far, (h, w, 3)), np.clip(ry, 0, 1)
    )
    env = np.where((ry < 0)[..., None], sky, floor) * (1 - 0.75 * np.exp(-((ry / 0.07) ** 2)))[..., None]
    env = _blend(env, background, np.clip(1 - nz, 0, 1) ** 2)  # grazing angles mirror the backdrop itself
    highlight = np.exp(-(((nx + 0.35) ** 2 + (ny + 0.4) ** 2) / 0.012)) + 0.6 * np.exp(
        -(((nx - 0.5) ** 2 + (ny + 0.1) ** 2) / 0.004)
    )
    subject = np.clip(env + 255 * highlight[..., None], 0, 255)
    shaded = background * (1 - 0.35 * _contact_shadow(size, box))[..., None]
    rgb = _blend(shaded, subject, np.asarray(mask, dtype=np.float32) / 255)
    return _Scene(_finish(rgb, r, 1.5), mask, subject)


def _lifestyle_scene(size: tuple[int, int], r: _Rand) -> _Scene:
    """A table by a wall with a window and several objects: no single subject."""
    w, h = size
    table_top = int(h * r.py.uniform(0.55, 0.65))
    wall = np.array([r.py.uniform(190, 235), r.py.uniform(185, 225), r.py.uniform(170, 215)], np.float32)
    rgb = _gradient(size, wall, wall * 0.82)
    wx0, wx1 = int(w * r.py.uniform(0.05, 0.3)), int(w * r.py.uniform(0.55, 0.8))
    wy0, wy1 = int(table_top * 0.1), int(table_top * 0.75)
    rgb[wy0:wy1, wx0:wx1] = _gradient(
        (wx1 - wx0, wy1 - wy0), np.array((236, 244, 252), np.float32), np.array((200, 220, 236), np.float32)
    )
    bar = max(2, w // 120)
    rgb[wy0:wy1, (wx0 + wx1) // 2 - bar : (wx0 + wx1) // 2 + bar] = wall * 0.7
    rgb[(wy0 + wy1) // 2 - bar : (wy0 + wy1) // 2 + bar, wx0:wx1] = wall * 0.7
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h - table_top, dtype=np.float32)[:, None]
    grain = (
        0.86
        + 0.08 * np.sin(ys / h * 90 + 2.5 * np.sin(xs / w * 7))
        + 0.04 * np.sin(ys / h * 400 + xs / w * 9)
    )
    wood = np.array([r.py.uniform(120, 170), r.py.uniform(80, 110), r.py.uniform(45, 70)], np.float32)
    rgb[table_top:] = wood[None, None, :] * grain[..., None]
    for _ in range(r.py.randint(3, 5)):
        shape = r.py.choice((*ORDINARY_SHAPES, "plant", "plant"))
        aspect, scale = SHAPES[shape][0], r.py.uniform(0.16, 0.34) * h
        bw, bh = min(scale * aspect, 0.4 * w), min(scale, scale * 0.4 * w / max(scale * aspect, 1))
        cx, base = r.py.uniform(0.1, 0.9) * w, table_top + r.py.uniform(0.05, 0.3) * (h - table_top)
        box = (cx - bw / 2, base - bh, cx + bw / 2, base)
        colour = r.colour(((60, 140, 70),)) if shape == "plant" else r.colour(PRODUCT_COLOURS)
        rgb = rgb * (1 - 0.4 * _contact_shadow(size, box, 0.6))[..., None]
        alpha = np.asarray(_subject_mask(size, shape, box, r), dtype=np.float32) / 255
        rgb = _blend(rgb, _shade(size, box, colour, 0.15), alpha)
    return _Scene(_finish(rgb, r, 3.0), None, None)


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


def _svg(size: tuple[int, int], r: _Rand) -> bytes:
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


def _make_plain(
    size: tuple[int, int], r: _Rand, style: str, encoder: Callable[[Image.Image], bytes]
) -> _Made:
    scene = _product_scene(size, r, style)
    return encoder(scene.image), scene.mask


def _make_transparent(size: tuple[int, int], r: _Rand) -> _Made:
    scene = _product_scene(size, r, "white")
    assert scene.subject is not None and scene.mask is not None
    visible = (np.asarray(scene.mask) > 0)[..., None]  # fully transparent pixels are transparent black
    rgba = Image.fromarray(np.clip(scene.subject * visible + 0.5, 0, 255).astype(np.uint8), "RGB")
    rgba.putalpha(scene.mask)
    return _encode(rgba, "PNG"), scene.mask


def _make_huge(size: tuple[int, int], r: _Rand) -> _Made:
    scene = _product_scene((HUGE_SIZE[0] // 8, HUGE_SIZE[1] // 8), r, "white")
    assert scene.mask is not None
    big = scene.image.resize(HUGE_SIZE, Image.Resampling.BILINEAR)
    return _jpeg(big, 85), scene.mask.resize(HUGE_SIZE, Image.Resampling.BILINEAR)


def _make_exif_rotated(size: tuple[int, int], r: _Rand) -> _Made:
    scene = _product_scene(size, r, "grey")
    stored = scene.image.transpose(Image.Transpose.ROTATE_90)  # Orientation 6: viewer rotates 90° clockwise
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    return _encode(stored, "JPEG", quality=90, exif=exif.tobytes()), scene.mask


def _make_16bit(size: tuple[int, int], r: _Rand) -> _Made:
    scene = _product_scene(size, r, "grey")
    wide = np.asarray(scene.image, dtype=np.uint16) * 257 + r.np.integers(
        0, 256, (size[1], size[0], 3), np.uint16
    )
    return _png16(np.minimum(wide, 65535)), scene.mask


def _make_gif(size: tuple[int, int], r: _Rand) -> _Made:
    scene = _product_scene(size, r, "white")
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


def _make_truncated(size: tuple[int, int], r: _Rand) -> _Made:
    data = _jpeg(_product_scene(size, r, "white").image)
    return data[: len(data) // 2], None


_MAKERS: dict[str, Callable[[tuple[int, int], _Rand], _Made]] = {
    "on-white": lambda s, r: _make_plain(s, r, "white", _jpeg),
    "studio-grey": lambda s, r: _make_plain(s, r, "grey", _jpeg),
    "lifestyle": lambda s, r: (_jpeg(_lifestyle_scene(s, r).image, 88), None),
    "dark-on-dark": lambda s, r: _make_plain(s, r, "dark", _jpeg),
    "reflective": lambda s, r: (lambda sc: (_jpeg(sc.image), sc.mask))(_reflective_scene(s, r)),
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
    data, mask = _MAKERS[kind]((int(size[0]), int(size[1])), _Rand(kind, seed, size[0], size[1]))
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
