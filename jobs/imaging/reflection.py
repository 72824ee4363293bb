"""Reflection detector: a mirror image of the product (a glossy floor's reflection) kept as subject.

A reflection is the product flipped about its contact line and faded toward the floor.  For every
candidate axis across the lower part of the subject, the mask below the axis is compared with the
mask above it flipped; where both the outline and the picture mirror each other, and the lower half
is closer to the floor's colour than the upper half (faded), the lower half is a reflection.
A product that is itself symmetric top-to-bottom is not faded, so it does not count.
"""

from __future__ import annotations

import numpy as np

from jobs.imaging.measure import depth

#: Outline agreement (IoU) of the part below an axis and the part above it, flipped.
OUTLINE_MATCH = 0.6
#: Correlation of the pictures of the two parts (a reflection keeps the product's pattern).
PICTURE_MATCH = 0.5
#: How much closer to the floor colour the lower part must be than the upper part (faded).
FADED = 0.8
#: Axes tried per subject height.
AXES = 48


def reflection_score(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Share of the subject that is a faded mirror image of the part above it (0 when none).

    ``rgb`` is the photo (H, W, 3 uint8) and ``mask`` the cut (0..1), both at work size.
    """
    hard = mask >= 0.5
    total = int(hard.sum())
    rows = np.flatnonzero(hard.any(axis=1))
    if total < 64 or rows.size < 8:
        return 0.0
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    pixels = rgb.astype(np.float32)
    outside = (depth(~hard) > 2) & ~hard
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
        low, high = pixels[axis : axis + span][both], pixels[axis - span : axis][::-1][both]
        if len(low) < 32 or _correlation(low, high) < PICTURE_MATCH:
            continue
        floor_rows = outside[axis : axis + span]
        if not floor_rows.any():
            continue
        floor = pixels[axis : axis + span][floor_rows].mean(axis=0)
        faded = np.linalg.norm(low - floor, axis=1).mean() / max(
            np.linalg.norm(high - floor, axis=1).mean(), 1.0
        )
        if faded <= FADED:
            best = max(best, float(below.sum() / total))
    return best


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / norm) if norm > 1e-6 else 0.0
