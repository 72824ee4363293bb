"""Colour and distance helpers shared by the QA measures and detectors (numpy, OpenCV, scipy)."""

from __future__ import annotations

from functools import cached_property

import cv2
import numpy as np
from scipy.spatial import cKDTree

#: Within this CIE76 delta E of a region's common colour a pixel counts as that region's colour.
CAMOUFLAGE_DE = 10.0
#: A region's colours are judged on about this many of its pixels (every n-th).
SAMPLE = 40_000


def _linear_srgb() -> np.ndarray:
    channel = np.arange(256, dtype=np.float64) / 255.0
    return np.where(channel > 0.04045, ((channel + 0.055) / 1.055) ** 2.4, channel / 12.92).astype(np.float32)


#: sRGB (D65) to XYZ, each row divided by the D65 white (2° observer), as scikit-image's rgb2lab.
_XYZ_WHITE = (
    np.array([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]])
    / np.array([0.95047, 1.0, 1.08883])[:, None]
).astype(np.float32)
#: (f(x), f(y), f(z), 1) to (L, a, b).
_F_TO_LAB = np.array([[0, 116, 0, -16], [500, -500, 0, 0], [0, 200, -200, 0]], np.float32)
_LINEAR = _linear_srgb()


def lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab (D65, 2°) of uint8 RGB pixels (any shape ending in 3); scikit-image's ``rgb2lab`` to 1e-4."""
    xyz = cv2.transform(_LINEAR[rgb].reshape(-1, 1, 3), _XYZ_WHITE)
    f = cv2.pow(xyz, 1.0 / 3.0)
    small = xyz <= 0.008856
    if small.any():
        f[small] = 7.787 * xyz[small] + np.float32(16.0 / 116.0)
    return np.asarray(cv2.transform(f, _F_TO_LAB)).reshape(rgb.shape)


def depth(region: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance of every pixel of ``region`` to the nearest pixel outside it (0 outside)."""
    if region.all():
        return np.full(region.shape, np.inf, dtype=np.float32)
    # Only the region's box and a 1 px frame are measured: every pixel of the region has its nearest
    # outside pixel there (the frame, or the image border where the box touches it).
    box = box_around(region, 1)
    distances = np.zeros(region.shape, dtype=np.float32)
    if box is not None:
        inside = region[box].astype(np.uint8)
        distances[box] = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return distances


def within(region: np.ndarray, radius: float) -> np.ndarray:
    """Pixels within Euclidean ``radius`` of ``region`` (its dilation by a disk: ``depth(~region) <= r``)."""
    box = box_around(region, int(radius) + 1)
    grown = np.zeros(region.shape, dtype=bool)
    if box is not None:
        grown[box] = depth(~region[box]) <= radius
    return grown


def box_around(region: np.ndarray, margin: int) -> tuple[slice, slice] | None:
    """The bounding box of ``region`` grown by ``margin`` px (within the array), None when it is empty."""
    rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
    if not rows.size:
        return None
    return (
        slice(max(0, rows[0] - margin), rows[-1] + 1 + margin),
        slice(max(0, cols[0] - margin), cols[-1] + 1 + margin),
    )


def max_filter(values: np.ndarray, size: int) -> np.ndarray:
    """The maximum over a ``size`` x ``size`` square around each pixel (float32)."""
    kernel = np.ones((size, size), np.uint8)
    return cv2.dilate(values.astype(np.float32), kernel, borderType=cv2.BORDER_REPLICATE)


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
        centres_lab = lab(centres[None].astype(np.uint8))[0]
        self._tree = cKDTree(centres_lab) if common.size else None
        self._lightness = np.sort(centres_lab[:, 0].astype(np.float64))

    def near(
        self, rgb_pixels: np.ndarray, delta_e: float, lab_pixels: np.ndarray | None = None
    ) -> np.ndarray:
        """For each pixel: is a common colour of the region within ``delta_e``?

        ``lab_pixels`` are the same pixels in Lab when the caller has them already.
        """
        if self._tree is None or rgb_pixels.size == 0:
            return np.zeros(len(rgb_pixels), dtype=bool)
        query = lab(rgb_pixels) if lab_pixels is None else lab_pixels
        # Only a pixel with a common colour's lightness within reach can be near it: the tree is
        # asked about those alone.  The bound prunes its search; beyond it comes back as inf.
        reach = delta_e * 1.001
        lightness = query[:, 0].astype(np.float64)
        lighter = np.searchsorted(self._lightness, lightness - reach, side="left")
        maybe = np.searchsorted(self._lightness, lightness + reach, side="right") > lighter
        near = np.zeros(len(query), dtype=bool)
        if maybe.any():
            distance, _index = self._tree.query(query[maybe], k=1, distance_upper_bound=reach)
            near[maybe] = distance <= delta_e
        return near


def border_pixels(array: np.ndarray, width: int | None = None) -> np.ndarray:
    """The pixels of a frame ``width`` px wide (default 4 % of the short side) around ``array``."""
    if width is None:
        width = max(2, round(0.04 * min(array.shape[:2])))
    parts = [array[:width], array[-width:], array[:, :width], array[:, -width:]]
    return np.concatenate([p.reshape(-1, *array.shape[2:]) for p in parts])


def sample(pixels: np.ndarray, limit: int = SAMPLE) -> np.ndarray:
    """Every n-th pixel, at most about ``limit`` of them."""
    step = max(1, len(pixels) // limit)
    return pixels[::step]


def pixels_at(values: np.ndarray, region: np.ndarray, limit: int | None = None) -> np.ndarray:
    """``values[region]``: the values at a boolean map's pixels, row by row (``sample``d to about
    ``limit`` when given), gathered by index, which numpy does faster than by mask for colours."""
    index = np.flatnonzero(region)
    if limit is not None:
        index = sample(index, limit)
    return np.take(values.reshape(-1, *values.shape[region.ndim :]), index, axis=0)


class Cut:
    """A cut at work size (pixels with mask ≥ 0.5) and its distance maps, each computed once.

    The measures and detectors of one cut-out share one ``Cut``, so no distance map is computed twice.
    """

    def __init__(self, mask: np.ndarray) -> None:
        self.hard = mask >= 0.5

    @classmethod
    def of(cls, mask: np.ndarray | Cut) -> Cut:
        """``mask`` itself when it is a ``Cut`` already, else the cut of a 0..1 mask."""
        return mask if isinstance(mask, Cut) else cls(mask)

    @cached_property
    def depth_in(self) -> np.ndarray:
        """Distance of each subject pixel to the background (0 outside the subject)."""
        return depth(self.hard)

    @cached_property
    def depth_out(self) -> np.ndarray:
        """Distance of each background pixel to the subject (0 inside the subject)."""
        return depth(~self.hard)


def fill_holes(region: np.ndarray) -> np.ndarray:
    """``region`` with every hole filled: what is outside it and 4-connected to no image border
    (scipy's ``binary_fill_holes``)."""
    count, labels = cv2.connectedComponents((~region).astype(np.uint8), connectivity=4)
    if count <= 1:
        return region.copy()
    outer = np.zeros(count, dtype=bool)
    for edge in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        outer[edge] = True
    outer[0] = False  # label 0 is the region itself
    return np.asarray(~outer[labels])


def pieces(labels: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The pixels of the labelled pieces ``chosen`` marks (``chosen[i]`` for label ``i + 1``)."""
    return np.concatenate(([False], chosen))[labels]


def components(region: np.ndarray, connectivity: int = 8) -> np.ndarray:
    """Pixel counts of the connected components of a boolean ``region`` (empty when it has none)."""
    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(
        region.astype(np.uint8), connectivity=connectivity
    )
    return np.asarray(stats[1:count, cv2.CC_STAT_AREA])


class Photo:
    """A photo at work size (H, W, 3 uint8) and its Lab pixels, computed once for every measure."""

    def __init__(self, rgb: np.ndarray) -> None:
        self.rgb = rgb

    @classmethod
    def of(cls, rgb: np.ndarray | Photo) -> Photo:
        """``rgb`` itself when it is a ``Photo`` already, else the photo of a uint8 RGB array."""
        return rgb if isinstance(rgb, Photo) else cls(rgb)

    @cached_property
    def lab(self) -> np.ndarray:
        """CIE Lab of every pixel."""
        return lab(self.rgb)

    @cached_property
    def grey(self) -> np.ndarray:
        """The mean of the three channels of every pixel (float32; ``rgb.astype(float32).mean(axis=2)``)."""
        total = self.rgb[..., 0].astype(np.float32)
        total += self.rgb[..., 1]
        total += self.rgb[..., 2]
        total /= 3
        return total


_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def erode(region: np.ndarray, iterations: int = 1) -> np.ndarray:
    """Binary erosion by the 3 x 3 cross, the image border eroding (scipy's ``binary_erosion``)."""
    eroded = cv2.erode(
        region.astype(np.uint8), _CROSS, iterations=iterations, borderType=cv2.BORDER_CONSTANT, borderValue=0
    )
    return eroded.astype(bool)


def opening(region: np.ndarray) -> np.ndarray:
    """Binary opening by the 3 x 3 cross, the image border eroding (scipy's ``binary_opening``)."""
    opened = cv2.morphologyEx(
        region.astype(np.uint8), cv2.MORPH_OPEN, _CROSS, borderType=cv2.BORDER_CONSTANT, borderValue=0
    )
    return np.asarray(opened, dtype=bool)


def gaussian(values: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """Gaussian blur with scipy's kernel (radius ``truncate`` x ``sigma``) and mirrored border, in float32."""
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    kernel = (kernel / kernel.sum()).astype(np.float32)
    return cv2.sepFilter2D(values.astype(np.float32), -1, kernel, kernel, borderType=cv2.BORDER_REFLECT)


def gradient(grey: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of a float32 grey image, ÷ 8 (grey levels per pixel)."""
    dx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT)
    dy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT)
    return np.asarray(cv2.magnitude(dx, dy)) / 8
