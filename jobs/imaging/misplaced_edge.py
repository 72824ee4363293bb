"""Misplaced-edge detector: the cut runs through flat background while the photo's real edge lies
inside it (a band of backdrop kept around the subject), which no colour contrast across the cut shows.
"""

from __future__ import annotations

import numpy as np

from jobs.imaging.measure import Cut, Photo, gaussian, gradient, max_filter

#: Grey levels per pixel from which a gradient counts as an edge of the photo.
EDGE = 12.0
#: How much stronger the edge inside the cut must be than the edge at the cut.
STRONGER = 3.0


def misplaced_edge_score(rgb: np.ndarray | Photo, mask: np.ndarray | Cut) -> float:
    """Share of the cut's outline with a clear photo edge just inside it and none at the cut itself."""
    cut = Cut.of(mask)
    hard = cut.hard
    if hard.sum() < 64 or hard.all():
        return 0.0
    r = max(2, round(0.006 * max(hard.shape)))
    edges = gradient(gaussian(Photo.of(rgb).grey, 1.0))
    depth_in, depth_out = cut.depth_in, cut.depth_out
    outline = hard & (depth_in <= 1.5)
    at_cut = max_filter(np.where((depth_in <= r) & (depth_out <= r), edges, 0), 2 * r + 1)
    inside = (depth_in > 2 * r) & (depth_in <= 8 * r)
    within = max_filter(np.where(inside, edges, 0), 16 * r + 1)
    misplaced = outline & (within >= EDGE) & (within > STRONGER * at_cut)
    return float(misplaced.sum() / max(int(outline.sum()), 1))
