"""Scenes: a product shaded and placed on a backdrop, with its exact subject mask."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from sandbox.seeds.shapes import (
    DARK_COLOURS,
    FINE_COLOURS,
    FINE_SHAPES,
    ORDINARY_SHAPES,
    PRODUCT_COLOURS,
    REFLECTIVE_SHAPES,
    SHAPES,
    Box,
    Rand,
)

# --------------------------------------------------------------------------------------------- drawing


def _place(size: tuple[int, int], aspect: float, r: Rand, fill: tuple[float, float] = (0.5, 0.72)) -> Box:
    w, h = size
    scale = r.py.uniform(*fill)
    bh = scale * h
    bw = bh * aspect
    if bw > scale * w:
        bw, bh = scale * w, scale * w / aspect
    cx = w / 2 + r.py.uniform(-0.05, 0.05) * w
    cy = h / 2 + r.py.uniform(-0.03, 0.05) * h
    return (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2)


def _subject_mask(size: tuple[int, int], shape: str, box: Box, r: Rand) -> Image.Image:
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


def _finish(rgb: np.ndarray, r: Rand, noise: float) -> Image.Image:
    """Add sensor noise and quantise to an RGB image."""
    if noise:
        rgb = rgb + r.np.standard_normal(rgb.shape, dtype=np.float32) * noise
    return Image.fromarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8), "RGB")


@dataclass(frozen=True)
class Scene:
    image: Image.Image  # RGB as a viewer sees it
    mask: Image.Image | None  # true subject mask ("L")
    subject: np.ndarray | None  # the product's own colours, full frame (for cut-out PNGs)


def product_scene(size: tuple[int, int], r: Rand, style: str) -> Scene:
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
    return Scene(_finish(rgb, r, 0.0 if style == "white" else 2.0), mask, subject)


def reflective_scene(size: tuple[int, int], r: Rand) -> Scene:
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
    return Scene(_finish(rgb, r, 1.5), mask, subject)


def lifestyle_scene(size: tuple[int, int], r: Rand) -> Scene:
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
    return Scene(_finish(rgb, r, 3.0), None, None)
