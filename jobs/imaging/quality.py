"""QA gates: measure a cut-out and its studio result, then map the scores to pass/review/fail.

Mask and edge measures run on the source photo and mask (scaled to at most ``WORK_SIDE``); colour
fidelity and background purity run on the decoded output bytes, so they judge what a store gets.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

from jobs.imaging.background_parts import background_part_scores
from jobs.imaging.errors import ConfigurationError
from jobs.imaging.gates import STAGES, VERDICT_ORDER, Gate, Stage
from jobs.imaging.measure import (
    CAMOUFLAGE_DE,
    SAMPLE,
    Cut,
    Palette,
    Photo,
    border_pixels,
    components,
    erode,
    fill_holes,
    gaussian,
    lab,
    pixels_at,
    sample,
    within,
)
from jobs.imaging.misplaced_edge import misplaced_edge_score
from jobs.imaging.people import people_score
from jobs.imaging.reflection import reflection_score
from jobs.imaging.settings import Thresholds
from jobs.imaging.studio import Layout

WORK_SIDE = 640
#: Background purity is sampled on a grid of at most this many points a side.
PURITY_SIDE = 1024
#: Below this CIE76 delta E subject and background are hard to tell apart.
SEPARATION = 14.0
#: A backdrop whose border needs at most this many colour bins (of 4096) for 95 % of it is plain.
PLAIN_BACKDROP_BINS = 40
#: Anti-aliasing makes a soft band this wide (work px) along a crisp edge; softness beyond it is indecision.
SOFT_EDGE_PX = 3.0


@dataclass
class Judgement:
    """The verdict of all gates with the reasons of every gate that did not pass."""

    verdict: str
    reasons: list[str] = field(default_factory=list)
    #: The gates that did not pass, in the order of ``reasons``.
    gates: list[Gate] = field(default_factory=list)


def _work_size(size: tuple[int, int]) -> tuple[int, int]:
    scale = min(1.0, WORK_SIDE / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _local_mean(
    lab: np.ndarray, weight: np.ndarray, sigma: float, at: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Normalised convolution: the mean Lab of ``weight`` pixels around each pixel ``at`` (rows,
    columns), and its support.

    Both fields are smooth, so they are computed at half size and read at the nearest half-size pixel.
    """
    small_w = weight[::2, ::2].astype(np.float32)
    support = gaussian(small_w, sigma / 2, truncate=2.0)
    means = np.empty((*small_w.shape, 3), np.float32)
    for c in range(3):
        blurred = gaussian(lab[::2, ::2, c] * small_w, sigma / 2, truncate=2.0)
        means[..., c] = blurred / np.maximum(support, 1e-6)
    rows, cols = at[0] // 2, at[1] // 2
    return means[rows, cols], support[rows, cols]


def mask_scores(mask: np.ndarray, cut: Cut | None = None, raw: np.ndarray | None = None) -> dict[str, float]:
    """Mask sanity on a 0..1 mask: area, edges touched, main component, fine structure, indecision.

    ``raw`` is the model's mask before cleaning, when there is one: indecision is judged there,
    because cleaning removes the fog that shows it.
    """
    cut = cut or Cut(mask)
    hard = cut.hard
    total = int(hard.sum())
    scores: dict[str, float] = {"mask_area": total / hard.size}
    sides = (hard[0], hard[-1], hard[:, 0], hard[:, -1])
    scores["edges_touched"] = float(sum(bool(side.mean() > 0.005) for side in sides))
    if total == 0:
        scores.update(main_component=0.0, thin_structure=0.0, uncertain=0.0)
        if raw is not None:
            scores["uncertain"] = uncertainty(raw)
        return scores
    scores["main_component"] = float(components(hard).max() / total)
    radius = max(1, round(0.012 * float(np.sqrt(total))))
    opened = within(cut.depth_in > radius, radius)
    scores["thin_structure"] = float((hard & ~opened).sum() / total)
    scores["uncertain"] = uncertainty(mask, hard) if raw is None else uncertainty(raw)
    return scores


def uncertainty(mask: np.ndarray, hard: np.ndarray | None = None) -> float:
    """Share of the mask that is neither clearly subject nor background, away from the anti-aliased edge."""
    hard = mask >= 0.5 if hard is None else hard
    soft = (mask > 0.15) & (mask < 0.85)
    boundary = hard ^ erode(hard)
    away = ~within(boundary, SOFT_EDGE_PX)
    return float((soft & away).sum() / max(int((hard | soft).sum()), 1))


def edge_scores(rgb: np.ndarray | Photo, mask: np.ndarray | Cut) -> dict[str, float]:
    """Edge and colour measures of a cut on its own photo (both at work size).

    ``halo``: share of the inner edge band that looks like the local background (background kept);
    ``clipped``: share of the outer band that looks like the local subject (subject cut away),
    including subject-coloured pixels a plain backdrop does not have;
    ``low_contrast``: share of the edge where subject and background are closer than SEPARATION;
    ``new_holes``: holes in the subject not showing background colours, as a share of the subject;
    ``camouflage``: share of the subject coloured like a plain backdrop (reflective, dark-on-dark).
    """
    photo, cut = Photo.of(rgb), Cut.of(mask)
    rgb, hard = photo.rgb, cut.hard
    total = int(hard.sum())
    if total == 0 or hard.all():
        return {"halo": 0.0, "clipped": 0.0, "low_contrast": 0.0, "new_holes": 0.0, "camouflage": 0.0}
    lab_px = photo.lab
    r = max(2, round(0.006 * max(hard.shape)))
    filled = fill_holes(hard)
    depth_in, depth_out = cut.depth_in, cut.depth_out
    inner_band, outer_band = hard & (depth_in <= r), (depth_out <= r) & ~hard
    fg_ref = (depth_in > r) & (depth_in <= 4 * r)
    bg_ref = (depth_out <= 4 * r) & (depth_out > r)
    # every edge measure looks at the two bands along the cut only
    rows, cols = np.nonzero(inner_band | outer_band)
    at = (rows, cols)
    inner, outer = inner_band[at], outer_band[at]
    sigma = 3.0 * r
    fg, fg_w = _local_mean(lab_px, fg_ref.astype(np.float32), sigma, at)
    bg, bg_w = _local_mean(lab_px, bg_ref.astype(np.float32), sigma, at)
    band_lab = lab_px[rows, cols]
    valid = (fg_w > 0.02) & (bg_w > 0.02)
    separation = np.linalg.norm(fg - bg, axis=-1)
    d_fg = np.linalg.norm(band_lab - fg, axis=-1)
    d_bg = np.linalg.norm(band_lab - bg, axis=-1)
    distinct = valid & (separation >= SEPARATION)
    backdrop = Palette(border_pixels(rgb))
    plain = backdrop.spread <= PLAIN_BACKDROP_BINS
    clipped = outer & distinct & (d_fg < 0.5 * d_bg)
    if plain:
        foreign = np.zeros_like(outer)
        foreign[outer] = ~backdrop.near(rgb[rows[outer], cols[outer]], CAMOUFLAGE_DE, band_lab[outer])
        clipped |= outer & ~distinct & valid & (d_fg < SEPARATION) & foreign
    scores = {
        "halo": _share(inner & distinct, d_bg < 0.5 * d_fg),
        "clipped": _share(outer, clipped),
        "low_contrast": _share(valid, separation < SEPARATION),
        "new_holes": _new_holes(rgb, hard, filled, bg_ref & ~filled),
        "camouflage": 0.0,
    }
    if plain:
        subject = depth_in > 2
        if subject.any():
            scores["camouflage"] = float(backdrop.near(pixels_at(rgb, subject, SAMPLE), CAMOUFLAGE_DE).mean())
    return scores


def _share(region: np.ndarray, condition: np.ndarray) -> float:
    count = int(region.sum())
    return float((region & condition).sum() / count) if count else 0.0


def _new_holes(rgb: np.ndarray, hard: np.ndarray, filled: np.ndarray, outside: np.ndarray) -> float:
    """Share of the filled subject in holes whose pixels do not look like the background outside."""
    holes = filled & ~hard
    if not holes.any():
        return 0.0
    palette = Palette(pixels_at(rgb, outside, SAMPLE) if outside.any() else border_pixels(rgb))
    labels, _count = ndimage.label(holes)
    minimum = max(4, int(0.0005 * filled.sum()))
    bad = 0
    for index, piece in enumerate(ndimage.find_objects(labels), start=1):
        if piece is None:
            continue
        region = labels[piece] == index
        area = int(region.sum())
        if area >= minimum and palette.near(sample(rgb[piece][region]), CAMOUFLAGE_DE).mean() < 0.5:
            bad += area
    return float(bad / max(int(filled.sum()), 1))


def cut_scores(
    rgb: Image.Image, mask: Image.Image, edges: bool = True, raw: Image.Image | None = None
) -> dict[str, float]:
    """Mask scores of ``mask`` and, with ``edges``, its edge scores on ``rgb`` (at work size).

    ``raw`` is the model's mask before cleaning: its indecision (``uncertain``) is judged there,
    because cleaning removes the fog that shows it.
    """
    size = _work_size(rgb.size)
    small_mask = _small(mask, size)
    cut = Cut(small_mask)
    scores = mask_scores(small_mask, cut, None if raw is None else _small(raw, size))
    if edges:
        small = Photo(np.asarray(rgb.convert("RGB").resize(size, Image.Resampling.BOX)))
        scores.update(edge_scores(small, cut))
        scores.update(detector_scores(small, cut))
    return scores


def detector_scores(rgb: np.ndarray | Photo, mask: np.ndarray | Cut) -> dict[str, float]:
    """The failure detectors' scores: reflection, filled holes, background patches, people, misplaced edge."""
    photo, cut = Photo.of(rgb), Cut.of(mask)
    scores = {
        "reflection": reflection_score(photo.rgb, cut),
        "people": people_score(photo.rgb, cut),
        "misplaced_edge": misplaced_edge_score(photo, cut),
    }
    scores.update(background_part_scores(photo, cut))
    return scores


def _small(mask: Image.Image, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(mask.convert("L").resize(size, Image.Resampling.BOX), dtype=np.float32) / 255.0


def output_scores(
    output: bytes,
    rgb: Image.Image,
    layout: Layout,
    subject_alpha: Image.Image,
    shadow: Image.Image | None,
    background: tuple[int, int, int, int],
) -> dict[str, float]:
    """Measures of the encoded result: colour fidelity, background purity, resolution, upscale, fill."""
    decoded: Image.Image = Image.open(io.BytesIO(output))
    decoded.load()
    if decoded.mode not in ("RGB", "RGBA"):
        decoded = decoded.convert("RGBA")
    result = np.asarray(decoded)  # H x W x 3 (opaque) or 4
    x0, y0, x1, y1 = layout.placed
    scores = {
        "resolution": min(1.0, layout.scale / layout.expected_scale),
        "upscale": float(layout.scale),
        "fill": float(layout.fill),
        "color_fidelity": _colour_fidelity(result, rgb, layout, subject_alpha),
        "background_purity": _purity(result, subject_alpha, shadow, background),
    }
    if (x1 - x0) <= 0 or (y1 - y0) <= 0:
        scores["fill"] = 0.0
    return scores


def _opaque(pixels: np.ndarray) -> np.ndarray:
    """Which pixels of an RGB(A) array are fully opaque."""
    return pixels[..., 3] == 255 if pixels.shape[-1] == 4 else np.ones(pixels.shape[:2], dtype=bool)


def _colour_fidelity(
    result: np.ndarray, rgb: Image.Image, layout: Layout, subject_alpha: Image.Image
) -> float:
    x0, y0, x1, y1 = layout.placed
    size = (x1 - x0, y1 - y0)
    reference = rgb.convert("RGB").crop(layout.box).resize(size, Image.Resampling.LANCZOS)
    got = _crop(result, layout.placed)
    alpha = np.asarray(subject_alpha.crop(layout.placed)) >= 250
    solid = erode(alpha, iterations=2) & _opaque(got)
    if solid.sum() < 16:
        return 0.0
    step = max(1, int(np.sqrt(solid.sum() / 40_000)))
    ref = np.asarray(reference)[::step, ::step][solid[::step, ::step]]
    out = got[::step, ::step, :3][solid[::step, ::step]]
    delta = np.linalg.norm(lab(ref[None]) - lab(out[None]), axis=-1)
    return float(delta.mean())


def _crop(pixels: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """``pixels`` cropped to ``box`` as PIL crops (the part outside the array, if any, transparent black)."""
    x0, y0, x1, y1 = box
    height, width = pixels.shape[:2]
    if x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height:
        return pixels[y0:y1, x0:x1]
    out = np.zeros((max(0, y1 - y0), max(0, x1 - x0), pixels.shape[2]), dtype=pixels.dtype)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = pixels[sy0:sy1, sx0:sx1]
    return out


def _purity(
    result: np.ndarray,
    subject_alpha: Image.Image,
    shadow: Image.Image | None,
    background: tuple[int, int, int, int],
) -> float:
    size = (result.shape[1], result.shape[0])
    step = max(1, -(-max(size) // PURITY_SIDE))
    occupied = np.asarray(subject_alpha)[::step, ::step] > 0
    if shadow is not None:
        occupied |= np.asarray(shadow)[::step, ::step] > 0
    reach = max(4, round(0.012 * max(size)))
    occupied = within(occupied, max(1, -(-reach // step)))
    free = ~occupied
    if not free.any():
        return 1.0
    grid = result[::step, ::step]
    count = int(free.sum())
    if background[3] == 0:
        clear = grid[..., 3] == 0 if grid.shape[-1] == 4 else np.zeros(free.shape, dtype=bool)
        return float(np.count_nonzero(clear & free) / count)
    tolerance = 0 if background[:3] == (255, 255, 255) else 3
    low = tuple(max(0, c - tolerance) for c in background[:3])
    high = tuple(min(255, c + tolerance) for c in background[:3])
    # every channel within the tolerance of the backdrop's, and opaque
    ok = cv2.inRange(np.ascontiguousarray(grid[..., :3]), low, high).astype(bool) & _opaque(grid)
    return float(np.count_nonzero(ok & free) / count)


def judge(scores: dict[str, float], thresholds: Thresholds, stages: Iterable[Stage] = STAGES) -> Judgement:
    """The worst verdict over every gate of ``stages``, with a reason per gate that did not pass.

    A gate of a stage that ran must have its score: a missing score raises ``ConfigurationError``
    (a gate that cannot be checked never passes silently).
    """
    ran = set(stages)
    judgement = Judgement("pass")
    for gate in thresholds.typed():
        if gate.stage not in ran:
            continue
        if gate.score not in scores:
            raise ConfigurationError(
                f"QA gate {gate.name} has no {gate.score} score to judge",
                hint="the pipeline did not measure it; the result is held back until it does",
            )
        value = float(scores[gate.score])
        outcome = gate.verdict(value)
        if outcome == "pass":
            continue
        judgement.reasons.append(gate.reason(value, outcome))
        judgement.gates.append(gate)
        if VERDICT_ORDER[outcome] > VERDICT_ORDER[judgement.verdict]:
            judgement.verdict = outcome
    return judgement
