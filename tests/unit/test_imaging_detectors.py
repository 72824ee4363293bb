"""The failure detectors, each on a photo made for it with a right and a wrong mask (no model)."""

from __future__ import annotations

import numpy as np
import pytest

from jobs.imaging.background_parts import background_part_scores
from jobs.imaging.misplaced_edge import misplaced_edge_score
from jobs.imaging.people import people_score
from jobs.imaging.reflection import reflection_score

pytestmark = pytest.mark.unit

SIDE = 240


def _cylinder(colour: tuple[int, int, int], x0: int, x1: int) -> np.ndarray:
    """Full-frame shading of a cylinder spanning columns x0..x1 (bright middle, dark sides)."""
    u = np.clip((np.arange(SIDE) - (x0 + x1) / 2) / ((x1 - x0) / 2), -1, 1)
    light = 0.45 + 0.55 * np.sqrt(1 - u * u)
    return np.array(colour, np.float32)[None, None, :] * light[None, :, None] * np.ones((SIDE, 1, 1))


def _box(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    mask = np.zeros((SIDE, SIDE), np.float32)
    mask[y0:y1, x0:x1] = 1.0
    return mask


def _photo(background: np.ndarray, subject: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return np.clip(background * (1 - alpha[..., None]) + subject * alpha[..., None], 0, 255).astype(np.uint8)


def test_a_reflection_kept_as_subject_is_found() -> None:
    floor = np.full((SIDE, SIDE, 3), 236.0, np.float32)
    product = _box(40, 130, 90, 150)
    subject = _cylinder((30, 70, 160), 90, 150)
    mirrored = np.zeros_like(product)
    mirrored[130:220] = product[40:130][::-1]
    fade = np.zeros(SIDE, np.float32)
    fade[130:220] = 0.5 * np.exp(-np.arange(90) / 45)
    image = _photo(floor, subject, product)
    image = _photo(image.astype(np.float32), subject[::-1], mirrored * fade[:, None])
    assert reflection_score(image, product) == 0.0  # the product alone: nothing mirrored
    with_reflection = reflection_score(image, np.maximum(product, mirrored))
    assert with_reflection > 0.3  # about half the cut is the floor's mirror image


def test_a_product_symmetric_top_to_bottom_is_no_reflection() -> None:
    backdrop = np.full((SIDE, SIDE, 3), 230.0, np.float32)
    y, x = np.mgrid[:SIDE, :SIDE]
    ball = (((x - 120) ** 2 + (y - 120) ** 2) <= 70**2).astype(np.float32)
    image = _photo(backdrop, _cylinder((180, 40, 50), 50, 190), ball)
    assert reflection_score(image, ball) == 0.0


def _lace() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A disc punched with a grid of holes on a plain blue backdrop: (photo, true mask, filled mask)."""
    y, x = np.mgrid[:SIDE, :SIDE]
    disc = ((x - 120) ** 2 + (y - 120) ** 2) <= 90**2
    holes = (((x - 6) % 24 - 12) ** 2 + ((y - 6) % 24 - 12) ** 2) <= 5**2
    truth = (disc & ~holes).astype(np.float32)
    backdrop = np.broadcast_to(np.array((50, 60, 110), np.float32), (SIDE, SIDE, 3))
    image = _photo(backdrop, np.full((SIDE, SIDE, 3), 225.0, np.float32), truth)
    return image, truth, disc.astype(np.float32)


def test_holes_filled_with_the_background_are_found() -> None:
    image, truth, filled = _lace()
    assert background_part_scores(image, truth)["filled_holes"] == 0.0
    assert background_part_scores(image, filled)["filled_holes"] > 0.05


def test_a_clear_body_showing_the_backdrop_is_not_a_filled_hole() -> None:
    backdrop = np.full((SIDE, SIDE, 3), 220.0, np.float32)
    bottle = _box(40, 200, 80, 160)
    rim = bottle - _box(46, 194, 86, 154)
    image = _photo(backdrop, np.full((SIDE, SIDE, 3), 40.0, np.float32), rim)  # glass: only its rim shows
    assert background_part_scores(image, bottle)["filled_holes"] == 0.0


def test_a_patch_of_background_attached_to_the_subject_is_found() -> None:
    rng = np.random.default_rng(3)
    stripes = np.broadcast_to((np.arange(SIDE)[None, :] // 6 % 2).astype(np.float32), (SIDE, SIDE))
    busy = np.stack([60 + 140 * stripes, 150 - 60 * stripes, 40 + 20 * rng.random((SIDE, SIDE))], axis=-1)
    bottle = _box(50, 200, 100, 150)
    image = _photo(busy, _cylinder((20, 30, 200), 100, 150), bottle)
    assert background_part_scores(image, bottle)["background_patches"] < 0.01
    patched = np.maximum(bottle, _box(80, 130, 150, 190))  # a block of the busy scene kept on its side
    assert background_part_scores(image, patched)["background_patches"] > 0.1


def _held_product(product_colour: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A product held by a hand and forearm from below: (photo, product mask, product + hand mask)."""
    backdrop = np.full((SIDE, SIDE, 3), 238.0, np.float32)
    product = _box(30, 150, 90, 150)
    hand = _box(140, SIDE, 100, 140)
    hand[135:165, 80:160] = 1.0
    hand = hand * (1 - product)
    image = _photo(backdrop, _cylinder(product_colour, 90, 150), product)
    image = _photo(image.astype(np.float32), np.full((SIDE, SIDE, 3), (214, 160, 122), np.float32), hand)
    return image, product, np.maximum(product, hand)


def test_a_hand_kept_in_the_cut_out_is_found() -> None:
    image, product, with_hand = _held_product((40, 90, 170))
    assert people_score(image, product) == 0.0  # the hand left out of the cut-out is not published
    assert people_score(image, with_hand) > 0.15


def test_a_skin_toned_product_is_not_a_person() -> None:
    backdrop = np.full((SIDE, SIDE, 3), 238.0, np.float32)
    bag = _box(40, 200, 60, 180)
    image = _photo(backdrop, _cylinder((205, 150, 112), 60, 180), bag)  # tan leather, light and shade
    assert people_score(image, bag) == 0.0


def test_a_cut_through_flat_background_around_the_real_edge_is_found() -> None:
    backdrop = np.full((SIDE, SIDE, 3), 230.0, np.float32)
    bottle = _box(40, 200, 90, 150)
    image = _photo(backdrop, _cylinder((160, 30, 40), 90, 150), bottle)
    assert misplaced_edge_score(image, bottle) < 0.05
    assert misplaced_edge_score(image, _box(28, 212, 78, 162)) > 0.8  # a 12 px band of backdrop kept
    dark = _photo(
        np.full((SIDE, SIDE, 3), 24.0, np.float32), np.full((SIDE, SIDE, 3), 30.0, np.float32), bottle
    )
    assert misplaced_edge_score(dark, bottle) == 0.0  # dark on dark: no edge anywhere to misplace


def test_a_wire_cage_kept_solid_is_found_though_its_gaps_are_large() -> None:
    y, x = np.mgrid[:SIDE, :SIDE]
    cage = np.zeros((SIDE, SIDE), bool)
    for half in range(10, 80, 10):  # the loops of a whisk, one pixel wide
        ring = ((x - 120) / half) ** 2 + ((y - 120) / 80) ** 2
        cage |= np.abs(ring - 1) < 1.2 / half
    outer = (((x - 120) / 80) ** 2 + ((y - 120) / 80) ** 2) <= 1
    backdrop = np.full((SIDE, SIDE, 3), 228.0, np.float32)
    image = _photo(backdrop, np.full((SIDE, SIDE, 3), (60, 90, 160), np.float32), cage.astype(np.float32))
    assert background_part_scores(image, outer.astype(np.float32))["filled_holes"] > 0.3
