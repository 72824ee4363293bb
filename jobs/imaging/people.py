"""People detector: skin-toned parts kept in a cut-out (a hand holding the product, a model).

Skin is found with the classic explicit rule (Kovac et al. 2003, RGB) combined with a YCrCb box
(Chai & Ngan 1999).  A skin-toned product (tan leather, wood) is not a person: when skin tones
cover most of the subject, or have the hue of the rest of it (one material in light and shade),
they are taken as the product's own colour.  Skin outside
the cut does not count (a hand left out of the cut-out is not in the published image).
"""

from __future__ import annotations

import numpy as np

from jobs.imaging.measure import Cut, box_around, components, lab, opening, sample

#: Skin blobs smaller than this share of the subject are ignored (specks of warm colour).
MIN_BLOB = 0.01
#: A subject more skin-toned than this is taken to be a skin-coloured product.
SKIN_COLOURED_PRODUCT = 0.6
#: Skin and the rest of the subject within this many degrees of hue are one material.
SAME_HUE_DEGREES = 20.0
#: Below this Lab chroma a colour has no meaningful hue (greys, black, white).
MIN_CHROMA = 12.0


def skin_pixels(rgb: np.ndarray) -> np.ndarray:
    """Boolean map of skin-toned pixels."""
    r8, g8, b8 = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    r, g, b = (channel.astype(np.int16) for channel in (r8, g8, b8))
    spread = np.maximum(np.maximum(r8, g8), b8).astype(np.int16) - np.minimum(np.minimum(r8, g8), b8)
    explicit = (r > 95) & (g > 40) & (b > 20) & (spread > 15) & (np.abs(r - g) > 15) & (r > g) & (r > b)
    cr = 128 + 0.5 * r - 0.4187 * g - 0.0813 * b
    cb = 128 - 0.1687 * r - 0.3313 * g + 0.5 * b
    return explicit & (cr >= 135) & (cr <= 173) & (cb >= 77) & (cb <= 127)


def people_score(rgb: np.ndarray, mask: np.ndarray | Cut) -> float:
    """Share of the subject in sizeable skin-toned blobs (work size ``rgb`` and 0..1 ``mask``)."""
    hard = Cut.of(mask).hard
    total = int(hard.sum())
    if not total:
        return 0.0
    # the subject's box and the 2 px the opening looks beyond it: nothing outside counts
    box = box_around(hard, 2)
    assert box is not None  # the subject has pixels
    rgb, hard = rgb[box], hard[box]
    skin = opening(skin_pixels(rgb)) & hard
    if skin.sum() > SKIN_COLOURED_PRODUCT * total or _same_hue(rgb[skin], rgb[hard & ~skin]):
        return 0.0
    sizes = components(skin, connectivity=4)
    return float(sizes[sizes >= MIN_BLOB * total].sum() / total)


def _same_hue(skin: np.ndarray, rest: np.ndarray) -> bool:
    """True when the skin-toned pixels have the hue of the subject's other coloured pixels."""
    rest_lab = lab(sample(rest, 20_000)[None])[0] if len(rest) else np.empty((0, 3))
    coloured = rest_lab[np.hypot(rest_lab[:, 1], rest_lab[:, 2]) >= MIN_CHROMA]
    if len(coloured) < 0.2 * max(len(rest), 1) or not len(skin):
        return False
    skin_lab = lab(sample(skin, 20_000)[None])[0]
    hue_skin = np.degrees(np.arctan2(np.median(skin_lab[:, 2]), np.median(skin_lab[:, 1])))
    hue_rest = np.degrees(np.arctan2(np.median(coloured[:, 2]), np.median(coloured[:, 1])))
    return abs((hue_skin - hue_rest + 180) % 360 - 180) <= SAME_HUE_DEGREES
