"""People detector: skin-toned parts of a product photo (a hand holding the product, a model).

Skin is found with the classic explicit rule (Kovac et al. 2003, RGB) combined with a YCrCb box
(Chai & Ngan 1999).  A product that is skin-coloured all over (tan leather, wood) is not a person:
when skin tones cover most of the subject, only skin outside the subject counts.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: Skin blobs smaller than this share of the frame are ignored (specks of warm colour).
MIN_BLOB = 0.003
#: A subject more skin-toned than this is taken to be a skin-coloured product.
SKIN_COLOURED_PRODUCT = 0.6


def skin_pixels(rgb: np.ndarray) -> np.ndarray:
    """Boolean map of skin-toned pixels."""
    r, g, b = (rgb[..., i].astype(np.int16) for i in range(3))
    spread = rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2)
    explicit = (r > 95) & (g > 40) & (b > 20) & (spread > 15) & (np.abs(r - g) > 15) & (r > g) & (r > b)
    cr = 128 + 0.5 * r - 0.4187 * g - 0.0813 * b
    cb = 128 - 0.1687 * r - 0.3313 * g + 0.5 * b
    return explicit & (cr >= 135) & (cr <= 173) & (cb >= 77) & (cb <= 127)


def people_score(rgb: np.ndarray, mask: np.ndarray) -> float:
    """Share of the frame in sizeable skin-toned blobs (work size ``rgb`` and 0..1 ``mask``)."""
    skin = ndimage.binary_opening(skin_pixels(rgb), iterations=1)
    hard = mask >= 0.5
    if hard.any() and skin[hard].mean() > SKIN_COLOURED_PRODUCT:
        skin &= ~ndimage.binary_dilation(hard, iterations=2)
    labels, count = ndimage.label(skin)
    if not count:
        return 0.0
    sizes = ndimage.sum_labels(skin, labels, np.arange(1, count + 1))
    return float(sizes[sizes >= MIN_BLOB * skin.size].sum() / skin.size)
