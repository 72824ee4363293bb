"""Studio steps: clean the mask, trim to the subject, plan the canvas (centre, margin/fill, aspect,
size), place the subject, add a soft shadow and lay it on the background.

Each step is a pure function of images and settings; :func:`render_studio` runs them in order.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

from jobs.imaging.measure import pieces, within
from jobs.imaging.settings import PipelineSettings

#: Alpha below this (0-255) is background noise from the model and is dropped; above the top it is opaque.
ALPHA_FLOOR = 10
ALPHA_TOP = 245
#: Islands smaller than this share of the largest subject piece are specks and are removed.
SPECK_SHARE = 0.02
#: Zoom beyond this is not used just to keep the input's size (min_size/target_size may still force it).
MAX_KEEP_SIZE_UPSCALE = 1.5
#: Soft alpha further than this share of the image side from a solid part is fog and is dropped.
SOFT_REACH = 0.015
#: Masks are sorted into pieces at most this size (px a side); enough to tell specks from subjects.
PIECES_SIDE = 1024


@dataclass(frozen=True)
class Layout:
    """Where the subject goes: ``box`` (source px) is drawn at ``placed`` on ``canvas`` (x0, y0, x1, y1)."""

    canvas: tuple[int, int]
    box: tuple[int, int, int, int]
    placed: tuple[int, int, int, int]
    #: Output px per source px.
    scale: float
    #: The scale the settings ask for: 1 unless target_size or max_size make the subject smaller.
    expected_scale: float

    @property
    def fill(self) -> float:
        """The subject's share of the canvas along its limiting side."""
        x0, y0, x1, y1 = self.placed
        return max((x1 - x0) / self.canvas[0], (y1 - y0) / self.canvas[1])


def clean_mask(mask: Image.Image) -> Image.Image:
    """Drop model noise, specks and fog (soft alpha far from any solid part); saturate near-opaque alpha."""
    grey = mask.convert("L")
    lut = [
        round(min(255.0, max(0.0, (v - ALPHA_FLOOR) * 255.0 / (ALPHA_TOP - ALPHA_FLOOR)))) for v in range(256)
    ]
    levelled = grey.point(lut)
    small = levelled.copy()
    small.thumbnail((PIECES_SIDE, PIECES_SIDE), Image.Resampling.BOX)
    hard = np.asarray(small) >= 128
    count, labels, stats, _centroids = cv2.connectedComponentsWithStats(hard.astype(np.uint8), connectivity=8)
    if count <= 1:
        return levelled
    sizes = stats[1:, cv2.CC_STAT_AREA]
    kept = pieces(labels, sizes >= SPECK_SHARE * sizes.max())
    reach = max(2.0, SOFT_REACH * max(small.size))
    zone = within(kept, reach)
    if zone.all():
        return levelled
    keep = Image.fromarray((zone * 255).astype(np.uint8), mode="L").resize(
        grey.size, Image.Resampling.BILINEAR
    )
    return Image.fromarray(np.where(np.asarray(keep) > 0, np.asarray(levelled), 0).astype(np.uint8), mode="L")


def subject_box(mask: Image.Image) -> tuple[int, int, int, int] | None:
    """The bounding box of every non-zero mask pixel, or None for an empty mask."""
    return mask.getbbox()


def decontaminate(
    rgb: Image.Image, mask: Image.Image, box: tuple[int, int, int, int] | None = None
) -> Image.Image:
    """RGBA cut-out (of ``box`` when given) whose soft-edge pixels take the nearest solid subject colour.

    A soft edge pixel mixes subject and old background; keeping its colour leaves a halo of the old
    background on the new one.  Borrowing the nearest opaque colour removes that fringe cheaply.
    """
    if box is not None:
        rgb, mask = rgb.crop(box), mask.crop(box)
    alpha = np.asarray(mask)
    colours = np.asarray(rgb.convert("RGB"))
    solid = alpha >= ALPHA_TOP
    soft = (alpha > 0) & ~solid
    if solid.any() and soft.any():
        _dist, (rows, cols) = ndimage.distance_transform_edt(~solid, return_indices=True)
        colours = colours.copy()
        colours[soft] = colours[rows[soft], cols[soft]]
    out = np.dstack([colours, alpha])
    return Image.fromarray(out.astype(np.uint8), mode="RGBA")


def plan_layout(
    box: tuple[int, int, int, int], source_size: tuple[int, int], settings: PipelineSettings
) -> Layout:
    """Size the canvas so the subject fills ``fill_ratio`` (within ``margin``) at the chosen aspect."""
    x0, y0, x1, y1 = box
    width, height = max(1, x1 - x0), max(1, y1 - y0)
    fill = min(settings.fill_ratio, 1.0 - 2.0 * settings.margin)
    aspect = settings.aspect_ratio
    if aspect is None:
        canvas_w, canvas_h = width / fill, height / fill
    elif width / height >= aspect:
        canvas_w = width / fill
        canvas_h = canvas_w / aspect
    else:
        canvas_h = height / fill
        canvas_w = canvas_h * aspect
    native_long = max(canvas_w, canvas_h)
    if settings.target_size is not None:
        long_side = float(settings.target_size)
        expected = long_side / native_long
    else:
        long_side = max(native_long, min(float(max(source_size)), native_long * MAX_KEEP_SIZE_UPSCALE))
        long_side = min(max(long_side, float(settings.min_size)), float(settings.max_size))
        expected = min(1.0, settings.max_size / native_long)
    scale = long_side / native_long
    out_w = max(1, round(canvas_w * scale))
    out_h = max(1, round(canvas_h * scale))
    sub_w = min(out_w, max(1, round(width * scale)))
    sub_h = min(out_h, max(1, round(height * scale)))
    left, top = (out_w - sub_w) // 2, (out_h - sub_h) // 2
    return Layout((out_w, out_h), box, (left, top, left + sub_w, top + sub_h), scale, expected)


def premultiplied_resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Resize RGBA with premultiplied alpha, so transparent pixels' colour does not bleed into edges."""
    return image.convert("RGBa").resize(size, Image.Resampling.LANCZOS).convert("RGBA")


def place_subject(subject: Image.Image, layout: Layout) -> Image.Image:
    """A transparent canvas with ``subject`` (the RGBA cut-out of ``layout.box``) in ``layout.placed``."""
    x0, y0, x1, y1 = layout.placed
    layer = Image.new("RGBA", layout.canvas, (0, 0, 0, 0))
    layer.paste(premultiplied_resize(subject, (x1 - x0, y1 - y0)), (x0, y0))
    return layer


def drop_shadow(layer: Image.Image, layout: Layout, opacity: float) -> Image.Image:
    """A soft "L" shadow under the subject: its silhouette blurred and shifted slightly down."""
    x0, y0, x1, y1 = layout.placed
    size = max(x1 - x0, y1 - y0)
    blur = max(2.0, 0.03 * size)
    offset = max(1, round(0.015 * size))
    alpha = layer.getchannel("A")
    shifted = Image.new("L", layer.size, 0)
    shifted.paste(alpha, (0, offset))
    soft = shifted.filter(ImageFilter.GaussianBlur(blur))
    return soft.point(lambda v: round(v * opacity))


def compose(layer: Image.Image, shadow: Image.Image | None, settings: PipelineSettings) -> Image.Image:
    """The placed subject over its shadow over the background, as RGBA."""
    background = Image.new("RGBA", layer.size, settings.background_rgba)
    if shadow is not None:
        black = Image.new("RGBA", layer.size, (0, 0, 0, 255))
        if settings.transparent:
            background = Image.merge("RGBA", (*black.split()[:3], shadow))
        else:
            background = Image.composite(black, background, shadow)
    return Image.alpha_composite(background, layer)


@dataclass
class StudioResult:
    """The composed canvas with what QA needs to judge it."""

    image: Image.Image
    layout: Layout
    #: The placed subject's alpha on the canvas.
    subject_alpha: Image.Image
    shadow: Image.Image | None


def render_studio(rgb: Image.Image, mask: Image.Image, settings: PipelineSettings) -> StudioResult | None:
    """Trim, centre, frame, shadow and background in one go; None when the mask is empty."""
    box = subject_box(mask)
    if box is None:
        return None
    layout = plan_layout(box, rgb.size, settings)
    layer = place_subject(decontaminate(rgb, mask, box), layout)
    shadow = drop_shadow(layer, layout, settings.shadow_opacity) if settings.shadow else None
    return StudioResult(compose(layer, shadow, settings), layout, layer.getchannel("A"), shadow)
