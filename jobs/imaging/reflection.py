"""Reflection detector: a mirror image of the product (a glossy floor's reflection) kept as subject.

A reflection is the product flipped about its contact line and faded toward the floor.  For every
candidate axis across the lower part of the subject, the mask below the axis is compared with the
mask above it flipped; where the outlines mirror each other and the lower part is much closer to the
floor's colour than the upper part, fading further the further it is from the axis, while each row
keeps the pattern of the row it mirrors, the lower part is a reflection.  A product that is itself
symmetric top-to-bottom is not faded, so it does not count.
"""

from __future__ import annotations

import numpy as np

from jobs.imaging.measure import Cut

#: Outline agreement (IoU) of the part below an axis and the part above it, flipped.
OUTLINE_MATCH = 0.6
#: How much closer to the floor colour the lower part must be than the upper part (faded).
FADED = 0.6
#: Mean correlation, row by row, of the two parts' pictures (a reflection keeps the product's pattern).
PICTURE_MATCH = 0.5
#: Axes tried per subject height.
AXES = 48


def reflection_score(rgb: np.ndarray, mask: np.ndarray | Cut) -> float:
    """Share of the subject that is a faded mirror image of the part above it (0 when none).

    ``rgb`` is the photo (H, W, 3 uint8) and ``mask`` the cut (0..1, or its ``Cut``), both at work size.
    """
    cut = Cut.of(mask)
    hard = cut.hard
    total = int(hard.sum())
    rows = np.flatnonzero(hard.any(axis=1))
    if total < 64 or rows.size < 8:
        return 0.0
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    pixels = rgb.astype(np.float32)
    outside = (cut.depth_out > 2) & ~hard
    # the outlines and pictures compared lie within the subject's columns; the floor spans the width
    cols = np.flatnonzero(hard.any(axis=0))
    hard, subject = hard[:, cols[0] : cols[-1] + 1], pixels[:, cols[0] : cols[-1] + 1]
    best = 0.0
    for axis in np.linspace(top + (bottom - top) / 3, bottom - 4, AXES).astype(int):
        span = min(bottom - axis, axis - top)
        if span < 4:
            continue
        below, above = hard[axis : axis + span], hard[axis - span : axis][::-1]
        both = below & above
        union = int((below | above).sum())
        if not union or both.sum() / union < OUTLINE_MATCH:
            continue
        floor_rows = outside[axis : axis + span]
        if both.sum() < 32 or not floor_rows.any():
            continue
        floor = pixels[axis : axis + span][floor_rows].mean(axis=0)
        if (
            _faded(subject, both, axis, span, floor)
            and _row_match(subject, both, axis, span, floor) >= PICTURE_MATCH
        ):
            best = max(best, float(below.sum() / total))
    return best


def _faded(pixels: np.ndarray, both: np.ndarray, axis: int, span: int, floor: np.ndarray) -> bool:
    """Whether the lower part is much closer to the floor than the upper part near the axis
    (``FADED``), and at least as close far from it."""
    half = max(1, span // 2)
    near = _closeness(pixels, both, axis, 0, half, floor)
    return near <= FADED and _closeness(pixels, both, axis, half, span, floor) <= near


def _closeness(
    pixels: np.ndarray, both: np.ndarray, axis: int, start: int, stop: int, floor: np.ndarray
) -> float:
    """Distance to the floor colour of rows ``start:stop`` below the axis ÷ that of their mirror above it."""
    region = both[start:stop]
    if not region.any():
        return 1.0
    low = np.linalg.norm(pixels[axis + start : axis + stop][region] - floor, axis=-1)
    high = np.linalg.norm(pixels[axis - stop : axis - start][::-1][region] - floor, axis=-1)
    return float(low.mean() / max(high.mean(), 1.0))


def _row_match(pixels: np.ndarray, both: np.ndarray, axis: int, span: int, floor: np.ndarray) -> float:
    """Mean correlation across columns of mirrored rows (their difference from the floor, in grey)."""
    low = (pixels[axis : axis + span] - floor).mean(axis=-1)
    high = (pixels[axis - span : axis][::-1] - floor).mean(axis=-1)
    total, weight = 0.0, 0
    for row in range(span):
        cells = both[row]
        if cells.sum() < 8:
            continue
        a, b = low[row][cells], high[row][cells]
        a, b = a - a.mean(), b - b.mean()
        norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
        total += float((a * b).sum() / norm) * len(a) if norm > 1e-6 else 0.0
        weight += len(a)
    return total / weight if weight else 0.0
