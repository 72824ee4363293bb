"""A labelled evaluation set for the QA gates: generated product scenes with exact masks, plus the
real example photos with their reference cut-outs.

Each scene *kind* is one product family on one kind of background, chosen for a way cut-outs go
wrong: reflective floors, transparent and holed products, thin parts, products in hands or in front
of people, dark-on-dark, hard shadows, busy backdrops.  The set is split into a **calibration** part
(thresholds are chosen on it) and a **held-out** part (the gates are judged on it) that share
neither a kind nor a seed, so the held-out figures say how the gates do on photos they never saw.
The true mask is the product only: a hand, a person, a reflection or a shadow is not the product.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from sandbox.seeds.photos import real_photos
from sandbox.seeds.scenes import _blend, _contact_shadow, _finish, _gradient, _place, _shade, _subject_mask
from sandbox.seeds.shapes import DARK_COLOURS, PRODUCT_COLOURS, SHAPES, Rand

SIZE = (576, 576)
SKIN_TONES = ((236, 188, 160), (214, 160, 122), (176, 120, 86), (120, 78, 52))
SOLID_SHAPES = ("bottle", "shoe", "mug", "box", "vase", "sphere", "tumbler")
#: Calibration and held-out seeds never overlap.
CALIBRATION_SEEDS = range(0, 5)
HELD_OUT_SEEDS = range(100, 104)


@dataclass(frozen=True)
class Scene:
    """One labelled photo: JPEG ``data`` and the true product ``mask`` ("L", 255 = product)."""

    name: str
    kind: str
    data: bytes
    mask: Image.Image


Layers = tuple[np.ndarray, np.ndarray]  # (float RGB photo, float 0..1 true mask)


def _product(size: tuple[int, int], r: Rand, shapes: tuple[str, ...], fill=(0.45, 0.62)):
    """A shaded product: (shape, box, colour layer, 0..1 mask)."""
    shape = r.py.choice(shapes)
    box = _place(size, SHAPES[shape][0], r, fill)
    mask = np.asarray(_subject_mask(size, shape, box, r), np.float32) / 255
    return (
        shape,
        box,
        np.clip(_shade(size, box, r.colour(PRODUCT_COLOURS), r.py.uniform(0.1, 0.3)), 0, 255),
        mask,
    )


def _busy(size: tuple[int, int], r: Rand) -> np.ndarray:
    """A busy backdrop: blotches of several colours with stripes (a shelf, a fabric, a street)."""
    w, h = size
    field = np.stack([ndimage.gaussian_filter(r.np.random((h, w)), 9) for _ in range(3)], axis=-1)
    field = (field - field.min()) / max(float(np.ptp(field)), 1e-6)
    base = np.array([r.py.uniform(60, 200) for _ in range(3)], np.float32)
    stripes = 30 * np.sin(np.arange(w, dtype=np.float32)[None, :] / r.py.uniform(6, 14))[..., None]
    return np.clip(base + 140 * (field - 0.5) + stripes, 0, 255).astype(np.float32)


def _on(background: np.ndarray, subject: np.ndarray, mask: np.ndarray) -> Layers:
    return _blend(background, subject, mask), mask


def _plain(size, r, top, bottom, shapes=SOLID_SHAPES, shadow=0.35) -> Layers:
    _shape, box, subject, mask = _product(size, r, shapes)
    background = _gradient(size, np.array(top, np.float32), np.array(bottom, np.float32))
    return _on(background * (1 - shadow * _contact_shadow(size, box))[..., None], subject, mask)


def _reflective_floor(size: tuple[int, int], r: Rand, floor: tuple[int, int, int]) -> Layers:
    """A product on a glossy floor showing its faded mirror image below its base."""
    _w, h = size
    _shape, box, subject, mask = _product(size, r, SOLID_SHAPES, (0.38, 0.5))
    shift = box[3] - 0.62 * h
    box = (box[0], box[1] - shift, box[2], box[3] - shift)
    subject, mask = np.roll(subject, -round(shift), axis=0), np.roll(mask, -round(shift), axis=0)
    base = int(box[3])
    rows = np.arange(h)
    source = np.clip(2 * base - 1 - rows, 0, h - 1)
    fade = np.where(
        rows >= base, r.py.uniform(0.35, 0.6) * np.exp(-(rows - base) / (0.5 * (box[3] - box[1]))), 0
    )
    wall = np.array(floor, np.float32) * 0.92 + 12
    background = _gradient(size, wall, np.array(floor, np.float32))
    mirrored = _blend(background, subject[source], mask[source] * fade[:, None])
    return _on(mirrored, subject, mask)


def _punched(size: tuple[int, int], r: Rand, background: np.ndarray) -> Layers:
    """A flat product punched with a grid of holes (a perforated tray, a cut-work mat)."""
    w, h = size
    colour = r.colour(PRODUCT_COLOURS)
    side = r.py.uniform(0.5, 0.66) * min(w, h)
    x0, y0 = (w - side) / 2, (h - side) / 2
    ss = 2
    canvas = Image.new("L", (w * ss, h * ss), 0)
    draw = ImageDraw.Draw(canvas)
    round_shape = r.py.random() < 0.5
    outline = (x0 * ss, y0 * ss, (x0 + side) * ss, (y0 + side) * ss)
    draw.ellipse(outline, fill=255) if round_shape else draw.rounded_rectangle(outline, 12 * ss, fill=255)
    pitch, hole = side / r.py.choice((6, 7, 8)), r.py.uniform(0.18, 0.3)
    for cy in np.arange(y0 + pitch, y0 + side - pitch / 2, pitch):
        for cx in np.arange(x0 + pitch, x0 + side - pitch / 2, pitch):
            rad = hole * pitch
            draw.ellipse(((cx - rad) * ss, (cy - rad) * ss, (cx + rad) * ss, (cy + rad) * ss), fill=0)
    mask = np.asarray(canvas.reduce(ss), np.float32) / 255
    subject = np.clip(_shade(size, (x0, y0, x0 + side, y0 + side), colour, 0.1), 0, 255)
    return _on(background, subject, mask)


def _skin(size: tuple[int, int], draw_fn: Callable[[ImageDraw.ImageDraw], None]) -> np.ndarray:
    layer = Image.new("L", size, 0)
    draw_fn(ImageDraw.Draw(layer))
    return np.asarray(layer, np.float32) / 255


def _in_hand(size: tuple[int, int], r: Rand) -> Layers:
    """A product held up by a hand and forearm coming in from the bottom edge."""
    w, h = size
    _shape, box, subject, mask = _product(size, r, ("bottle", "tumbler", "box", "vase"), (0.4, 0.55))
    x0, _y0, x1, y1 = box
    tone = r.colour(SKIN_TONES, 8)
    cx = (x0 + x1) / 2 + r.py.uniform(-0.1, 0.1) * (x1 - x0)

    def hand(d: ImageDraw.ImageDraw) -> None:
        d.rounded_rectangle((cx - 0.09 * w, y1 - 0.05 * h, cx + 0.09 * w, h + 10), radius=0.05 * w, fill=255)
        d.ellipse((cx - 0.16 * w, y1 - 0.12 * h, cx + 0.16 * w, y1 + 0.1 * h), fill=255)

    arm = _skin(size, hand)
    background = _gradient(size, np.array((240, 240, 238), np.float32), np.array((214, 214, 210), np.float32))
    skin = np.clip(_shade(size, (cx - 0.16 * w, y1 - 0.12 * h, cx + 0.16 * w, h), tone, 0.05), 0, 255)
    return _on(_blend(background, skin, arm), subject, mask)


def _on_person(size: tuple[int, int], r: Rand) -> Layers:
    """A product held in front of a person's chest: face and neck above, shirt around it."""
    w, h = size
    _shape, _box, subject, mask = _product(size, r, ("bottle", "box", "mug", "sphere"), (0.35, 0.45))
    tone, shirt = r.colour(SKIN_TONES, 8), r.colour(PRODUCT_COLOURS, 30)
    cx = w / 2 + r.py.uniform(-0.05, 0.05) * w

    def face(d: ImageDraw.ImageDraw) -> None:
        d.ellipse((cx - 0.14 * w, -0.12 * h, cx + 0.14 * w, 0.24 * h), fill=255)
        d.rectangle((cx - 0.06 * w, 0.15 * h, cx + 0.06 * w, 0.3 * h), fill=255)

    def torso(d: ImageDraw.ImageDraw) -> None:
        d.rounded_rectangle((cx - 0.36 * w, 0.27 * h, cx + 0.36 * w, h + 40), radius=0.12 * w, fill=255)

    wall = _gradient(size, np.array((226, 230, 234), np.float32), np.array((200, 204, 210), np.float32))
    person = _blend(wall, np.broadcast_to(shirt, (h, w, 3)) * 0.9, _skin(size, torso))
    person = _blend(
        person, _shade(size, (cx - 0.14 * w, 0, cx + 0.14 * w, 0.3 * h), tone, 0.05), _skin(size, face)
    )
    return _on(np.clip(person, 0, 255), subject, mask)


def _glass(size: tuple[int, int], r: Rand) -> Layers:
    """A clear, tinted glass bottle: the backdrop shows through it, with bright rims and highlights."""
    _shape, box, _colour, mask = _product(size, r, ("bottle", "tumbler", "vase"))
    background = _gradient(size, np.array((236, 236, 236), np.float32), np.array((196, 198, 200), np.float32))
    tint = np.array([r.py.uniform(60, 200) for _ in range(3)], np.float32)
    edge = np.clip(mask - ndimage.binary_erosion(mask > 0.5, iterations=3), 0, 1)
    body = 0.55 * background + 0.45 * tint
    glass = _blend(body, np.full_like(body, 40), edge * 0.6)
    return _on(background * (1 - 0.3 * _contact_shadow(size, box))[..., None], glass, mask)


def _cast_shadow(size: tuple[int, int], r: Rand) -> Layers:
    """Hard sunlight: a product casting a long, dark, sharp shadow across a light floor."""
    w, h = size
    _shape, box, subject, mask = _product(size, r, SOLID_SHAPES, (0.4, 0.55))
    base, lean = box[3], r.py.choice((-1, 1)) * r.py.uniform(0.6, 1.2)
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
    src_r = base - (rows - base) * r.py.uniform(1.2, 2.0)
    src_c = cols - lean * (rows - base)
    shadow = ndimage.map_coordinates(mask, [src_r, src_c], order=1, cval=0) * (rows > base - 2)
    floor = _gradient(size, np.array((232, 226, 214), np.float32), np.array((214, 206, 190), np.float32))
    return _on(floor * (1 - r.py.uniform(0.45, 0.6) * shadow)[..., None], subject, mask)


def _thin(size: tuple[int, int], r: Rand) -> Layers:
    """A product with thin parts (whisk wires, lamp stand, headphone band) on a plain backdrop."""
    return _plain(size, r, (232, 230, 228), (214, 212, 208), ("whisk", "lamp", "headphones"), 0.2)


def _dark(size: tuple[int, int], r: Rand) -> Layers:
    """A near-black product on a near-black backdrop."""
    _shape, box, _subject, mask = _product(size, r, SOLID_SHAPES)
    subject = np.clip(_shade(size, box, r.colour(DARK_COLOURS, 6), 0.08), 0, 255)
    background = _gradient(size, np.full(3, r.py.uniform(28, 38), np.float32), np.full(3, 18, np.float32))
    return _on(background, subject, mask)


def _coloured(size: tuple[int, int], r: Rand) -> Layers:
    """A product on a saturated colour sweep (a brand backdrop)."""
    top = np.array([r.py.uniform(90, 240) for _ in range(3)], np.float32)
    return _plain(size, r, tuple(top), tuple(top * 0.8))


_DOILY: tuple[str, ...] = ("doily",)
#: kind -> scene maker.  The first group is the calibration part, the second the held-out part.
CALIBRATION_KINDS: dict[str, Callable[[tuple[int, int], Rand], Layers]] = {
    "white-sweep": lambda s, r: _plain(s, r, (255, 255, 255), (246, 246, 246), shadow=0.3),
    "white-reflective-floor": lambda s, r: _reflective_floor(s, r, (238, 238, 240)),
    "lace-on-seamless": lambda s, r: _plain(s, r, (70, 74, 110), (44, 50, 86), _DOILY, 0.2),
    "in-hand": _in_hand,
    "dark-on-dark": _dark,
    "busy-backdrop": lambda s, r: (lambda p: _on(_busy(s, r), p[2], p[3]))(_product(s, r, SOLID_SHAPES)),
    "cast-shadow": _cast_shadow,
    "glass": _glass,
}
HELD_OUT_KINDS: dict[str, Callable[[tuple[int, int], Rand], Layers]] = {
    "grey-sweep": lambda s, r: _plain(s, r, (224, 224, 226), (166, 166, 170)),
    "black-reflective-floor": lambda s, r: _reflective_floor(s, r, (40, 40, 46)),
    "perforated-on-busy": lambda s, r: _punched(s, r, _busy(s, r)),
    "on-person": _on_person,
    "thin-parts": _thin,
    "colour-sweep": _coloured,
}
#: The real example photos in each part (cloth-1 has no reference cut-out).
CALIBRATION_REAL = ("car-1", "animal-2", "girl-1")
HELD_OUT_REAL = ("car-2", "car-3", "anime-girl-1")


def scene(kind: str, seed: int, size: tuple[int, int] = SIZE) -> Scene:
    """One generated scene; the same (kind, seed, size) always gives the same bytes and mask."""
    makers = {**CALIBRATION_KINDS, **HELD_OUT_KINDS}
    if kind not in makers:
        raise ValueError(f"unknown scene kind {kind!r}; choose one of {', '.join(makers)}")
    r = Rand("qa-scene", kind, seed, *size)
    rgb, mask = makers[kind](size, r)
    buffer = io.BytesIO()
    _finish(rgb, r, 2.0).save(buffer, "JPEG", quality=92)
    truth = Image.fromarray(np.clip(mask * 255 + 0.5, 0, 255).astype(np.uint8), "L")
    return Scene(f"{kind}-{seed}", kind, buffer.getvalue(), truth)


def _real(names: tuple[str, ...]) -> list[Scene]:
    photos = {p.kind.removeprefix("real:"): p for p in real_photos()}
    out = []
    for name in names:
        mask = photos[name].mask
        if mask is not None:
            out.append(Scene(f"real:{name}", "real", photos[name].data, mask))
    return out


def calibration_set(seeds: range = CALIBRATION_SEEDS) -> list[Scene]:
    """The calibration part: its kinds and seeds, plus its real photos."""
    return [scene(k, s) for k in CALIBRATION_KINDS for s in seeds] + _real(CALIBRATION_REAL)


def held_out_set(seeds: range = HELD_OUT_SEEDS) -> list[Scene]:
    """The held-out part: kinds and seeds the calibration never saw, plus its real photos."""
    return [scene(k, s) for k in HELD_OUT_KINDS for s in seeds] + _real(HELD_OUT_REAL)


def mask_iou(predicted: Image.Image, truth: Image.Image) -> float:
    """Pixel IoU of two masks of the same photo (both thresholded at half)."""
    a = np.asarray(predicted.convert("L").resize(truth.size, Image.Resampling.BILINEAR)) >= 128
    b = np.asarray(truth.convert("L")) >= 128
    union = int((a | b).sum())
    return float((a & b).sum() / union) if union else 1.0


#: Cut-out defects a model makes, applied to a true mask (for calibration samples with known IoU).
DEFECTS = ("background-band", "subject-eroded", "top-missing", "hole-punched")
#: Calibration scenes the defects are applied to.
DEFECT_SCENES = (("white-sweep", 0), ("busy-backdrop", 1), ("cast-shadow", 2))


def defective_mask(truth: Image.Image, defect: str) -> Image.Image:
    """``truth`` with one typical cut-out defect (a band of backdrop kept, the rim cut away, ...)."""
    hard = np.asarray(truth) >= 128
    side = max(hard.shape)
    rows = np.flatnonzero(hard.any(axis=1))
    if defect == "background-band":
        hard = ndimage.binary_dilation(hard, iterations=max(2, side // 45))
    elif defect == "subject-eroded":
        hard = ndimage.binary_erosion(hard, iterations=max(2, side // 50))
    elif defect == "top-missing":
        hard = hard & (np.arange(hard.shape[0]) > (rows[0] + rows[-1]) // 2)[:, None]
    else:
        ys, xs = np.nonzero(hard)
        cy, cx, span = int(ys.mean()), int(xs.mean()), max(2, int(0.15 * (rows[-1] - rows[0])))
        hard = hard.copy()
        hard[cy - span : cy + span, cx - span // 2 : cx + span // 2] = False
    return Image.fromarray(np.where(hard, 255, 0).astype(np.uint8), "L")
