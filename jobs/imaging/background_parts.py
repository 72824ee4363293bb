"""Background inside a cut-out: holes filled with the backdrop, and patches of backdrop attached.

Both look for subject pixels coloured like the background just outside the cut (a ring beyond the
anti-aliased edge).  Small pieces that never reach the outline are *filled holes* (lace, a
perforated tray, a mug handle's opening kept solid); pieces along the outline, beyond the thin
edge band the ``halo`` gate judges and unlike the colours of the subject's inside, are *background
patches* (a corner of a busy scene kept with the product).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from jobs.imaging.measure import (
    CAMOUFLAGE_DE,
    SAMPLE,
    Cut,
    Palette,
    Photo,
    erode,
    gradient,
    pieces,
    pixels_at,
)

#: Ignore pieces smaller than this share of the subject (noise, specular spots).
MIN_PIECE = 0.001
#: A filled hole is small; one background-coloured piece larger than this share of the subject is
#: a clear or camouflaged body (glass, white on white), which the ``camouflage`` gate judges, unless
#: fine structure crosses it: then it is background seen between wires (a whisk's cage kept solid).
MAX_HOLE = 0.25
#: A large piece is crossed by fine structure when its picture has this many times the gradient of
#: the background outside the cut.
CROSSED = 2.0
#: When less than this share of the subject's inside is unlike the background, the subject itself
#: looks like the backdrop (dark on dark): its outline cannot tell patches apart (``camouflage`` judges).
CAMOUFLAGED_CORE = 0.05


def background_part_scores(rgb: np.ndarray | Photo, mask: np.ndarray | Cut) -> dict[str, float]:
    """``filled_holes`` and ``background_patches``, each as a share of the subject (work size)."""
    photo, cut = Photo.of(rgb), Cut.of(mask)
    rgb, hard = photo.rgb, cut.hard
    total = int(hard.sum())
    none = {"filled_holes": 0.0, "background_patches": 0.0}
    if total < 64 or hard.all():
        return none
    r = max(2, round(0.006 * max(hard.shape)))
    depth_in, depth_out = cut.depth_in, cut.depth_out
    ring = (depth_out > r) & (depth_out <= 6 * r)
    if not ring.any():
        return none
    backdrop = Palette(pixels_at(rgb, ring, SAMPLE))
    looks_background = np.zeros_like(hard)
    looks_background[hard] = backdrop.near(pixels_at(rgb, hard), CAMOUFLAGE_DE, pixels_at(photo.lab, hard))
    core = (depth_in > max(2 * r, 0.35 * float(depth_in.max()))) & ~looks_background
    camouflaged = core.sum() < CAMOUFLAGED_CORE * max(int((depth_in > 2 * r).sum()), 1)
    labels, count = ndimage.label(looks_background)
    if not count:
        return none
    minimum = max(4, MIN_PIECE * total)
    sizes = _per_piece(labels, count)
    touched = np.zeros(count + 1, dtype=bool)
    touched[labels[depth_in <= 1.5]] = True
    reaches_outline = touched[1:]
    small = (sizes >= minimum) & (sizes <= MAX_HOLE * total) & ~reaches_outline
    holes = pieces(labels, small | _crossed(photo, labels, count, sizes >= MAX_HOLE * total, ring))
    beyond_edge = (labels > 0) & (depth_in > r)
    if core.any() and beyond_edge.any():  # less the subject's own colours (asked only where it matters)
        own = Palette(pixels_at(rgb, core, SAMPLE))
        beyond_edge[beyond_edge] = ~own.near(
            pixels_at(rgb, beyond_edge), CAMOUFLAGE_DE / 2, pixels_at(photo.lab, beyond_edge)
        )
    patch_sizes = _per_piece(labels, count, beyond_edge)
    patches = pieces(labels, reaches_outline & (patch_sizes >= minimum)) & beyond_edge
    patch_share = 0.0 if camouflaged else float(patches.sum() / total)
    return {"filled_holes": float(holes.sum() / total), "background_patches": patch_share}


def _per_piece(labels: np.ndarray, count: int, weights: np.ndarray | None = None) -> np.ndarray:
    """The pixel count (or the sum of ``weights``) of each labelled piece, labels 1..``count``."""
    flat = None if weights is None else weights.ravel()
    return np.bincount(labels.ravel(), flat, minlength=count + 1)[1:]


def _crossed(photo: Photo, labels: np.ndarray, count: int, large: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Which large pieces are crossed by fine structure (wires) the background outside does not have."""
    crossed = np.zeros(count, dtype=bool)
    if not large.any():
        return crossed
    edges = gradient(photo.grey)
    outside = float(edges[ring].mean()) + 0.5
    inner = np.where(erode(labels > 0, iterations=2), labels, 0)  # away from their rims
    means = _per_piece(inner, count, edges) / np.maximum(_per_piece(inner, count), 1)
    crossed[large] = means[large] > CROSSED * outside
    return crossed
