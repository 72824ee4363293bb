"""Misplaced-edge detector: the cut runs through flat background while the photo's real edge lies
inside it (a band of backdrop kept around the subject), which no colour contrast across the cut shows.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from jobs.imaging.measure import depth

#: Grey levels per pixel from which a gradient counts as an edge of the photo.
EDGE = 12.0
#: How much stronger the edge inside the cut must be than the edge at the cut.
STRONGER = 3.0


def misplaced_edge_score(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Share of the cut's outline with a clear photo edge just inside it and none at the cut itself."""
    hard = mask >= 0.5
    if hard.sum() < 64 or hard.all():
        return 0.0
    r = max(2, round(0.006 * max(hard.shape)))
    grey = ndimage.gaussian_filter(rgb.astype(np.float32).mean(axis=2), 1.0)
    gradient = np.hypot(ndimage.sobel(grey, 0), ndimage.sobel(grey, 1)) / 8
    depth_in, depth_out = depth(hard), depth(~hard)
    outline = hard & (depth_in <= 1.5)
    at_cut = ndimage.maximum_filter(np.where((depth_in <= r) & (depth_out <= r), gradient, 0), size=2 * r + 1)
    inside = (depth_in > 2 * r) & (depth_in <= 8 * r)
    within = ndimage.maximum_filter(np.where(inside, gradient, 0), size=16 * r + 1)
    misplaced = outline & (within >= EDGE) & (within > STRONGER * at_cut)
    return float(misplaced.sum() / max(int(outline.sum()), 1))
