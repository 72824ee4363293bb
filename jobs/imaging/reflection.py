"""Reflection detector: a mirror image of the product (a glossy floor's reflection) kept as subject.

A reflection is the product flipped about its contact line and faded toward the floor.  For every
candidate axis across the lower part of the subject, the mask below the axis is compared with the
mask above it flipped; where the outlines mirror each other and the lower part is much closer to the
floor's colour than the upper part, fading further the further it is from the axis, while each row
keeps the pattern of the row it mirrors, the lower part is a reflection.  A product that is itself
symmetric top-to-bottom is not faded, so it does not count.
"""

from __future__ import annotations

import cv2
import numpy as np

from jobs.imaging.measure import Cut, pixels_at

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
    total = int(np.count_nonzero(hard))
    rows = np.flatnonzero(hard.any(axis=1))
    if total < 64 or rows.size < 8:
        return 0.0
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    floor_colour = _row_sums(rgb, (cut.depth_out > 2) & ~hard)
    # the outlines and pictures compared lie within the subject's columns; the floor spans the width
    cols = np.flatnonzero(hard.any(axis=0))
    hard = hard[:, cols[0] : cols[-1] + 1]
    subject = rgb[:, cols[0] : cols[-1] + 1].astype(np.float32)
    subject_rows = np.concatenate(([0], np.cumsum(np.count_nonzero(hard, axis=1))))
    best = 0.0
    for axis in np.linspace(top + (bottom - top) / 3, bottom - 4, AXES).astype(int):
        span = min(bottom - axis, axis - top)
        if span < 4:
            continue
        both = hard[axis : axis + span] & hard[axis - span : axis][::-1]
        overlap = int(np.count_nonzero(both))
        below = int(subject_rows[axis + span] - subject_rows[axis])
        union = below + int(subject_rows[axis] - subject_rows[axis - span]) - overlap
        if not union or overlap / union < OUTLINE_MATCH or overlap < 32:
            continue
        floor_pixels = floor_colour[axis + span, 3] - floor_colour[axis, 3]
        if not floor_pixels:
            continue
        floor = ((floor_colour[axis + span, :3] - floor_colour[axis, :3]) / floor_pixels).astype(np.float32)
        if (
            _faded(subject, both, axis, span, floor)
            and _row_match(subject, both, axis, span, floor) >= PICTURE_MATCH
        ):
            best = max(best, below / total)
    return best


def _row_sums(rgb: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Running sums down the rows of ``region``'s colours and pixel count: row ``i`` holds rows ``0:i``."""
    sums = np.zeros((len(region) + 1, 4))
    kept = cv2.bitwise_and(rgb, rgb, mask=region.astype(np.uint8))
    sums[1:, :3] = np.cumsum(cv2.reduce(kept, 1, cv2.REDUCE_SUM, dtype=cv2.CV_64F)[:, 0], axis=0)
    sums[1:, 3] = np.cumsum(np.count_nonzero(region, axis=1))
    return sums


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
    low = _distances(pixels_at(pixels[axis + start : axis + stop], region), floor)
    high = _distances(pixels_at(pixels[axis - stop : axis - start], region[::-1]), floor)
    return float(low.mean() / max(high.mean(), 1.0))


def _distances(pixels: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Euclidean distance of each of ``pixels`` (N x 3) to ``colour``."""
    difference = pixels - colour
    return np.sqrt(np.einsum("ij,ij->i", difference, difference))


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
