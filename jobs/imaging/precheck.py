"""Look before cutting: an input already on a clean white or transparent background needs no model
(skip it, or only re-frame it); a mask with no single subject is a lifestyle scene for a person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from jobs.imaging.loading import LoadedImage
from jobs.imaging.measure import border_pixels
from jobs.imaging.settings import PipelineSettings

#: Share of the border that must be on the clean background for the input to count as clean.
CLEAN_BORDER_SHARE = 0.985
#: A piece of the mask counts as a subject of its own from this share of the whole mask.
SIGNIFICANT_PIECE = 0.08
#: The largest piece must hold this share of the mask for the photo to have one main subject.
DOMINANT_PIECE = 0.85


@dataclass(frozen=True)
class PreCheck:
    """What the input looks like before cutting."""

    #: "transparent" (alpha already cut), "white" (clean white border) or "photo" (needs the model).
    kind: str
    reason: str
    #: Share of border pixels on the clean background.
    border_clean: float

    @property
    def clean(self) -> bool:
        """True when the input already is on a clean white or transparent background."""
        return self.kind in ("transparent", "white")


def precheck(loaded: LoadedImage, settings: PipelineSettings) -> PreCheck:
    """Classify the input as already transparent, already on clean white, or a photo to cut."""
    image = loaded.image
    width = max(2, round(0.01 * min(image.size)))
    if loaded.has_alpha:
        alpha = border_pixels(np.asarray(image.getchannel("A")), width)
        share = float((alpha < 16).mean())
        if share >= CLEAN_BORDER_SHARE:
            return PreCheck("transparent", "input already has a transparent background", share)
    rgb = border_pixels(np.asarray(image.convert("RGB"), dtype=np.int16), width)
    near_white = (255 - rgb).max(axis=1) <= settings.white_tolerance
    share = float(near_white.mean())
    if share >= CLEAN_BORDER_SHARE:
        return PreCheck("white", "input already on a clean white background", share)
    return PreCheck("photo", "background needs removing", share)


def single_subject_problem(mask: Image.Image) -> str | None:
    """Why ``mask`` shows no single subject (a lifestyle scene), or None when it has one."""
    small = mask.convert("L")
    small.thumbnail((512, 512), Image.Resampling.BOX)
    hard = np.asarray(small) >= 128
    total = int(hard.sum())
    if total < 0.002 * hard.size:
        return "no clear subject found: a blank image or a scene without one product"
    labels, count = ndimage.label(hard, structure=np.ones((3, 3), bool))
    sizes = np.sort(ndimage.sum_labels(hard, labels, index=np.arange(1, count + 1)))[::-1] / total
    pieces = int((sizes >= SIGNIFICANT_PIECE).sum())
    if pieces >= 2 and sizes[0] < DOMINANT_PIECE:
        return f"lifestyle scene: {pieces} separate subjects, none dominant"
    edges = sum(bool(side.mean() > 0.5) for side in (hard[0], hard[-1], hard[:, 0], hard[:, -1]))
    if edges == 4 and total > 0.85 * hard.size:
        return "lifestyle scene: the whole frame is foreground"
    return None
