"""Vector shapes of products (drawn as true masks) and the seeded randomness every photo comes from."""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable

import numpy as np
from PIL import ImageDraw

# --------------------------------------------------------------------------------------------- randomness


class Rand:
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
