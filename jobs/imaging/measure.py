"""Colour and distance helpers shared by the QA measures and detectors (pure numpy/scipy)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree
from skimage.color import rgb2lab

#: Within this CIE76 delta E of a region's common colour a pixel counts as that region's colour.
CAMOUFLAGE_DE = 10.0


def lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab of uint8 RGB pixels."""
    return np.asarray(rgb2lab(rgb.astype(np.float32) / 255.0))


def depth(region: np.ndarray) -> np.ndarray:
    """Distance of every pixel of ``region`` to the nearest pixel outside it (0 outside)."""
    if region.all():
        return np.full(region.shape, np.inf)
    return np.asarray(ndimage.distance_transform_edt(region))


class Palette:
    """The colours of a region (Lab, 4-bit-per-channel bins), to ask "is this colour one of them?"."""

    def __init__(self, rgb_pixels: np.ndarray, min_share: float = 0.002) -> None:
        bins = (rgb_pixels >> 4).astype(np.int64)
        keys = bins[:, 0] * 256 + bins[:, 1] * 16 + bins[:, 2]
        unique, counts = np.unique(keys, return_counts=True)
        shares = counts / max(int(counts.sum()), 1)
        order = np.argsort(shares)[::-1]
        #: How many bins cover 95 % of the region: small for a plain or two-tone backdrop.
        self.spread = int(np.searchsorted(np.cumsum(shares[order]), 0.95) + 1) if unique.size else 0
        common = unique[shares >= min_share]
        centres = np.stack([(common // 256) % 16, (common // 16) % 16, common % 16], axis=-1) * 16 + 8
        self._tree = cKDTree(lab(centres[None].astype(np.uint8))[0]) if common.size else None

    def near(self, rgb_pixels: np.ndarray, delta_e: float) -> np.ndarray:
        """For each pixel: is a common colour of the region within ``delta_e``?"""
        if self._tree is None or rgb_pixels.size == 0:
            return np.zeros(len(rgb_pixels), dtype=bool)
        distance, _index = self._tree.query(lab(rgb_pixels[None])[0], k=1)
        return np.asarray(distance <= delta_e)


def border_pixels(array: np.ndarray, width: int | None = None) -> np.ndarray:
    """The pixels of a frame ``width`` px wide (default 4 % of the short side) around ``array``."""
    if width is None:
        width = max(2, round(0.04 * min(array.shape[:2])))
    parts = [array[:width], array[-width:], array[:, :width], array[:, -width:]]
    return np.concatenate([p.reshape(-1, *array.shape[2:]) for p in parts])


def sample(pixels: np.ndarray, limit: int = 40_000) -> np.ndarray:
    """Every n-th pixel, at most about ``limit`` of them."""
    step = max(1, len(pixels) // limit)
    return pixels[::step]
